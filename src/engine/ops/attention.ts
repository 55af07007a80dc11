/**
 * Attention as one op: softmax(q k^T + bias) v, with a gradient rule written for it (the composite of
 * MatMul, Add and Softmax rules would take the softmax backward in 4 passes over the scores and transpose
 * k and v again).
 */
import { type OpDef, type Tensor, sameDim } from '../graph.ts';
import { broadcastShapes, mul, sub, sumTo } from './elementwise.ts';
import { matmul } from './matmul.ts';
import { sum } from './reduce.ts';
import { transpose } from './shape.ts';

type T = Tensor;

/**
 * Attention(q [..., T, Dh], k [..., S, Dh], v [..., S, Dv], bias? (broadcasts to [..., T, S]))
 *   -> o [..., T, Dv], p [..., T, S] (the attention weights, saved for the gradient; they carry none).
 * q arrives scaled (1/sqrt(Dh) is the caller's, so that it folds into q's projection). Gradient, with
 * r = rowsum(do o) = rowsum(dp p) (FlashAttention's identity: a pass over [..., T, Dv], not [..., T, S]):
 *   dp = do v^T;  ds = p (dp - r);  dq = ds k;  dk = ds^T q;  dv = p^T do;  dbias = ds summed to its shape
 * 2 passes over the scores besides the products (sub, mul).
 */
export const Attention: OpDef = {
  name: 'Attention',
  infer([q, k, v, bias]) {
    const r = q.rank;
    const lead = (x: T) => x.shape.slice(0, -2);
    if (r < 3 || k.rank !== r || v.rank !== r) throw new Error(`attention: q, k, v need one rank >= 3, got ${q}, ${k}, ${v}`);
    if (q.dtype !== k.dtype || q.dtype !== v.dtype) throw new Error(`attention: dtypes differ (${q}, ${k}, ${v})`);
    if (![k, v].every((x) => lead(x).every((d, i) => sameDim(d, lead(q)[i])))) throw new Error(`attention: q, k, v need the same leading dims, got ${q}, ${k}, ${v}`);
    if (!sameDim(q.shape[r - 1], k.shape[r - 1]) || !sameDim(k.shape[r - 2], v.shape[r - 2])) {
      throw new Error(`attention: expected q [..., T, Dh], k [..., S, Dh], v [..., S, Dv], got ${q}, ${k}, ${v}`);
    }
    const scores = [...lead(q), q.shape[r - 2], k.shape[r - 2]];
    if (bias) {
      if (bias.dtype !== q.dtype) throw new Error(`attention: bias ${bias} must have q's dtype ${q.dtype}`);
      broadcastShapes('attention bias', [scores, bias.shape]);
    }
    return [{ dtype: q.dtype, shape: [...lead(q), q.shape[r - 2], v.shape[r - 1]] }, { dtype: q.dtype, shape: scores }];
  },
  emit(e, [q, k, v, bias], [o, p], _a, n) {
    const kT = e.tmp(), s = e.tmp();
    e.node('Transpose', [k], [kT], { perm: swapPerm(n.inputs[1].rank) });
    e.node('MatMul', [q, kT], [s]);
    let logits = s;
    if (bias) {
      logits = e.tmp();
      e.node('Add', [s, bias], [logits]);
    }
    e.node('Softmax', [logits], [p], { axis: -1 });
    e.node('MatMul', [p, v], [o]);
  },
  grad(n, [dO, dP]) {
    if (dP) throw new Error('attention: its saved weights output carries no gradient; use the first output only');
    if (!dO) return n.inputs.map(() => null);
    const [q, k, v, bias] = n.inputs;
    const [o, p] = n.outputs;
    const ds = mul(p, sub(matmul(dO, swapLast(v)), sum(mul(dO, o), [-1], true)));
    return [matmul(ds, k), matmul(swapLast(ds), q), matmul(swapLast(p), dO), bias ? sumTo(ds, bias) : null].slice(0, n.inputs.length);
  },
};

function swapPerm(rank: number): number[] {
  const p = Array.from({ length: rank }, (_, i) => i);
  [p[rank - 2], p[rank - 1]] = [p[rank - 1], p[rank - 2]];
  return p;
}

function swapLast(x: T): T {
  return transpose(x, swapPerm(x.rank));
}

/** softmax(q k^T + bias) v for q [..., T, Dh] (already scaled), k [..., S, Dh], v [..., S, Dv]. */
export function attentionCore(q: T, k: T, v: T, bias?: T): T {
  return q.graph.apply(Attention, bias ? [q, k, v, bias] : [q, k, v], {})[0];
}
