/**
 * Matrix products. MatMul: batched, numpy broadcasting over leading dims. Gemm: 2-D with transpose flags,
 * used by the MatMul gradient when the right operand is a weight matrix (no Transpose node needed).
 */
import type { Dim } from '../dtype.ts';
import { formatShape } from '../dtype.ts';
import { type OpDef, type Tensor, sameDim } from '../graph.ts';
import { broadcastShapes, sumTo } from './elementwise.ts';
import { reshape, reshapeLike, transpose } from './shape.ts';

/** MatMul(a, b): a [..., m, k], b [..., k, n] -> [..., m, n]. */
export const MatMul: OpDef = {
  name: 'MatMul',
  infer([a, b]) {
    if (a.rank < 2 || b.rank < 2) throw new Error(`matmul: operands need rank >= 2, got ${a} and ${b} (reshape vectors to [1, n] or [n, 1])`);
    if (a.dtype !== b.dtype) throw new Error(`matmul: dtypes differ (${a.dtype}, ${b.dtype})`);
    const k1 = a.shape[a.rank - 1], k2 = b.shape[b.rank - 2];
    if (!sameDim(k1, k2)) throw new Error(`matmul: inner dims differ: ${formatShape(a.shape)} @ ${formatShape(b.shape)}`);
    const batch = broadcastShapes('matmul', [a.shape.slice(0, -2), b.shape.slice(0, -2)]);
    return [{ dtype: a.dtype, shape: [...batch, a.shape[a.rank - 2], b.shape[b.rank - 1]] }];
  },
  emit: (e, ins, outs) => e.node('MatMul', ins, outs),
  grad(n, [dy]) {
    if (!dy) return [null, null];
    const [a, b] = n.inputs;
    if (b.rank === 2) {
      // weight matrix: flatten the leading dims and use Gemm with transpose flags
      const k = a.shape[a.rank - 1], m = b.shape[1];
      const a2 = a.rank === 2 ? a : reshape(a, [-1, k]);
      const d2 = dy.rank === 2 ? dy : reshape(dy, [-1, m]);
      const da = gemm(d2, b, { transB: true });
      return [a.rank === 2 ? da : reshapeLike(da, a), weightGrad(a2, d2, 1)];
    }
    const da = matmul(dy, swapLast(b));
    const db = matmul(swapLast(a), dy);
    return [sumTo(da, a), sumTo(db, b)];
  },
};

/**
 * a^T dy for a [m, k], dy [m, n] (a weight's gradient, m = rows of the batch): one Transpose of a and a
 * plain product, shared by the linears that share a (e.g. q, k and v). onnxruntime's Gemm with transA
 * transposes A again for every 128 output columns; against it the Transpose measured 20-30% faster on the
 * transformer's [2048, 256] inputs, a whole MLP step (a = [256, 784], dy = [256, 512]) 2.4-4% faster, and a
 * whole transformer step (a = [2048, 1024] in the FFN) within 1% (README "Engine", round 4).
 */
function weightGrad(a: Tensor, dy: Tensor, alpha: number): Tensor {
  return gemm(transposeOf(a), dy, { alpha });
}

/** x [m, n] -> x^T [n, m], one Transpose node per x (the q, k and v weight gradients share their input's). */
const transposed = new WeakMap<Tensor, Tensor>();
function transposeOf(x: Tensor): Tensor {
  let t = transposed.get(x);
  if (!t) transposed.set(x, (t = transpose(x, [1, 0])));
  return t;
}

function swapLast(x: Tensor): Tensor {
  const p = x.shape.map((_, i) => i);
  [p[x.rank - 2], p[x.rank - 1]] = [p[x.rank - 1], p[x.rank - 2]];
  return transpose(x, p);
}

export function matmul(a: Tensor, b: Tensor): Tensor {
  return a.graph.apply(MatMul, [a, b], {})[0];
}

export interface GemmAttrs {
  transA?: boolean;
  transB?: boolean;
  alpha?: number;
  [k: string]: unknown;
}

/** Gemm(a, b, c?): alpha op(a) op(b) + c; a, b 2-D; c broadcasts to [m, n]. */
export const Gemm: OpDef<GemmAttrs> = {
  name: 'Gemm',
  infer(ins, { transA, transB }) {
    const [a, b, c] = ins;
    if (a.rank !== 2 || b.rank !== 2) throw new Error(`gemm: operands must be 2-D, got ${a} and ${b}`);
    const [m, k1] = transA ? [a.shape[1], a.shape[0]] : a.shape;
    const [k2, nn] = transB ? [b.shape[1], b.shape[0]] : b.shape;
    if (!sameDim(k1, k2)) throw new Error(`gemm: inner dims differ: ${a} ${transA ? 'T' : ''} @ ${b} ${transB ? 'T' : ''}`);
    const shape: Dim[] = [m, nn];
    if (c) broadcastShapes('gemm', [shape, c.shape]);
    return [{ dtype: a.dtype, shape }];
  },
  emit: (e, ins, outs, { transA, transB, alpha }) =>
    e.node('Gemm', ins, outs, { transA: transA ? 1 : 0, transB: transB ? 1 : 0, alpha: { float: alpha ?? 1 } }),
  grad(n, [dy]) {
    if (!dy) return [null, null, null];
    const [a, b, c] = n.inputs;
    const { transA = false, transB = false, alpha = 1 } = n.attrs;
    const da = transA ? gemm(b, dy, { transA: transB, transB: true, alpha }) : gemm(dy, b, { transB: !transB, alpha });
    const db = transB ? gemm(dy, a, { transA: true, transB: transA, alpha }) : transA ? gemm(a, dy, { alpha }) : weightGrad(a, dy, alpha);
    return [da, db, c ? sumTo(dy, c) : null];
  },
};

export function gemm(a: Tensor, b: Tensor, attrs: GemmAttrs = {}, c?: Tensor): Tensor {
  return a.graph.apply(Gemm, c ? [a, b, c] : [a, b], attrs)[0];
}

