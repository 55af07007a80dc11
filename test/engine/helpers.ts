/** Small models and data for the engine tests. */
import { type HostTensor, hostTensor } from '../../src/engine/index.ts';
import { mlpGraph } from './models.ts';
import { Rng } from '../../src/util/rng.ts';

/** MLP 4 -> hidden -> 2 classes for the "same sign" task (label = x0 * x1 > 0). */
export function mlp(seed: number, hidden = 16) {
  return mlpGraph([4, hidden, 2], seed);
}

export function signBatch(rng: Rng, B: number): { x: HostTensor; y: HostTensor } {
  const xs: number[] = [], ys: number[] = [];
  for (let b = 0; b < B; b++) {
    const a = [rng.normal(), rng.normal(), rng.normal(), rng.normal()];
    xs.push(...a);
    ys.push(a[0] * a[1] > 0 ? 1 : 0);
  }
  return { x: hostTensor('float32', [B, 4], xs), y: hostTensor('int64', [B], ys) };
}

/** Stacks K batches along a new leading axis. */
export function stack(batches: Record<string, HostTensor>[]): Record<string, HostTensor> {
  const out: Record<string, HostTensor> = {};
  for (const k of Object.keys(batches[0])) {
    const parts = batches.map((b) => b[k]);
    const n = parts[0].data.length;
    const data = new (parts[0].data.constructor as new (n: number) => HostTensor['data'])(n * parts.length);
    parts.forEach((p, i) => (data as Float32Array).set(p.data as Float32Array, i * n));
    out[k] = { dtype: parts[0].dtype, shape: [parts.length, ...parts[0].shape], data };
  }
  return out;
}

export function scalar(t: HostTensor): number {
  return Number(t.data[0]);
}

export function sameBits(a: HostTensor, b: HostTensor): boolean {
  const x = new Uint8Array(a.data.buffer, a.data.byteOffset, a.data.byteLength);
  const y = new Uint8Array(b.data.buffer, b.data.byteOffset, b.data.byteLength);
  return a.dtype === b.dtype && x.length === y.length && x.every((v, i) => v === y[i]);
}
