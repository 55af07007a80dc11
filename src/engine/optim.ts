/**
 * Optimizers as graph code: given every trainable param with its gradient and state tensors, the updated
 * params and state. `lr` is a float scalar graph input (schedules are computed by the caller per step);
 * `t` is the 1-based step number as a float scalar (for bias correction); `scale` (a float scalar, or
 * absent for 1) multiplies every gradient: grad-norm clipping folded into the update's scalars, so that
 * clipping costs no pass over the gradients.
 *
 * Each pass over a param-sized tensor costs about as much as the next (onnxruntime's CPU provider fuses no
 * element-wise chains), so the updates are written with as few of them as the math allows: scalar factors
 * are combined first (scalar ops are free), and Adam's second moment takes g^2 from the grad norm.
 */
import { hostTensor, type HostTensor } from './dtype.ts';
import type { Param, Tensor } from './graph.ts';
import { add, div, mul, pow, sqrt, sub } from './ops/elementwise.ts';

export interface Grad {
  /** d loss / d param, before `scale`. */
  raw: Tensor;
  /** raw * raw (the grad norm's term, shared). */
  sq: Tensor;
}

export interface ParamUpdate {
  p: Param;
  grad: Grad;
  /** One tensor per slot, in the order of `slots`. */
  state: Tensor[];
}

export interface Optimizer {
  name: string;
  /** Names (suffixes) of the per-param state tensors, each initialised to zeros of the param's shape. */
  slots: string[];
  update(params: ParamUpdate[], lr: Tensor, t: Tensor, scale?: Tensor): { param: Tensor; state: Tensor[] }[];
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
    update(params, lr, _t, scale) {
      const lrScaled = scale ? mul(lr, scale) : lr;
      return params.map(({ p, grad, state }) => {
        if (mom === 0) return { param: sub(p.tensor, mul(grad.raw, lrScaled)), state: [] };
        // torch sets buf = g on the first step, which is what this gives from buf = 0
        const buf = add(mul(state[0], mom), scale ? mul(grad.raw, scale) : grad.raw);
        return { param: sub(p.tensor, mul(buf, lr)), state: [buf] };
      });
    },
  };
}

export interface AdamOptions {
  beta1?: number;
  beta2?: number;
  eps?: number;
  /** Decoupled weight decay (AdamW); applies to params with `decay` set (default: matrices). */
  weightDecay?: number;
  /** Learning-rate multiplier per param name (e.g. a faster value head); 1 when absent. */
  lrScale?: (param: string) => number;
}

/**
 * AdamW as torch.optim.AdamW (single-tensor path), g = scale raw:
 *   p -= lr wd p;  m = b1 m + (1-b1) g;  v = b2 v + (1-b2) g^2;
 *   p -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps),
 * computed as (k = sqrt(1 - b2^t), the same value up to rounding):
 *   m = b1 m + (scale (1-b1)) raw;  v = b2 v + (scale^2 (1-b2)) raw^2;
 *   p = (1 - lr wd) p - (lr k / (1 - b1^t)) m / (sqrt(v) + eps k)
 * which is 11 passes over each param-sized tensor (12 with decay) besides the shared raw^2.
 */
export function adamw(opts: AdamOptions = {}): Optimizer {
  const b1 = opts.beta1 ?? 0.9, b2 = opts.beta2 ?? 0.999, eps = opts.eps ?? 1e-8, wd = opts.weightDecay ?? 0.01;
  return {
    name: 'adamw',
    slots: ['m', 'v'],
    update(params, lr, t, scale) {
      const g = t.graph;
      const s1 = scale ? mul(scale, 1 - b1) : g.scalar(1 - b1, t.dtype);
      const s2 = scale ? mul(mul(scale, scale), 1 - b2) : g.scalar(1 - b2, t.dtype);
      const bc1 = sub(1, pow(g.scalar(b1, t.dtype), t));
      const k = sqrt(sub(1, pow(g.scalar(b2, t.dtype), t)));
      const stepSize = div(mul(lr, k), bc1);
      const epsK = mul(k, eps);
      const decay = sub(1, mul(lr, wd));
      return params.map(({ p, grad, state: [m, v] }) => {
        const m2 = add(mul(m, b1), mul(grad.raw, s1));
        const v2 = add(mul(v, b2), mul(grad.sq, s2));
        const w = wd > 0 && p.decay ? mul(p.tensor, decay) : p.tensor;
        const ls = opts.lrScale?.(p.tensor.name!) ?? 1; // params are always named
        return { param: sub(w, mul(div(m2, add(sqrt(v2), epsK)), ls === 1 ? stepSize : mul(stepSize, ls))), state: [m2, v2] };
      });
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
