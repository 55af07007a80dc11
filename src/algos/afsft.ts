/**
 * AFSFT / VLM Q-Learning (Grigsby et al. 2025; spec §4): advantage-filtered SFT with a token-level Q critic.
 *
 * Token MDP inside an utterance: state h_i = (o, y_<i), action y_i. Critic head: Q(h_i, v) for every v;
 * V(h_i) = Σ_v π(v|h_i)·Q(h_i, v). k-step TD targets from the target network (V̄), k = tdSteps (1: the
 * spec's one-step TD):
 *   y_i = V̄(h_{i+k})                       for i + k ≤ n−1   (γ = 1, no reward inside the utterance)
 *   y_i = r_t + γ·V̄(h'_0)                  for the last k tokens (h'_0: the next env step, before any token)
 *   y_i = r_t                               there, at a terminal step
 * Why k > 1: one-step TD moves the reward back one token per target-network lag, and an utterance is
 * ~100 byte tokens; k larger than the utterance gives every token the step's bootstrapped
 * return, an n-step target that ignores the policy's other token choices inside the utterance (as n-step
 * DQN targets do).
 *   truncated step: bootstrap as above when V̄(h'_0) of the final observation is known, else the token is
 *   left out of the critic loss (a logged dataset does not keep the final observation).
 * Actor:  L_actor = −Σ_i f(A_i)·log π(y_i|h_i)·m_i / Σ m_i,  A_i = Q(h_i, y_i) − V(h_i) (detached)
 *   f = 1[A > 0] (binary, default) or min(exp(β·A), maxWeight) ("exp"); f ≡ 1 during the first
 *   actorWarmup offline steps (input filter_on = 0).
 * Critic: L_critic = Σ_i (Q(h_i, y_i) − y_i)²·c_i / Σ c_i  [+ cqlCoef·Σ_i (logsumexp_v Q(h_i, v) − Q(h_i, y_i))·c_i / Σ c_i].
 * Total: L_actor + criticCoef·L_critic.
 * Target network: θ̄ ← (1 − τ)·θ̄ + τ·θ after every step.
 */
import {
  adamw, add, buildInference, buildTrainStep, cast, div, exp, gatherElements, Graph, greater, maximum, minimum, mul, neg,
  softmax, squeeze, stopGradient, sub, sum, sumAll, tokenLogProbs, unsqueeze, type HostTensor, type InferenceModel, type Tensor, type TrainStepModel,
} from '../engine/index.ts';
import { qValues, softValue as softValueGraph, teacherForced, teacherForcedInputs } from '../models/policy.ts';
import { declareVlm, type Vlm } from '../models/vlm.ts';
import { check, parseConfig } from './config.ts';
import { freezeHeads } from './heads.ts';

export const AFSFT_DEFAULTS = {
  gamma: 0.9,
  filter: 'binary' as string, // 'binary' | 'exp'
  beta: 1.0,
  maxWeight: 20,
  criticCoef: 1.0,
  tau: 0.01,
  /**
   * k of the k-step TD target inside an utterance (module comment); 1 is the spec's one-step TD. Offline on
   * noisy NumberLine (600 steps) the critic's mean Q stayed at −0.002 with k = 1 and reached the returns'
   * scale (−0.7) with k = 1024.
   */
  tdSteps: 1,
  /**
   * offline steps at the start whose actor loss is plain SFT (f ≡ 1) while the critic trains. VLM
   * Q-Learning starts from a fine-tuned VLM, whose π makes V(h) = Σ_v π(v|h)·Q(h, v) meaningful; from
   * scratch π is uniform, V averages untrained Q(h, v) of tokens never taken, A < 0 almost everywhere and the
   * binary filter kept 0.2-0.7% of the tokens (nothing learned in 600 steps). 0: filter from the first step.
   */
  actorWarmup: 0,
  /**
   * weight of a conservative term (CQL, Kumar et al. 2020) in the critic loss: mean_i logsumexp_v Q(h_i, v) −
   * Q(h_i, y_i), which pushes down the Q of tokens the data never took. Without it their Q stays above the
   * taken tokens' (the data's returns are mostly negative), V > Q(taken) and A < 0 almost everywhere: after
   * the actor warm-up the binary filter kept 1-1.6% of the tokens. 0: the spec's critic loss.
   */
  cqlCoef: 0,
  lr: 3e-4,
  weightDecay: 0.0,
  maxGradNorm: 1.0,
  batchSize: 32,
  /** online (VLMQ-online): env steps per rollout batch, gradient steps after each, sampling temperature */
  envStepsPerUpdate: 128,
  gradStepsPerUpdate: 32,
  temperature: 1.0,
};
export type AfsftConfig = typeof AFSFT_DEFAULTS;

export function afsftConfig(raw?: unknown): AfsftConfig {
  const c = parseConfig(AFSFT_DEFAULTS, raw, 'afsft');
  check(c.filter === 'binary' || c.filter === 'exp', 'afsft', 'filter', '"binary" or "exp"', c.filter);
  check(c.gamma >= 0 && c.gamma <= 1, 'afsft', 'gamma', 'a number in [0, 1]', c.gamma);
  check(c.tau > 0 && c.tau <= 1, 'afsft', 'tau', 'a number in (0, 1]', c.tau);
  check(Number.isInteger(c.tdSteps) && c.tdSteps >= 1, 'afsft', 'tdSteps', 'an integer ≥ 1', c.tdSteps);
  check(Number.isInteger(c.actorWarmup) && c.actorWarmup >= 0, 'afsft', 'actorWarmup', 'an integer ≥ 0', c.actorWarmup);
  return c;
}

/** Step-table columns this method reads (it trains on the text of any dataset; log-probs are not needed). */
export const AFSFT_COLUMNS = ['episode_id', 'step', 'obs_text', 'output_text', 'reward', 'terminated', 'truncated'] as const;

/**
 * Token-level TD targets (plain JS reference; the training graph computes the same from tensors).
 * vBar: [B, T] V̄(h_i) at each generated position (row-major, padded to T); lengths: [B] tokens n_b ≥ 1;
 * reward, terminated, truncated: [B] of the env step; vBarNext: [B] V̄(h'_0) of the next env step, NaN where
 * unknown (allowed only on a truncated step). Returns target and critic mask, both [B, T].
 */
export function tdTargets(
  vBar: ArrayLike<number>, lengths: ArrayLike<number>, reward: ArrayLike<number>,
  terminated: ArrayLike<boolean | number>, truncated: ArrayLike<boolean | number>,
  vBarNext: ArrayLike<number>, gamma: number, tdSteps = 1,
): { target: Float32Array; mask: Float32Array } {
  if (!(Number.isInteger(tdSteps) && tdSteps >= 1)) throw new Error(`tdTargets: tdSteps must be an integer ≥ 1, got ${tdSteps}`);
  const B = lengths.length;
  const T = vBar.length / B;
  if (!Number.isInteger(T)) throw new Error(`tdTargets: vBar has ${vBar.length} entries, not a multiple of B = ${B}`);
  const target = new Float32Array(B * T);
  const mask = new Float32Array(B * T);
  for (let b = 0; b < B; b++) {
    const n = lengths[b];
    if (!(n >= 1 && n <= T)) throw new Error(`tdTargets: row ${b}: length ${n} outside [1, ${T}]`);
    // the end-of-utterance target (NaN: unknown, left out of the critic loss)
    let end = NaN;
    if (terminated[b]) end = reward[b];
    else if (Number.isFinite(vBarNext[b])) end = reward[b] + gamma * vBarNext[b];
    else if (!truncated[b]) {
      throw new Error(`tdTargets: row ${b}: the episode goes on but V̄ of its next step is ${vBarNext[b]}; pass the next step's row`);
    }
    for (let i = 0; i < n; i++) {
      const j = i + tdSteps; // γ = 1 and no reward inside the utterance: y_i = V̄(h_j) while j is in it
      const y = j <= n - 1 ? vBar[b * T + j] : end;
      if (Number.isNaN(y)) continue;
      target[b * T + i] = y;
      mask[b * T + i] = 1;
    }
  }
  return { target, mask };
}

/** The advantage filter f(A) (element-wise). */
export function filterWeights(adv: ArrayLike<number>, cfg: Pick<AfsftConfig, 'filter' | 'beta' | 'maxWeight'>): Float64Array {
  const out = new Float64Array(adv.length);
  for (let i = 0; i < adv.length; i++) {
    out[i] = cfg.filter === 'binary' ? (adv[i] > 0 ? 1 : 0) : Math.min(Math.exp(cfg.beta * adv[i]), cfg.maxWeight);
  }
  return out;
}

/** Fraction of generated tokens the filter keeps (binary) or the mean weight (exp), over mask [B, T]. */
export function fractionKept(weights: ArrayLike<number>, mask: ArrayLike<number>): number {
  let s = 0, m = 0;
  for (let i = 0; i < mask.length; i++) { s += weights[i] * mask[i]; m += mask[i]; }
  return m > 0 ? s / m : 0;
}

/** V(h) = Σ_v softmax(logits)_v · Q_v for one position (reference for the graph's soft value). */
export function softValue(logits: ArrayLike<number>, q: ArrayLike<number>): number {
  let mx = -Infinity;
  for (let i = 0; i < logits.length; i++) mx = Math.max(mx, logits[i]);
  let z = 0, s = 0;
  for (let i = 0; i < logits.length; i++) { const e = Math.exp(logits[i] - mx); z += e; s += e * q[i]; }
  return s / z;
}

/**
 * Plain-JS AFSFT loss (reference for the graph version). Per token [B·T]: logp = log π(y_i|h_i),
 * qTaken = Q(h_i, y_i), v = V(h_i), target/criticMask from tdTargets, mask = generated tokens.
 */
export function afsftLossReference(
  x: {
    logp: ArrayLike<number>; qTaken: ArrayLike<number>; v: ArrayLike<number>; target: ArrayLike<number>; criticMask: ArrayLike<number>; mask: ArrayLike<number>;
    /** logsumexp_v Q(h_i, v), needed when cqlCoef ≠ 0 */
    qLse?: ArrayLike<number>;
  },
  cfg: Pick<AfsftConfig, 'filter' | 'beta' | 'maxWeight' | 'criticCoef'> & { cqlCoef?: number },
  filterOn = true,
): { loss: number; actor: number; critic: number; kept: number } {
  const adv = Array.from(x.qTaken, (q, i) => q - x.v[i]);
  const f = filterOn ? filterWeights(adv, cfg) : new Float64Array(adv.length).fill(1);
  let a = 0, m = 0, c = 0, cm = 0, cql = 0;
  for (let i = 0; i < x.mask.length; i++) {
    a -= f[i] * x.logp[i] * x.mask[i];
    m += x.mask[i];
    c += (x.qTaken[i] - x.target[i]) ** 2 * x.criticMask[i];
    if (cfg.cqlCoef) cql += (x.qLse![i] - x.qTaken[i]) * x.criticMask[i];
    cm += x.criticMask[i];
  }
  const actor = a / Math.max(m, 1), critic = (c + (cfg.cqlCoef ?? 0) * cql) / Math.max(cm, 1);
  return { loss: actor + cfg.criticCoef * critic, actor, critic, kept: fractionKept(f, x.mask) };
}

/**
 * The AFSFT loss as graph code. logits, q: [B, T, V] (policy and Q heads at the generated positions);
 * tokens: int [B, T]; mask, target, criticMask: [B, T] inputs (targets from tdTargets on the target
 * network's V̄). Returns the loss and the statistics the training loop logs.
 */
export function afsftLoss(
  x: { logits: Tensor; q: Tensor; tokens: Tensor; mask: Tensor; target: Tensor; criticMask: Tensor; filterOn?: Tensor },
  cfg: Pick<AfsftConfig, 'filter' | 'beta' | 'maxWeight' | 'criticCoef'> & { cqlCoef?: number },
): { loss: Tensor; actor: Tensor; critic: Tensor; kept: Tensor; qMean: Tensor; vMean: Tensor; advMean: Tensor } {
  const logp = tokenLogProbs(x.logits, x.tokens);
  const qTaken = squeeze(gatherElements(x.q, unsqueeze(x.tokens, [-1]), -1), [-1]);
  const v = sum(mul(stopGradient(softmax(x.logits, -1)), x.q), [-1]);
  const adv = stopGradient(sub(qTaken, v));
  const filtered = cfg.filter === 'binary'
    ? cast(greater(adv, 0), adv.dtype)
    : minimum(exp(mul(adv, cfg.beta)), cfg.maxWeight);
  // filterOn (scalar 0 or 1): f·on + (1 − on), so 0 is plain SFT (the actor warm-up)
  const f = x.filterOn ? add(mul(filtered, x.filterOn), sub(1, x.filterOn)) : filtered;
  const m = x.mask;
  const msum = maximum(sumAll(m), 1);
  const actor = neg(div(sumAll(mul(mul(f, logp), m)), msum));
  const err = sub(qTaken, x.target);
  let critic = div(sumAll(mul(mul(err, err), x.criticMask)), maximum(sumAll(x.criticMask), 1));
  if (cfg.cqlCoef) {
    // logsumexp_v Q(h, v) − Q(h, y) = −log softmax(Q(h, ·))[y]
    const cql = neg(div(sumAll(mul(tokenLogProbs(x.q, x.tokens), x.criticMask)), maximum(sumAll(x.criticMask), 1)));
    critic = add(critic, mul(cql, cfg.cqlCoef));
  }
  const mean = (t: Tensor) => div(sumAll(mul(t, m)), msum);
  return {
    loss: add(actor, mul(critic, cfg.criticCoef)), actor, critic,
    kept: mean(f), qMean: mean(qTaken), vMean: mean(v), advMean: mean(adv),
  };
}

/** The training step: actor and critic in one graph on the shared backbone (the value head is frozen). */
export function buildAfsftStep(m: Vlm, cfg: AfsftConfig): TrainStepModel {
  const g = new Graph();
  const p = declareVlm(g, m);
  freezeHeads(g, ['value.']);
  const x = teacherForcedInputs(g, m.cfg);
  const { h, logits } = teacherForced(p, x);
  const target = g.input('td_target', 'float32', ['batch', 'out']);
  const criticMask = g.input('critic_mask', 'float32', ['batch', 'out']);
  const filterOn = g.input('filter_on', 'float32', []);
  const out = afsftLoss({ logits, q: qValues(p, h), tokens: x.targets, mask: x.mask, target, criticMask, filterOn }, cfg);
  return buildTrainStep(g, {
    loss: out.loss, optimizer: adamw({ weightDecay: cfg.weightDecay }), clipNorm: cfg.maxGradNorm,
    metrics: { actor: out.actor, critic: out.critic, kept: out.kept, q_mean: out.qMean, v_mean: out.vMean, adv_mean: out.advMean },
  });
}

/** Prefix of the target network's weights in the runner state. */
export const TARGET_PREFIX = 'target.';

/** V̄(h_i) = Σ_v π̄(v|h_i)·Q̄(h_i, v) of the target network at every generated position: 'vbar' [B, out]. */
export function buildTargetValue(m: Vlm): InferenceModel {
  const g = new Graph();
  const p = declareVlm(g, m, { prefix: TARGET_PREFIX });
  for (const prm of g.params.values()) prm.trainable = true; // fed from the runner state, never baked in
  const x = teacherForcedInputs(g, m.cfg);
  const { h, logits } = teacherForced(p, x);
  return buildInference(g, { outputs: { vbar: softValueGraph(logits, qValues(p, h)) }, weights: 'inputs' });
}

/** θ̄ ← (1 − τ)·θ̄ + τ·θ, in place on host tensors. */
export function polyak(target: Record<string, HostTensor>, online: Record<string, HostTensor>, tau: number): void {
  for (const [name, t] of Object.entries(online)) {
    const d = target[TARGET_PREFIX + name]?.data as Float32Array | undefined;
    if (!d) throw new Error(`polyak: the target network has no ${TARGET_PREFIX + name}`);
    const s = t.data as Float32Array;
    for (let i = 0; i < d.length; i++) d[i] = (1 - tau) * d[i] + tau * s[i];
  }
}
