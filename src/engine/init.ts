/**
 * Parameter initialisers: host tensors filled from a seeded {@link Rng} (same seed, same values).
 */
import type { Rng } from '../util/rng.ts';
import { type DType, hostTensor, type HostTensor } from './dtype.ts';

export function zeros(shape: number[], dtype: DType = 'float32'): HostTensor {
  return hostTensor(dtype, shape);
}

export function ones(shape: number[], dtype: DType = 'float32'): HostTensor {
  const t = hostTensor(dtype, shape);
  (t.data as Float32Array).fill(1);
  return t;
}

/** Normal(0, std^2). */
export function normal(rng: Rng, shape: number[], std: number, dtype: DType = 'float32'): HostTensor {
  const t = hostTensor(dtype, shape);
  const d = t.data as Float32Array;
  for (let i = 0; i < d.length; i++) d[i] = rng.normal() * std;
  return t;
}

/** Uniform(-a, a). */
export function uniform(rng: Rng, shape: number[], a: number, dtype: DType = 'float32'): HostTensor {
  const t = hostTensor(dtype, shape);
  const d = t.data as Float32Array;
  for (let i = 0; i < d.length; i++) d[i] = (rng.float() * 2 - 1) * a;
  return t;
}

/** torch.nn.Linear's default for a weight [in, out]: Uniform(-1/sqrt(in), 1/sqrt(in)). */
export function linearInit(rng: Rng, fanIn: number, fanOut: number, dtype: DType = 'float32'): HostTensor {
  return uniform(rng, [fanIn, fanOut], 1 / Math.sqrt(fanIn), dtype);
}

