/**
 * Element-wise ops with numpy broadcasting, their gradient rules, and the two broadcast helpers that the
 * rules need (SumTo: reduce a gradient back to an input's shape; ExpandLike: the reverse).
 */
import type { DType, Dim } from '../dtype.ts';
import { DTYPES, formatShape, isFloat } from '../dtype.ts';
import { type OpDef, Tensor, sameDim } from '../graph.ts';

type T = Tensor;
export type TensorLike = Tensor | number;

// ---- helpers ----

export function broadcastShapes(op: string, shapes: Dim[][]): Dim[] {
  const rank = Math.max(...shapes.map((s) => s.length));
  const out: Dim[] = [];
  for (let i = 0; i < rank; i++) {
    let d: Dim = 1;
    for (const s of shapes) {
      const x = s[s.length - rank + i] ?? 1;
      if (x === 1 || sameDim(x, d)) continue;
      if (d === 1) d = x;
      else throw new Error(`${op}: shapes ${shapes.map(formatShape).join(' and ')} do not broadcast (axis ${i - rank}: ${d} vs ${x})`);
    }
    out.push(d);
  }
  return out;
}

/** Lifts numbers to scalar constants of the dtype of the first tensor argument. */
export function lift(op: string, xs: TensorLike[]): Tensor[] {
  const ref = xs.find((x): x is Tensor => x instanceof Tensor);
  if (!ref) throw new Error(`${op}: at least one argument must be a tensor`);
  return xs.map((x) => (x instanceof Tensor ? x : ref.graph.scalar(x, ref.dtype)));
}

function sameDtype(op: string, xs: Tensor[]): DType {
  const d = xs[0].dtype;
  for (const x of xs) if (x.dtype !== d) throw new Error(`${op}: dtypes differ (${xs.map((t) => t.dtype).join(', ')}); cast first`);
  return d;
}

const one = (x: T) => x.graph.scalar(1, x.dtype);

// ---- broadcast helpers (used by gradient rules) ----

/**
 * SumTo(dy, like): sums dy over the axes where `like` was broadcast, giving like's shape. Decided from the
 * static shapes where they tell; otherwise computed from Shape(like) at run time.
 */
export const SumTo: OpDef = {
  name: 'SumTo',
  infer: ([dy, like]) => [{ dtype: dy.dtype, shape: like.shape }],
  emit(e, [dy, like], [out], _a, node) {
    const [y, x] = node.inputs;
    const lead = y.rank - x.rank;
    const axes: number[] = [];
    for (let i = 0; i < lead; i++) axes.push(i);
    let dynamic = lead < 0;
    for (let i = 0; i < x.rank && !dynamic; i++) {
      if (sameDim(x.shape[i], y.shape[lead + i])) continue;
      if (x.shape[i] === 1) axes.push(lead + i);
      else dynamic = true;
    }
    if (!dynamic) {
      if (axes.length === 0) return e.node('Identity', [dy], [out]);
      const s = lead > 0 ? e.tmp() : out;
      e.node('ReduceSum', [dy, e.i64(axes)], [s], { keepdims: 1 });
      if (lead > 0) e.node('Squeeze', [s, e.i64(axes.slice(0, lead))], [out]);
      return;
    }
    // run time: reduce every axis where Shape(like), left-padded with 1s, differs from Shape(dy)
    const sx = e.tmp(), sy = e.tmp(), padded = e.tmp(), eq = e.tmp(), ne = e.tmp(), nz = e.tmp(), ax = e.tmp(), s = e.tmp();
    e.node('Shape', [like], [sx]);
    e.node('Shape', [dy], [sy]);
    e.node('Concat', [e.i64(new Array(lead).fill(1)), sx], [padded], { axis: 0 });
    e.node('Equal', [padded, sy], [eq]);
    e.node('Not', [eq], [ne]);
    e.node('NonZero', [ne], [nz]);
    e.node('Squeeze', [nz, e.i64([0])], [ax]);
    e.node('ReduceSum', [dy, ax], [s], { keepdims: 1, noop_with_empty_axes: 1 });
    e.node('Reshape', [s, sx], [out]);
  },
  grad: (n, [d]) => [d && expandLike(d, n.inputs[0]), null],
};

/** ExpandLike(x, like): x broadcast to like's shape. */
export const ExpandLike: OpDef = {
  name: 'ExpandLike',
  infer: ([x, like]) => {
    if (x.rank > like.rank) throw new Error(`expandLike: ${x} has a higher rank than ${like}`);
    return [{ dtype: x.dtype, shape: like.shape }];
  },
  emit(e, [x, like], [out], _a, node) {
    const l = node.inputs[1];
    const s = l.shape.every((d) => typeof d === 'number') ? e.i64(l.shape as number[]) : e.tmp();
    if (!l.shape.every((d) => typeof d === 'number')) e.node('Shape', [like], [s]);
    e.node('Expand', [x, s], [out]);
  },
  grad: (n, [d]) => [d && sumTo(d, n.inputs[0]), null],
};

/** Expand(x, shape): numpy broadcast of x to `shape` (named dims read from the graph inputs). */
export const Expand: OpDef<{ shape: Dim[] }> = {
  name: 'Expand',
  infer: ([x], { shape }) => [{ dtype: x.dtype, shape: broadcastShapes('expand', [x.shape, shape]) }],
  emit: (e, [x], [out], { shape }) => e.node('Expand', [x, e.shape(shape)], [out]),
  grad: (n, [d]) => [d && sumTo(d, n.inputs[0])],
};

export function sumTo(dy: T, like: T): T {
  if (dy.rank === like.rank && dy.shape.every((d, i) => sameDim(d, like.shape[i]))) return dy;
  return dy.graph.apply(SumTo, [dy, like], {})[0];
}
export function expandLike(x: T, like: T): T {
  if (x.rank === like.rank && x.shape.every((d, i) => sameDim(d, like.shape[i]))) return x;
  return x.graph.apply(ExpandLike, [x, like], {})[0];
}
export function expand(x: T, shape: Dim[]): T {
  return x.graph.apply(Expand, [x], { shape })[0];
}

// ---- binary ----

function binary(name: string, grad: (a: T, b: T, y: T, dy: T) => [T | null, T | null]): OpDef {
  return {
    name,
    infer: ([a, b]) => [{ dtype: sameDtype(name, [a, b]), shape: broadcastShapes(name, [a.shape, b.shape]) }],
    emit: (e, ins, outs) => e.node(name, ins, outs),
    grad(n, [dy]) {
      if (!dy) return [null, null];
      const [a, b] = n.inputs;
      const [da, db] = grad(a, b, n.outputs[0], dy);
      return [da && sumTo(da, a), db && sumTo(db, b)];
    },
  };
}

export const Add = binary('Add', (_a, _b, _y, d) => [d, d]);
export const Sub = binary('Sub', (_a, _b, _y, d) => [d, neg(d)]);
export const Mul = binary('Mul', (a, b, _y, d) => [mul(d, b), mul(d, a)]);
export const Div = binary('Div', (_a, b, y, d) => {
  const da = div(d, b);
  return [da, neg(mul(da, y))];
});
/** a^b; d/da = b a^(b-1), d/db = a^b ln a (emitted only when b needs a gradient). */
export const Pow = binary('Pow', (a, b, y, d) => [mul(d, mul(b, pow(a, sub(b, 1)))), mul(d, mul(y, log(a)))]);
export const Max = binary('Max', (a, b, _y, d) => {
  const m = cmp(GreaterOrEqual, a, b);
  return [where(m, d, 0), where(m, 0, d)];
});
export const Min = binary('Min', (a, b, _y, d) => {
  const m = cmp(LessOrEqual, a, b);
  return [where(m, d, 0), where(m, 0, d)];
});

export function add(a: TensorLike, b: TensorLike): T {
  const [x, y] = lift('add', [a, b]);
  return x.graph.apply(Add, [x, y], {})[0];
}
export function sub(a: TensorLike, b: TensorLike): T {
  const [x, y] = lift('sub', [a, b]);
  return x.graph.apply(Sub, [x, y], {})[0];
}
export function mul(a: TensorLike, b: TensorLike): T {
  const [x, y] = lift('mul', [a, b]);
  return x.graph.apply(Mul, [x, y], {})[0];
}
export function div(a: TensorLike, b: TensorLike): T {
  const [x, y] = lift('div', [a, b]);
  return x.graph.apply(Div, [x, y], {})[0];
}
export function pow(a: TensorLike, b: TensorLike): T {
  const [x, y] = lift('pow', [a, b]);
  return x.graph.apply(Pow, [x, y], {})[0];
}
export function maximum(a: TensorLike, b: TensorLike): T {
  const [x, y] = lift('maximum', [a, b]);
  return x.graph.apply(Max, [x, y], {})[0];
}
export function minimum(a: TensorLike, b: TensorLike): T {
  const [x, y] = lift('minimum', [a, b]);
  return x.graph.apply(Min, [x, y], {})[0];
}

// ---- unary ----

function unary(name: string, onnx: string, grad: (x: T, y: T, dy: T) => T): OpDef {
  return {
    name,
    infer: ([x]) => [{ dtype: x.dtype, shape: x.shape }],
    emit: (e, ins, outs) => e.node(onnx, ins, outs),
    grad: (n, [dy]) => [dy && grad(n.inputs[0], n.outputs[0], dy)],
  };
}

export const Neg = unary('Neg', 'Neg', (_x, _y, d) => neg(d));
export const Sqrt = unary('Sqrt', 'Sqrt', (_x, y, d) => div(mul(d, 0.5), y));
export const Exp = unary('Exp', 'Exp', (_x, y, d) => mul(d, y));
export const Log = unary('Log', 'Log', (x, _y, d) => div(d, x));
export const Tanh = unary('Tanh', 'Tanh', (_x, y, d) => mul(d, sub(1, mul(y, y))));
export const Sigmoid = unary('Sigmoid', 'Sigmoid', (_x, y, d) => mul(d, mul(y, sub(1, y))));
export const Relu = unary('Relu', 'Relu', (x, _y, d) => where(cmp(Greater, x, 0), d, 0));
/** erf; d/dx = 2/sqrt(pi) exp(-x^2). */
export const Erf = unary('Erf', 'Erf', (x, _y, d) => mul(d, mul(exp(neg(mul(x, x))), 2 / Math.sqrt(Math.PI))));
export const Abs = unary('Abs', 'Abs', (x, _y, d) => mul(d, sign(x)));

/**
 * Gelu(x) -> t = x (1 + erf(u)) = 2 gelu(x), u = x / sqrt 2, and 1 + erf(u) and u that its gradient
 * reuses; gelu() halves t, a factor of 2 that folds exactly into a neighbouring Gemm (../fold.ts), leaving
 * 4 passes forward and 6 backward. dt/dx = 1 + erf(u) + x exp(ln(sqrt(2 / pi)) - u^2).
 */
export const Gelu: OpDef = {
  name: 'Gelu',
  infer: ([x]) => [0, 1, 2].map(() => ({ dtype: x.dtype, shape: x.shape })),
  emit(e, [x], [t, e1, u], _a, n) {
    const dt = n.inputs[0].dtype;
    const erfU = e.tmp();
    e.node('Mul', [x, e.scalar(Math.SQRT1_2, dt)], [u]);
    e.node('Erf', [u], [erfU]);
    e.node('Add', [erfU, e.scalar(1, dt)], [e1]);
    e.node('Mul', [x, e1], [t]);
  },
  grad(n, [dt, dE1, dU]) {
    if (dE1 || dU) throw new Error('gelu: its saved outputs (1 + erf(u), u) carry no gradient; use the first output only');
    if (!dt) return [null];
    const [x] = n.inputs;
    const [, e1, u] = n.outputs;
    return [mul(dt, add(e1, mul(x, exp(sub(0.5 * Math.log(2 / Math.PI), mul(u, u))))))];
  },
};

/** GELU, exact form x Phi(x) = 0.5 x (1 + erf(x / sqrt 2)) (torch's default). */
export const gelu = (x: T): T => mul(x.graph.apply(Gelu, [x], {})[0], 0.5);
export const neg = (x: T): T => x.graph.apply(Neg, [x], {})[0];
export const sqrt = (x: T): T => x.graph.apply(Sqrt, [x], {})[0];
export const exp = (x: T): T => x.graph.apply(Exp, [x], {})[0];
export const log = (x: T): T => x.graph.apply(Log, [x], {})[0];
export const tanh = (x: T): T => x.graph.apply(Tanh, [x], {})[0];
export const sigmoid = (x: T): T => x.graph.apply(Sigmoid, [x], {})[0];
export const relu = (x: T): T => x.graph.apply(Relu, [x], {})[0];
export const erf = (x: T): T => x.graph.apply(Erf, [x], {})[0];
export const abs = (x: T): T => x.graph.apply(Abs, [x], {})[0];

export const Sign: OpDef = {
  name: 'Sign',
  infer: ([x]) => [{ dtype: x.dtype, shape: x.shape }],
  emit: (e, ins, outs) => e.node('Sign', ins, outs),
  grad: 'none',
};
export const sign = (x: T): T => x.graph.apply(Sign, [x], {})[0];

/** Identity in the forward pass; blocks the gradient. */
export const StopGradient: OpDef = {
  name: 'StopGradient',
  infer: ([x]) => [{ dtype: x.dtype, shape: x.shape }],
  emit: (e, ins, outs) => e.node('Identity', ins, outs),
  grad: () => [null],
};
export const stopGradient = (x: T): T => x.graph.apply(StopGradient, [x], {})[0];

/** Clip(x) to [min, max] (either bound optional); gradient 1 inside the closed interval, as in torch.clamp. */
export const Clip: OpDef<{ min?: number; max?: number }> = {
  name: 'Clip',
  infer: ([x]) => [{ dtype: x.dtype, shape: x.shape }],
  emit: (e, [x], outs, { min, max }, n) => {
    const dt = n.inputs[0].dtype;
    e.node('Clip', [x, min === undefined ? '' : e.scalar(min, dt), max === undefined ? '' : e.scalar(max, dt)], outs);
  },
  grad(n, [d]) {
    if (!d) return [null];
    const x = n.inputs[0];
    const { min, max } = n.attrs;
    let keep: T | null = null;
    if (min !== undefined) keep = cmp(GreaterOrEqual, x, min);
    if (max !== undefined) {
      const m = cmp(LessOrEqual, x, max);
      keep = keep ? and(keep, m) : m;
    }
    return [keep ? where(keep, d, 0) : d];
  },
};
export function clip(x: T, min?: number, max?: number): T {
  return x.graph.apply(Clip, [x], { min, max })[0];
}

export const Cast: OpDef<{ to: DType }> = {
  name: 'Cast',
  infer: ([x], { to }) => [{ dtype: to, shape: x.shape }],
  emit: (e, ins, outs, { to }) => e.node('Cast', ins, outs, { to: DTYPES[to].onnx }),
  grad: (n, [d]) => [d && isFloat(n.inputs[0].dtype) ? cast(d, n.inputs[0].dtype) : null],
};
export function cast(x: T, to: DType): T {
  if (x.dtype === to) return x;
  return x.graph.apply(Cast, [x], { to })[0];
}

// ---- comparisons and logic (no gradient) ----

function compare(name: string): OpDef {
  return {
    name,
    infer: ([a, b]) => [{ dtype: 'bool', shape: broadcastShapes(name, [a.shape, b.shape]) }],
    emit: (e, ins, outs) => e.node(name, ins, outs),
    grad: 'none',
  };
}
export const Equal = compare('Equal');
export const Less = compare('Less');
export const Greater = compare('Greater');
export const LessOrEqual = compare('LessOrEqual');
export const GreaterOrEqual = compare('GreaterOrEqual');
export const And = compare('And');
export const Or = compare('Or');

export function cmp(op: OpDef, a: TensorLike, b: TensorLike): T {
  const [x, y] = lift(op.name, [a, b]);
  return x.graph.apply(op, [x, y], {})[0];
}
export const equal = (a: TensorLike, b: TensorLike): T => cmp(Equal, a, b);
export const less = (a: TensorLike, b: TensorLike): T => cmp(Less, a, b);
export const greater = (a: TensorLike, b: TensorLike): T => cmp(Greater, a, b);
export const lessOrEqual = (a: TensorLike, b: TensorLike): T => cmp(LessOrEqual, a, b);
export const greaterOrEqual = (a: TensorLike, b: TensorLike): T => cmp(GreaterOrEqual, a, b);
export const and = (a: T, b: T): T => a.graph.apply(And, [a, b], {})[0];
export const or = (a: T, b: T): T => a.graph.apply(Or, [a, b], {})[0];

export const Not: OpDef = {
  name: 'Not',
  infer: ([x]) => [{ dtype: 'bool', shape: x.shape }],
  emit: (e, ins, outs) => e.node('Not', ins, outs),
  grad: 'none',
};
export const not = (x: T): T => x.graph.apply(Not, [x], {})[0];

/** Where(cond, a, b): a where cond, else b (broadcast). */
export const Where: OpDef = {
  name: 'Where',
  infer: ([c, a, b]) => {
    if (c.dtype !== 'bool') throw new Error(`where: condition must be bool, got ${c.dtype}`);
    return [{ dtype: sameDtype('where', [a, b]), shape: broadcastShapes('where', [c.shape, a.shape, b.shape]) }];
  },
  emit: (e, ins, outs) => e.node('Where', ins, outs),
  grad(n, [d]) {
    if (!d) return [null, null, null];
    const [c, a, b] = n.inputs;
    return [null, sumTo(where(c, d, 0), a), sumTo(where(c, 0, d), b)];
  },
};
export function where(c: T, a: TensorLike, b: TensorLike): T {
  const [x, y] = lift('where', [a, b]);
  return c.graph.apply(Where, [c, x, y], {})[0];
}
