/**
 * Optimizers as graph code: given a param, its gradient and its state tensors, the updated param and state.
 * `lr` is a float scalar graph input (schedules are computed by the caller per step); `t` is the 1-based
 * step number as a float scalar (for bias correction).
 */
import { hostTensor, type HostTensor } from './dtype.ts';
import type { Param, Tensor } from './graph.ts';
import { add, div, mul, pow, sqrt, sub } from './ops/elementwise.ts';

export interface Optimizer {
  name: string;
  /** Names (suffixes) of the per-param state tensors, each initialised to zeros of the param's shape. */
  slots: string[];
  update(p: Param, grad: Tensor, state: Tensor[], lr: Tensor, t: Tensor): { param: Tensor; state: Tensor[] };
}

export interface SgdOptions {
  momentum?: number;
}

/** SGD, with heavy-ball momentum when `momentum` > 0 (torch.optim.SGD without dampening). */
export function sgd(opts: SgdOptions = {}): Optimizer {
  const mom = opts.momentum ?? 0;
  return {
    name: 'sgd',
    slots: mom > 0 ? ['buf'] : [],
    update(p, g, state, lr) {
      if (mom === 0) return { param: sub(p.tensor, mul(lr, g)), state: [] };
      // torch sets buf = g on the first step, which is what this gives from buf = 0
      const buf = add(mul(state[0], mom), g);
      return { param: sub(p.tensor, mul(lr, buf)), state: [buf] };
    },
  };
}

export interface AdamOptions {
  beta1?: number;
  beta2?: number;
  eps?: number;
  /** Decoupled weight decay (AdamW); applies to params with `decay` set (default: matrices). */
  weightDecay?: number;
}

/**
 * AdamW as torch.optim.AdamW (single-tensor path):
 *   p -= lr wd p;  m = b1 m + (1-b1) g;  v = b2 v + (1-b2) g^2;
 *   p -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps).
 */
export function adamw(opts: AdamOptions = {}): Optimizer {
  const b1 = opts.beta1 ?? 0.9, b2 = opts.beta2 ?? 0.999, eps = opts.eps ?? 1e-8, wd = opts.weightDecay ?? 0.01;
  return {
    name: 'adamw',
    slots: ['m', 'v'],
    update(p, g, [m, v], lr, t) {
      let w = p.tensor;
      if (wd > 0 && p.decay) w = mul(w, sub(1, mul(lr, wd)));
      const m2 = add(mul(m, b1), mul(g, 1 - b1));
      const v2 = add(mul(v, b2), mul(mul(g, g), 1 - b2));
      const bc1 = sub(1, pow(t.graph.scalar(b1, t.dtype), t));
      const bc2 = sub(1, pow(t.graph.scalar(b2, t.dtype), t));
      const stepSize = div(lr, bc1);
      const denom = add(div(sqrt(v2), sqrt(bc2)), eps);
      return { param: sub(w, mul(stepSize, div(m2, denom))), state: [m2, v2] };
    },
  };
}

/** Adam without weight decay. */
export function adam(opts: Omit<AdamOptions, 'weightDecay'> = {}): Optimizer {
  return { ...adamw({ ...opts, weightDecay: 0 }), name: 'adam' };
}

/** Zero-filled initial state for one slot of a param. */
export function zeroSlot(p: Param): HostTensor {
  return hostTensor(p.value.dtype, p.value.shape);
}
