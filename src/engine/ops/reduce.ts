/**
 * Reductions and normalisations: ReduceSum/Mean/Max, Softmax, LogSoftmax, LayerNorm (opset 17
 * LayerNormalization forward, whose saved mean and 1/std feed a backward built from primitives).
 */
import { DTYPES, type Dim } from '../dtype.ts';
import { type OpDef, type Tensor, dimProduct, normAxis } from '../graph.ts';
import { cast, div, equal, expandLike, exp, mul, neg, sub, sumTo } from './elementwise.ts';
import { matmul } from './matmul.ts';
import { reshape, scatterElementsAdd, unsqueeze } from './shape.ts';

type T = Tensor;

interface ReduceAttrs {
  axes: number[];
  keepdims: boolean;
  [k: string]: unknown;
}

function reduceShape(x: T, { axes, keepdims }: ReduceAttrs, op: string): Dim[] {
  const na = axes.map((a) => normAxis(a, x.rank, op));
  return keepdims ? x.shape.map((d, i) => (na.includes(i) ? 1 : d)) : x.shape.filter((_, i) => !na.includes(i));
}

function reduceOp(name: string, grad: (n: { x: T; y: T; attrs: ReduceAttrs }, dyKeep: T) => T): OpDef<ReduceAttrs> {
  return {
    name,
    infer: ([x], attrs) => {
      if (attrs.axes.length === 0) throw new Error(`${name}: list the axes to reduce (got none)`);
      return [{ dtype: x.dtype, shape: reduceShape(x, attrs, name) }];
    },
    emit: (e, [x], outs, { axes, keepdims }) => e.node(name, [x, e.i64(axes)], outs, { keepdims: keepdims ? 1 : 0 }),
    grad(n, [d]) {
      if (!d) return [null];
      const x = n.inputs[0];
      const na = n.attrs.axes.map((a) => normAxis(a, x.rank, name)).sort((a, b) => a - b);
      const keep = (t: T) => (n.attrs.keepdims ? t : unsqueeze(t, na));
      return [grad({ x, y: keep(n.outputs[0]), attrs: n.attrs }, keep(d))];
    },
  };
}

export const ReduceSum = reduceOp('ReduceSum', ({ x }, d) => expandLike(d, x));
export const ReduceMean = reduceOp('ReduceMean', ({ x, attrs }, d) => div(expandLike(d, x), count(x, attrs.axes)));
/** Ties share the gradient equally (as torch.amax). */
export const ReduceMax = reduceOp('ReduceMax', ({ x, y }, d) => {
  const m = cast(equal(x, expandLike(y, x)), x.dtype);
  return mul(m, expandLike(div(d, sumTo(m, y)), x));
});

export function sum(x: T, axes: number[], keepdims = false): T {
  return x.graph.apply(ReduceSum, [x], { axes, keepdims })[0];
}
export function mean(x: T, axes: number[], keepdims = false): T {
  return x.graph.apply(ReduceMean, [x], { axes, keepdims })[0];
}
export function max(x: T, axes: number[], keepdims = false): T {
  return x.graph.apply(ReduceMax, [x], { axes, keepdims })[0];
}
/** All axes. */
export function sumAll(x: T): T {
  return x.rank === 0 ? x : sum(x, x.shape.map((_, i) => i));
}
export function meanAll(x: T): T {
  return x.rank === 0 ? x : mean(x, x.shape.map((_, i) => i));
}

/** Count: the number of elements on `axes` of x, as a scalar of x's dtype (read at run time if named). */
export const Count: OpDef<{ axes: number[] }> = {
  name: 'Count',
  infer: ([x]) => [{ dtype: x.dtype, shape: [] }],
  emit(e, [x], outs, { axes }, n) {
    const t = n.inputs[0];
    const na = axes.map((a) => normAxis(a, t.rank, 'count'));
    const dims = na.map((a) => t.shape[a]);
    const total = dimProduct(dims);
    if (typeof total === 'number') return e.node('Identity', [e.scalar(total, t.dtype)], outs);
    const s = e.tmp(), g = e.tmp(), p = e.tmp();
    e.node('Shape', [x], [s]);
    e.node('Gather', [s, e.i64(na)], [g], { axis: 0 });
    e.node('ReduceProd', [g, e.i64([0])], [p], { keepdims: 0 });
    e.node('Cast', [p], outs, { to: DTYPES[t.dtype].onnx });
  },
  grad: 'none',
};
export function count(x: T, axes: number[]): T {
  return x.graph.apply(Count, [x], { axes })[0];
}

// ---- softmax ----

export const Softmax: OpDef<{ axis: number }> = {
  name: 'Softmax',
  infer: ([x], { axis }) => (normAxis(axis, x.rank, 'softmax'), [{ dtype: x.dtype, shape: x.shape }]),
  emit: (e, ins, outs, { axis }) => e.node('Softmax', ins, outs, { axis }),
  grad(n, [d]) {
    if (!d) return [null];
    const y = n.outputs[0];
    return [mul(y, sub(d, sum(mul(d, y), [n.attrs.axis], true)))];
  },
};
export const LogSoftmax: OpDef<{ axis: number }> = {
  name: 'LogSoftmax',
  infer: ([x], { axis }) => (normAxis(axis, x.rank, 'logSoftmax'), [{ dtype: x.dtype, shape: x.shape }]),
  emit: (e, ins, outs, { axis }) => e.node('LogSoftmax', ins, outs, { axis }),
  grad(n, [d]) {
    if (!d) return [null];
    return [sub(d, mul(exp(n.outputs[0]), sum(d, [n.attrs.axis], true)))];
  },
};
/**
 * TokenLogProbs(logits [..., V], tokens int [...]) -> log p(token) [...], and the log-softmax [..., V] its
 * gradient reuses. Gradient in the fused form d (onehot(token) - softmax): Exp, Mul and one ScatterElements
 * add over [..., V] (as LogSoftmax + GatherElements rules: zeros, scatter, Exp, ReduceSum, Mul, Sub).
 */
export const TokenLogProbs: OpDef = {
  name: 'TokenLogProbs',
  infer([logits, tokens]) {
    if (tokens.dtype !== 'int64' && tokens.dtype !== 'int32') throw new Error(`tokenLogProbs: tokens must be int64 or int32, got ${tokens}`);
    if (tokens.rank !== logits.rank - 1) throw new Error(`tokenLogProbs: tokens ${tokens} must have the leading dims of logits ${logits}`);
    return [{ dtype: logits.dtype, shape: tokens.shape }, { dtype: logits.dtype, shape: logits.shape }];
  },
  emit(e, [logits, tokens], [lp, lsm]) {
    const idx = e.tmp(), picked = e.tmp();
    e.node('LogSoftmax', [logits], [lsm], { axis: -1 });
    e.node('Unsqueeze', [tokens, e.i64([-1])], [idx]);
    e.node('GatherElements', [lsm, idx], [picked], { axis: -1 });
    e.node('Squeeze', [picked, e.i64([-1])], [lp]);
  },
  grad(n, [d, dLsm]) {
    if (dLsm) throw new Error('tokenLogProbs: its saved log-softmax output carries no gradient; use the first output only');
    if (!d) return [null, null];
    const [, tokens] = n.inputs;
    const dk = unsqueeze(d, [-1]);
    return [scatterElementsAdd(mul(exp(n.outputs[1]), neg(dk)), unsqueeze(tokens, [-1]), dk, -1), null];
  },
};
export function tokenLogProbs(logits: T, tokens: T): T {
  return logits.graph.apply(TokenLogProbs, [logits, tokens], {})[0];
}

export function softmax(x: T, axis = -1): T {
  return x.graph.apply(Softmax, [x], { axis })[0];
}
export function logSoftmax(x: T, axis = -1): T {
  return x.graph.apply(LogSoftmax, [x], { axis })[0];
}

// ---- layer norm ----

/**
 * LayerNorm(x [..., D], gamma [D], beta [D]) over the last axis -> y [..., D], mean [..., 1], rstd [..., 1].
 * Backward (rstd = 1/sqrt(var + eps), xh = (x - mean) rstd, g = dy gamma):
 *   dx = rstd (g - mean(g) - xh mean(g xh)),  dgamma = sum(dy xh),  dbeta = sum(dy);
 * 8 passes writing [..., D] tensors and 4 reading ones.
 */
export const LayerNorm: OpDef<{ epsilon: number }> = {
  name: 'LayerNorm',
  infer([x, gamma, beta]) {
    const D = x.shape[x.rank - 1];
    for (const p of [gamma, beta]) {
      if (p.rank !== 1 || p.shape[0] !== D || p.dtype !== x.dtype) throw new Error(`layerNorm: expected ${x.dtype}[${D}] for gamma/beta of ${x}, got ${p}`);
    }
    const stat = [...x.shape.slice(0, -1), 1];
    return [{ dtype: x.dtype, shape: x.shape }, { dtype: x.dtype, shape: stat }, { dtype: x.dtype, shape: stat }];
  },
  emit: (e, ins, outs, { epsilon }, n) =>
    e.node('LayerNormalization', ins, outs, { axis: -1, epsilon: { float: epsilon }, stash_type: n.inputs[0].dtype === 'float64' ? 11 : 1 }),
  grad(n, [dy]) {
    if (!dy) return [null, null, null];
    const [x, gamma, beta] = n.inputs;
    const [, mu, rstd] = n.outputs;
    const xh = mul(sub(x, mu), rstd);
    const dyXh = mul(dy, xh);
    const g = mul(dy, gamma);
    const D = x.rank - 1, size = x.shape[D];
    // mean(g xh) = (dy xh) . gamma / D: a matrix-vector product instead of a pass writing g xh
    const gXh = typeof size === 'number' ? div(matmul(dyXh, reshape(gamma, [size, 1])), size) : mean(mul(g, xh), [D], true);
    const dx = mul(sub(sub(g, mean(g, [D], true)), mul(xh, gXh)), rstd);
    return [dx, sumTo(dyXh, gamma), sumTo(dy, beta)];
  },
};
export function layerNorm(x: T, gamma: T, beta: T, epsilon = 1e-5): T {
  return x.graph.apply(LayerNorm, [x, gamma, beta], { epsilon })[0];
}


