/**
 * Shape and indexing ops: Reshape, Transpose, Concat, Slice, Unsqueeze/Squeeze, Gather, GatherElements,
 * GatherND and the scatter-add ops their gradients use, plus run-time shape helpers (no gradient).
 */
import { DTYPES, type Dim, formatShape } from '../dtype.ts';
import { type OpDef, type Tensor, dimProduct, dimQuotient, normAxis, sameDim, type Graph } from '../graph.ts';


type T = Tensor;
const BIG = Number.MAX_SAFE_INTEGER;

// ---- Reshape ----

/** Reshape(x, shape): `shape` may hold named dims and one -1. */
export const Reshape: OpDef<{ shape: Dim[] }> = {
  name: 'Reshape',
  infer([x], { shape }) {
    const total = dimProduct(x.shape);
    const free = shape.filter((d) => d === -1).length;
    if (free > 1) throw new Error(`reshape: at most one -1 allowed, got ${formatShape(shape)}`);
    const known = dimProduct(shape.filter((d) => d !== -1));
    if (free) {
      const q = dimQuotient(total, known);
      if (q === undefined) throw new Error(`reshape: cannot infer -1 reshaping ${x} to ${formatShape(shape)}`);
      return [{ dtype: x.dtype, shape: shape.map((d) => (d === -1 ? q : d)) }];
    }
    if (!sameDim(total, known)) throw new Error(`reshape: ${x} has ${total} elements, target ${formatShape(shape)} has ${known}`);
    return [{ dtype: x.dtype, shape }];
  },
  emit: (e, [x], outs, { shape }) => e.node('Reshape', [x, e.shape(shape)], outs),
  grad: (n, [d]) => [d && reshapeLike(d, n.inputs[0])],
};
export function reshape(x: T, shape: Dim[]): T {
  return x.graph.apply(Reshape, [x], { shape })[0];
}

/** ReshapeLike(x, like): x reshaped to like's shape (read at run time when it has named dims). */
export const ReshapeLike: OpDef = {
  name: 'ReshapeLike',
  infer: ([x, like]) => {
    const [a, b] = [dimProduct(x.shape), dimProduct(like.shape)];
    if (typeof a === 'number' && typeof b === 'number' && a !== b) throw new Error(`reshapeLike: ${x} does not fit ${like}`);
    return [{ dtype: x.dtype, shape: like.shape }];
  },
  emit(e, [x, like], outs, _a, n) {
    const l = n.inputs[1];
    if (l.shape.every((d) => typeof d === 'number')) return e.node('Reshape', [x, e.i64(l.shape as number[])], outs);
    const s = e.tmp();
    e.node('Shape', [like], [s]);
    e.node('Reshape', [x, s], outs);
  },
  grad: (n, [d]) => [d && reshapeLike(d, n.inputs[0]), null],
};
export function reshapeLike(x: T, like: T): T {
  if (x.rank === like.rank && x.shape.every((d, i) => sameDim(d, like.shape[i]))) return x;
  return x.graph.apply(ReshapeLike, [x, like], {})[0];
}

// ---- Transpose ----

export const Transpose: OpDef<{ perm: number[] }> = {
  name: 'Transpose',
  infer([x], { perm }) {
    if (perm.length !== x.rank || [...perm].sort().some((p, i) => p !== i)) {
      throw new Error(`transpose: perm [${perm}] is not a permutation of ${x.rank} axes (${x})`);
    }
    return [{ dtype: x.dtype, shape: perm.map((p) => x.shape[p]) }];
  },
  emit: (e, ins, outs, { perm }) => e.node('Transpose', ins, outs, { perm }),
  grad(n, [d]) {
    if (!d) return [null];
    const inv: number[] = [];
    n.attrs.perm.forEach((p, i) => (inv[p] = i));
    return [transpose(d, inv)];
  },
};
export function transpose(x: T, perm: number[]): T {
  return x.graph.apply(Transpose, [x], { perm })[0];
}

// ---- Concat and its gradient (SplitLike) ----

export const Concat: OpDef<{ axis: number }> = {
  name: 'Concat',
  infer(xs, { axis }) {
    const a = normAxis(axis, xs[0].rank, 'concat');
    for (const x of xs) {
      if (x.rank !== xs[0].rank || x.dtype !== xs[0].dtype || x.shape.some((d, i) => i !== a && !sameDim(d, xs[0].shape[i]))) {
        throw new Error(`concat: inputs must match except on axis ${axis}: ${xs.join(', ')}`);
      }
    }
    const shape = [...xs[0].shape];
    shape[a] = dimSum(xs.map((x) => x.shape[a]));
    return [{ dtype: xs[0].dtype, shape }];
  },
  emit: (e, ins, outs, { axis }) => e.node('Concat', ins, outs, { axis }),
  grad: (n, [d]) => (d ? splitLike(d, n.inputs, n.attrs.axis) : n.inputs.map(() => null)),
};
function dimSum(ds: Dim[]): Dim {
  if (ds.every((d) => typeof d === 'number')) return (ds as number[]).reduce((a, b) => a + b, 0);
  return ds.join('+');
}
export function concat(xs: T[], axis: number): T {
  return xs[0].graph.apply(Concat, xs, { axis })[0];
}

/** SplitLike(x, a, b, ...): x split along `axis` into pieces the sizes of a, b, ... on that axis. */
export const SplitLike: OpDef<{ axis: number }> = {
  name: 'SplitLike',
  infer: ([x, ...likes], { axis }) => {
    const a = normAxis(axis, x.rank, 'split');
    return likes.map((l) => ({ dtype: x.dtype, shape: x.shape.map((d, i) => (i === a ? l.shape[a] : d)) }));
  },
  emit(e, [x, ...likes], outs, { axis }, n) {
    const a = normAxis(axis, n.inputs[0].rank, 'split');
    const sizes = n.inputs.slice(1).map((l, i) => {
      const d = l.shape[a];
      if (typeof d === 'number') return e.i64([d]);
      const s = e.tmp();
      e.node('Shape', [likes[i]], [s], { start: a, end: a + 1 });
      return s;
    });
    let split = sizes[0];
    if (sizes.length > 1) {
      split = e.tmp();
      e.node('Concat', sizes, [split], { axis: 0 });
    }
    e.node('Split', [x, split], outs, { axis: a });
  },
  grad(n, ds) {
    const parts = ds.map((d, i) => d ?? zerosLike(n.outputs[i]));
    return [concat(parts, n.attrs.axis), ...n.inputs.slice(1).map(() => null)];
  },
};
export function splitLike(x: T, likes: T[], axis: number): T[] {
  return x.graph.apply(SplitLike, [x, ...likes], { axis });
}

// ---- Slice and its gradient (UnsliceLike: zero-pad back) ----

export interface SliceAttrs {
  /** Per axis; ends beyond the dim are clipped; negative values count from the end. Step is 1. */
  starts: number[];
  ends: number[];
  axes: number[];
  [k: string]: unknown;
}

function sliceDim(d: Dim, s: number, e: number): Dim {
  if (typeof d === 'number') {
    const st = Math.min(Math.max(s < 0 ? s + d : s, 0), d);
    const en = Math.min(Math.max(e < 0 ? e + d : e, 0), d);
    return Math.max(en - st, 0);
  }
  if (s >= 0 && e >= 0 && e < BIG) return e - s;
  if (s < 0 && e >= BIG) return -s;
  if (s === 0 && e >= BIG) return d;
  return `${d}[${s}:${e >= BIG ? '' : e}]`;
}

export const Slice: OpDef<SliceAttrs> = {
  name: 'Slice',
  infer([x], { starts, ends, axes }) {
    const shape = [...x.shape];
    axes.forEach((ax, i) => {
      const a = normAxis(ax, x.rank, 'slice');
      shape[a] = sliceDim(x.shape[a], starts[i], ends[i]);
    });
    return [{ dtype: x.dtype, shape }];
  },
  emit: (e, [x], outs, { starts, ends, axes }) => e.node('Slice', [x, e.i64(starts), e.i64(ends.map((v) => Math.min(v, BIG))), e.i64(axes)], outs),
  grad: (n, [d]) => [d && unsliceLike(d, n.inputs[0], n.attrs)],
};
/** x[starts:ends] on `axes` (end = Infinity for "to the end"). */
export function slice(x: T, starts: number[], ends: number[], axes: number[]): T {
  return x.graph.apply(Slice, [x], { starts, ends: ends.map((v) => (v === Infinity ? BIG : v)), axes })[0];
}

/** UnsliceLike(d, like): d zero-padded into like's shape at the place Slice(like) took it from. */
export const UnsliceLike: OpDef<SliceAttrs> = {
  name: 'UnsliceLike',
  infer: ([d, like]) => [{ dtype: d.dtype, shape: like.shape }],
  emit(e, [d, like], outs, { starts, ends, axes }, n) {
    const x = n.inputs[1];
    const before: string[] = [], after: string[] = [];
    axes.forEach((ax, i) => {
      const a = normAxis(ax, x.rank, 'slice');
      const dim = x.shape[a];
      const s = starts[i], en = ends[i];
      if (typeof dim === 'number') {
        const st = Math.min(Math.max(s < 0 ? s + dim : s, 0), dim);
        const e2 = Math.max(Math.min(Math.max(en < 0 ? en + dim : en, 0), dim), st);
        before.push(e.i64([st]));
        after.push(e.i64([dim - e2]));
        return;
      }
      // named dim: starts/ends are taken to lie inside it
      const dn = e.tmp();
      e.node('Shape', [like], [dn], { start: a, end: a + 1 });
      const off = (v: number): string => {
        if (v >= 0) return e.i64([v]);
        const o = e.tmp();
        e.node('Add', [dn, e.i64([v])], [o]);
        return o;
      };
      before.push(off(s));
      if (en >= BIG) after.push(e.i64([0]));
      else if (en < 0) after.push(e.i64([-en]));
      else {
        const o = e.tmp();
        e.node('Sub', [dn, e.i64([en])], [o]);
        after.push(o);
      }
    });
    const pads = e.tmp();
    e.node('Concat', [...before, ...after], [pads], { axis: 0 });
    e.node('Pad', [d, pads, '', e.i64(axes)], outs);
  },
  grad: (n, [g]) => [g && n.inputs[0].graph.apply(Slice, [g], n.attrs)[0], null],
};
function unsliceLike(d: T, like: T, attrs: SliceAttrs): T {
  return d.graph.apply(UnsliceLike, [d, like], attrs)[0];
}

// ---- Unsqueeze / Squeeze ----

export const Unsqueeze: OpDef<{ axes: number[] }> = {
  name: 'Unsqueeze',
  infer([x], { axes }) {
    const r = x.rank + axes.length;
    const na = axes.map((a) => normAxis(a, r, 'unsqueeze'));
    const shape: Dim[] = [];
    let j = 0;
    for (let i = 0; i < r; i++) shape.push(na.includes(i) ? 1 : x.shape[j++]);
    return [{ dtype: x.dtype, shape }];
  },
  emit: (e, [x], outs, { axes }) => e.node('Unsqueeze', [x, e.i64(axes)], outs),
  grad: (n, [d]) => [d && squeeze(d, n.attrs.axes)],
};
export function unsqueeze(x: T, axes: number[]): T {
  return x.graph.apply(Unsqueeze, [x], { axes })[0];
}

export const Squeeze: OpDef<{ axes: number[] }> = {
  name: 'Squeeze',
  infer([x], { axes }) {
    const na = axes.map((a) => normAxis(a, x.rank, 'squeeze'));
    for (const a of na) if (x.shape[a] !== 1) throw new Error(`squeeze: axis ${a} of ${x} is not 1`);
    return [{ dtype: x.dtype, shape: x.shape.filter((_, i) => !na.includes(i)) }];
  },
  emit: (e, [x], outs, { axes }) => e.node('Squeeze', [x, e.i64(axes)], outs),
  grad: (n, [d]) => [d && unsqueeze(d, n.attrs.axes.map((a) => normAxis(a, n.inputs[0].rank, 'squeeze')).sort((a, b) => a - b))],
};
export function squeeze(x: T, axes: number[]): T {
  return x.graph.apply(Squeeze, [x], { axes })[0];
}

// ---- Gather family ----

function intIndices(op: string, idx: T): void {
  if (idx.dtype !== 'int64' && idx.dtype !== 'int32') throw new Error(`${op}: indices must be int64 or int32, got ${idx}`);
}

/** Gather(data, indices, axis): data[..., indices, ...]; the embedding lookup when axis = 0. */
export const Gather: OpDef<{ axis: number }> = {
  name: 'Gather',
  infer([x, idx], { axis }) {
    intIndices('gather', idx);
    const a = normAxis(axis, x.rank, 'gather');
    return [{ dtype: x.dtype, shape: [...x.shape.slice(0, a), ...idx.shape, ...x.shape.slice(a + 1)] }];
  },
  emit: (e, ins, outs, { axis }) => e.node('Gather', ins, outs, { axis }),
  grad(n, [d]) {
    if (!d) return [null, null];
    const [x, idx] = n.inputs;
    const a = normAxis(n.attrs.axis, x.rank, 'gather');
    const q = idx.rank;
    if (a === 0) return [scatterNDAdd(zerosLike(x), unsqueeze(idx, [-1]), d), null];
    // move the gathered axis to the front, scatter-add, move it back
    const permX = [a, ...x.shape.map((_, i) => i).filter((i) => i !== a)];
    const permD = [...Array.from({ length: q }, (_, i) => a + i), ...Array.from({ length: a }, (_, i) => i), ...Array.from({ length: x.rank - a - 1 }, (_, i) => a + q + i)];
    const inv: number[] = [];
    permX.forEach((p, i) => (inv[p] = i));
    const s = scatterNDAdd(zerosLike(transpose(x, permX)), unsqueeze(idx, [-1]), transpose(d, permD));
    return [transpose(s, inv), null];
  },
};
export function gather(x: T, idx: T, axis = 0): T {
  return x.graph.apply(Gather, [x, idx], { axis })[0];
}

/** GatherElements(data, indices, axis): out[i][j] = data[i][indices[i][j]] (axis 1), same rank. */
export const GatherElements: OpDef<{ axis: number }> = {
  name: 'GatherElements',
  infer([x, idx], { axis }) {
    intIndices('gatherElements', idx);
    normAxis(axis, x.rank, 'gatherElements');
    if (idx.rank !== x.rank) throw new Error(`gatherElements: indices ${idx} must have the rank of ${x}`);
    return [{ dtype: x.dtype, shape: idx.shape }];
  },
  emit: (e, ins, outs, { axis }) => e.node('GatherElements', ins, outs, { axis }),
  grad: (n, [d]) => [d && scatterElementsAdd(zerosLike(n.inputs[0]), n.inputs[1], d, n.attrs.axis), null],
};
export function gatherElements(x: T, idx: T, axis: number): T {
  return x.graph.apply(GatherElements, [x, idx], { axis })[0];
}

/** GatherND(data, indices): indices [..., k] index the first k axes of data. */
export const GatherND: OpDef = {
  name: 'GatherND',
  infer([x, idx]) {
    intIndices('gatherND', idx);
    const k = idx.shape[idx.rank - 1];
    if (typeof k !== 'number') throw new Error(`gatherND: the last dim of indices must be fixed, got ${idx}`);
    return [{ dtype: x.dtype, shape: [...idx.shape.slice(0, -1), ...x.shape.slice(k)] }];
  },
  emit: (e, ins, outs) => e.node('GatherND', ins, outs),
  grad: (n, [d]) => [d && scatterNDAdd(zerosLike(n.inputs[0]), n.inputs[1], d), null],
};
export function gatherND(x: T, idx: T): T {
  return x.graph.apply(GatherND, [x, idx], {})[0];
}

/** ScatterND with reduction 'add' (opset >= 16): repeated indices accumulate. */
export const ScatterNDAdd: OpDef = {
  name: 'ScatterNDAdd',
  infer: ([x]) => [{ dtype: x.dtype, shape: x.shape }],
  emit: (e, ins, outs) => e.node('ScatterND', ins, outs, { reduction: 'add' }),
  grad: (n, [d]) => [d, null, d && gatherND(d, n.inputs[1])],
};
export function scatterNDAdd(x: T, idx: T, updates: T): T {
  return x.graph.apply(ScatterNDAdd, [x, idx, updates], {})[0];
}

/** ScatterElements with reduction 'add'. */
export const ScatterElementsAdd: OpDef<{ axis: number }> = {
  name: 'ScatterElementsAdd',
  infer: ([x]) => [{ dtype: x.dtype, shape: x.shape }],
  emit: (e, ins, outs, { axis }) => e.node('ScatterElements', ins, outs, { axis, reduction: 'add' }),
  grad: (n, [d]) => [d, null, d && gatherElements(d, n.inputs[1], n.attrs.axis)],
};
export function scatterElementsAdd(x: T, idx: T, updates: T, axis: number): T {
  return x.graph.apply(ScatterElementsAdd, [x, idx, updates], { axis })[0];
}

// ---- run-time shapes (no gradient) ----

export const ZerosLike: OpDef = {
  name: 'ZerosLike',
  infer: ([x]) => [{ dtype: x.dtype, shape: x.shape }],
  emit(e, [x], outs, _a, n) {
    const t = n.inputs[0];
    const s = t.shape.every((d) => typeof d === 'number') ? e.i64(t.shape as number[]) : e.tmp();
    if (!t.shape.every((d) => typeof d === 'number')) e.node('Shape', [x], [s]);
    e.node('ConstantOfShape', [s], outs, {
      value: { kind: 'tensor', name: 'zero', dtype: t.dtype, dims: [1], raw: new Uint8Array(DTYPES[t.dtype].bytes) },
    });
  },
  grad: 'none',
};
export function zerosLike(x: T): T {
  return x.graph.apply(ZerosLike, [x], {})[0];
}

/** Shape(x): int64 [rank]. */
export const ShapeOf: OpDef = {
  name: 'ShapeOf',
  infer: ([x]) => [{ dtype: 'int64', shape: [x.rank] }],
  emit: (e, ins, outs) => e.node('Shape', ins, outs),
  grad: 'none',
};
export function shapeOf(x: T): T {
  return x.graph.apply(ShapeOf, [x], {})[0];
}

/** Arange(offset?): int64 [len] holding offset, offset + 1, ...; `len` may be a named dim. */
export const Arange: OpDef<{ len: Dim }> = {
  name: 'Arange',
  infer: (ins, { len }) => {
    if (ins[0] && (ins[0].rank !== 0 || ins[0].dtype !== 'int64')) throw new Error(`arange: offset must be an int64 scalar, got ${ins[0]}`);
    return [{ dtype: 'int64', shape: [len] }];
  },
  emit(e, ins, outs, { len }) {
    const n = e.tmp(), start = ins[0] ?? e.scalar(0, 'int64'), end = e.tmp();
    e.node('Squeeze', [e.dim(len), e.i64([0])], [n]);
    e.node('Add', [start, n], [end]);
    e.node('Range', [start, end, e.scalar(1, 'int64')], outs);
  },
  grad: 'none',
};
export function arange(g: Graph, len: Dim, offset?: T): T {
  return g.apply(Arange, offset ? [offset] : [], { len })[0];
}

/** DimOf: the run-time value of a (possibly named) dim as an int64 scalar. */
export const DimOf: OpDef<{ dim: Dim }> = {
  name: 'DimOf',
  infer: () => [{ dtype: 'int64', shape: [] }],
  emit: (e, _ins, outs, { dim }) => e.node('Squeeze', [e.dim(dim), e.i64([0])], outs),
  grad: 'none',
};
export function dimOf(g: Graph, dim: Dim): T {
  return g.apply(DimOf, [], { dim })[0];
}


