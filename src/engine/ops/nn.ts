/**
 * Composite layers built from primitive ops (they need no gradient code of their own): linear, embedding,
 * causal attention, cross-entropy. (GELU and per-token log-probs are ops: ./elementwise.ts, ./reduce.ts.)
 */
import type { Dim } from '../dtype.ts';
import type { Graph, Tensor } from '../graph.ts';
import { attentionCore } from './attention.ts';
import { add, and, cast, div, lessOrEqual, mul, neg, sub, where } from './elementwise.ts';
import { gemm, matmul } from './matmul.ts';
import { mean, sumAll, tokenLogProbs } from './reduce.ts';
import { arange, dimOf, gather, reshape, unsqueeze } from './shape.ts';

type T = Tensor;

/**
 * x [..., in] @ w [in, out] (+ b [out]) -> [..., out], as one Gemm on x flattened to 2-D: the bias is added
 * inside the matrix product, and constant scalings next to it fold into its alpha (see ../fold.ts).
 */
export function linear(x: T, w: T, b?: T): T {
  if (w.rank !== 2 || (b && b.rank !== 1) || x.rank < 2) return b ? add(matmul(x, w), b) : matmul(x, w);
  if (x.rank === 2) return gemm(x, w, {}, b);
  return reshape(gemm(flat(x), w, {}, b), [...x.shape.slice(0, -1), w.shape[1]]);
}

/** x [..., in] -> [rows, in], one node per x: linears sharing an input share it (and the weight gradients' x^T). */
const flats = new WeakMap<T, T>();
function flat(x: T): T {
  let f = flats.get(x);
  if (!f) flats.set(x, (f = reshape(x, [-1, x.shape[x.rank - 1]])));
  return f;
}

/** table [V, D], ids int [...] -> [..., D]. */
export function embedding(table: T, ids: T): T {
  return gather(table, ids, 0);
}

/**
 * Causal visibility [T, S] bool for T queries that are the last T of S key positions: key j is visible
 * from query i when j <= i + (S - T). With a KV cache, S = past + T.
 */
export function causalAllowed(g: Graph, tq: Dim, sk: Dim): T {
  const offset = tq === sk ? undefined : sub(dimOf(g, sk), dimOf(g, tq));
  return lessOrEqual(unsqueeze(arange(g, sk), [0]), unsqueeze(arange(g, tq, offset), [1]));
}

export interface AttentionOptions {
  causal: boolean;
  /** [B, S] bool, true where a key position holds a real token (false for padding). */
  keyMask?: T;
}

/**
 * Scaled dot-product attention. q [B, H, T, Dh], k, v [B, H, S, Dh] -> [B, H, T, Dh].
 * Masked scores get -1e9 (finite, so fully masked rows give a uniform average instead of NaN).
 */
export function attention(q: T, k: T, v: T, opts: AttentionOptions): T {
  const g = q.graph;
  const dh = q.shape[3];
  if (typeof dh !== 'number') throw new Error(`attention: head dim must be fixed, got ${q}`);
  // scale q [.., T, Dh] rather than the scores [.., T, S]: fewer elements whenever S > Dh
  let allowed: T | undefined;
  if (opts.causal) allowed = causalAllowed(g, q.shape[2], k.shape[2]);
  if (opts.keyMask) {
    const km = unsqueeze(opts.keyMask, [1, 2]);
    allowed = allowed ? and(allowed, km) : km;
  }
  const bias = allowed && where(allowed, g.scalar(0, q.dtype), g.scalar(-1e9, q.dtype));
  return attentionCore(mul(q, 1 / Math.sqrt(dh)), k, v, bias);
}

/**
 * Mean cross-entropy of logits [..., V] against int targets [...]; with `mask` [...] (1 = counts), the mean
 * over masked positions.
 */
export function crossEntropy(logits: T, targets: T, mask?: T): T {
  const lp = tokenLogProbs(logits, targets);
  if (!mask) return neg(mean(lp, lp.shape.map((_, i) => i)));
  const m = cast(mask, lp.dtype);
  return neg(div(sumAll(mul(lp, m)), sumAll(m)));
}

