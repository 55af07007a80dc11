/**
 * A lowering peephole: multiplications by a constant scalar that sit next to a Gemm are folded into the
 * Gemm (onnxruntime fuses no element-wise chains on the CPU, so each Mul is a pass over its tensor).
 *   into the producer:  Mul(Gemm(a, b, c), s) -> Gemm(a, b, s c) with alpha s, through Reshape/Transpose
 *                       nodes between them, when each tensor on the way has no other use;
 *   into the consumers: Gemm(Mul(t, s), b) -> Gemm(t, b) with alpha s, when every use of the product
 *                       (through Reshape/Transpose nodes) is a Gemm's A or B input, or a sum over axes
 *                       (a bias gradient), whose small result is scaled instead.
 * Only powers of two fold: scaling by them is exact, so a folded graph computes the same bits as the
 * unfolded one. Examples: GELU's 1/2 on both sides of the FFN's second linear; attention's 1/sqrt(dh) on q
 * (dh = 4^k) into the q projection, forward and backward.
 */
import { isFloat } from './dtype.ts';
import type { Graph, Node, Tensor } from './graph.ts';
import { ExpandLike, Mul, SumTo } from './ops/elementwise.ts';
import { Gemm } from './ops/matmul.ts';
import { Count, ReduceSum } from './ops/reduce.ts';
import { Reshape, ReshapeLike, ShapeOf, SplitLike, Transpose, UnsliceLike, ZerosLike } from './ops/shape.ts';

export interface Folds {
  /** Mul nodes not emitted: their output is the named tensor (already scaled where it is made or used). */
  alias: Map<Node, Tensor>;
  /** Gemm nodes to emit with alpha times `ab`, and alpha and C times `out`. */
  gemm: Map<Node, { ab: number; out: number }>;
  /** Sums (SumTo, ReduceSum) whose output is multiplied by the factor after them. */
  post: Map<Node, number>;
}

const PASS = new Set<unknown>([Reshape, ReshapeLike, Transpose]);
const SUMS = new Set<unknown>([SumTo, ReduceSum]);

/** Uses that read only a tensor's shape (gradient rules' "like" inputs): scaling does not matter to them. */
const SHAPE_OF_ALL = new Set<unknown>([ZerosLike, ShapeOf, Count]);
const SHAPE_OF_SECOND = new Set<unknown>([ReshapeLike, ExpandLike, SumTo, UnsliceLike]);
function shapeOnly(n: Node, i: number): boolean {
  return SHAPE_OF_ALL.has(n.op) || (SHAPE_OF_SECOND.has(n.op) && i === 1) || (n.op === (SplitLike as unknown) && i > 0);
}

export function scaleFolds(g: Graph, live: Set<object>, outputs: Set<Tensor>): Folds {
  const users = new Map<Tensor, Node[]>();
  for (const n of g.nodes) {
    if (!live.has(n)) continue;
    n.inputs.forEach((x, i) => {
      if (!shapeOnly(n, i)) users.set(x, [...(users.get(x) ?? []), n]);
    });
  }
  const only = (t: Tensor): Node | undefined => {
    const u = users.get(t);
    return !outputs.has(t) && u?.length === 1 ? u[0] : undefined;
  };
  const folds: Folds = { alias: new Map(), gemm: new Map(), post: new Map() };
  const scale = (n: Node, key: 'ab' | 'out', s: number) => {
    const f = folds.gemm.get(n) ?? { ab: 1, out: 1 };
    f[key] *= s;
    folds.gemm.set(n, f);
  };

  for (const m of g.nodes) {
    if (!live.has(m) || m.op !== Mul || !isFloat(m.outputs[0].dtype)) continue;
    const k = m.inputs.findIndex((x) => constScalar(g, x) !== undefined);
    if (k < 0) continue;
    const s = constScalar(g, m.inputs[k])!;
    const x = m.inputs[1 - k];
    if (x.rank === 0 || outputs.has(m.outputs[0])) continue;

    // into the producer: x <- Reshape/Transpose ... <- Gemm, each step used only on this path
    let p = x, next: Node = m;
    while (p.node && PASS.has(p.node.op) && only(p) === next) [next, p] = [p.node, p.node.inputs[0]];
    if (p.node?.op === Gemm && only(p) === next) {
      scale(p.node, 'out', s);
      folds.alias.set(m, x);
      continue;
    }

    // into the consumers: every use, through Reshape/Transpose, is a Gemm's A or B
    const gemms: Node[] = [];
    const sums: Node[] = [];
    const ok = (t: Tensor): boolean =>
      !outputs.has(t) &&
      (users.get(t) ?? []).every((u) => {
        if (PASS.has(u.op) && u.inputs[0] === t && u.inputs.indexOf(t, 1) < 0) return ok(u.outputs[0]);
        if (SUMS.has(u.op) && u.inputs[0] === t && u.inputs.indexOf(t, 1) < 0 && !folds.post.has(u)) return sums.push(u) > 0;
        if (u.op !== Gemm || u.inputs[2] === t) return false;
        for (const y of u.inputs.slice(0, 2)) if (y === t) gemms.push(u);
        return true;
      });
    if (!ok(m.outputs[0]) || gemms.length === 0) continue;
    for (const u of gemms) scale(u, 'ab', s);
    for (const u of sums) folds.post.set(u, s);
    folds.alias.set(m, x);
  }
  return folds;
}

/** The value of a constant float scalar that is a power of two, else undefined. */
function constScalar(g: Graph, t: Tensor): number | undefined {
  if (t.kind !== 'const' || t.rank !== 0 || !isFloat(t.dtype)) return undefined;
  const v = Number(g.consts.get(t)!.data[0]);
  const e = Math.log2(Math.abs(v));
  return Number.isInteger(e) && Math.abs(e) < 100 ? v : undefined;
}
