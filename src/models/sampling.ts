/**
 * Sampling from the temperature-scaled policy π_T(v) = softmax(logits / T)_v, with a seeded generator.
 * The log-probs returned are those of π_T (spec §2: the behaviour log-probs the store keeps), computed in
 * float64 from the float32 logits.
 */
import type { Rng } from '../util/rng.ts';

/** log π_T of every entry of one logits row: logits[offset .. offset+V). Returns [V]. */
export function logSoftmaxT(logits: ArrayLike<number>, offset: number, V: number, T: number): Float64Array {
  if (!(T > 0)) throw new RangeError(`temperature: expected a positive number, got ${T}`);
  let max = -Infinity;
  for (let v = 0; v < V; v++) max = Math.max(max, logits[offset + v] / T);
  let sum = 0;
  for (let v = 0; v < V; v++) sum += Math.exp(logits[offset + v] / T - max);
  const lse = max + Math.log(sum);
  const out = new Float64Array(V);
  for (let v = 0; v < V; v++) out[v] = logits[offset + v] / T - lse;
  return out;
}

/**
 * Draws one token from π_T over logits[offset .. offset+V) (inverse CDF with one uniform from `rng`);
 * `banned` ids get probability 0 (e.g. pad and image tokens, which a policy must never emit).
 * Returns the token and its log π_T (computed with the banned ids included, as a teacher-forced
 * evaluation of the same logits does).
 */
export function sampleToken(logits: ArrayLike<number>, offset: number, V: number, T: number, rng: Rng, banned: readonly number[] = []): { token: number; logp: number } {
  const lp = logSoftmaxT(logits, offset, V, T);
  let total = 0;
  const p = new Float64Array(V);
  for (let v = 0; v < V; v++) { p[v] = Math.exp(lp[v]); }
  for (const b of banned) p[b] = 0;
  for (let v = 0; v < V; v++) total += p[v];
  let u = rng.float() * total;
  let token = -1;
  for (let v = 0; v < V; v++) {
    if (p[v] === 0) continue;
    token = v;
    u -= p[v];
    if (u < 0) break;
  }
  if (token < 0) throw new Error('sampleToken: every token is banned or has probability 0');
  return { token, logp: lp[token] };
}
