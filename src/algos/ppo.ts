/**
 * PPO with the scaled chain-of-thought likelihood of RL4VLM (Zhai et al. 2024; spec §2).
 *
 *   log π(a|o) = λ·Σ_{i<s} log π(y_i) + Σ_{i≥s} log π(y_i)        s = action_start, λ = cotLambda
 *   ρ = exp(log π_new(a|o) − log π_old(a|o))
 *   L_pg = mean_b −min(ρ·A, clip(ρ, 1−ε, 1+ε)·A)                   A: GAE, normalised over the rollout
 *   L_v  = mean_b ½·max((V − R)², (V_old + clip(V − V_old, −ε, ε) − R)²)
 *   L    = L_pg + c_v·L_v                                            (no entropy bonus; CoSo adds one)
 * Shapes: logp, mask: [B, T] (generated tokens, padded); actionStart, adv, ret, vOld, logpOld: [B].
 * ratioLevel 'token' (not RL4VLM): ρ_i = exp(log π_new(y_i) − log π_old(y_i)) per token,
 *   L_pg = mean_b Σ_i w_i·−min(ρ_i·A, clip(ρ_i, 1−ε, 1+ε)·A)        w_i = λ before s, 1 from s on
 * whose gradient at ρ = 1 is the sequence form's; only the trust region differs (each token clipped alone).
 */
import {
  abs, adamw, add, buildTrainStep, cast, clip, div, exp, Graph, greater, maximum, meanAll, minimum, mul, neg, stopGradient, sub, sum, sumAll, unsqueeze,
  type Tensor, type TrainStepModel,
} from '../engine/index.ts';
import { targetLogprobs, teacherForced, teacherForcedInputs, thoughtMask, values, vocabLogprobs, type TfInputs } from '../models/policy.ts';
import { declareVlm, type Vlm } from '../models/vlm.ts';
import { check, parseConfig } from './config.ts';
import { freezeHeads } from './heads.ts';

export const PPO_DEFAULTS = {
  gamma: 0.9,
  gaeLambda: 0.95,
  cotLambda: 0.5,
  clipEps: 0.1,
  /**
   * Where the ratio is taken and clipped. 'sequence' (RL4VLM): one ratio per action, of the λ-scaled
   * log-likelihood. 'token': one ratio per generated token, each clipped alone, the clipped surrogates summed
   * with the λ weights (the gradient at ρ = 1 is the same as 'sequence''s).
   */
  ratioLevel: 'sequence' as 'sequence' | 'token',
  valueCoef: 0.5,
  epochs: 4,
  minibatchSize: 32,
  /** env steps collected per update (RL4VLM: 512 for NumberLine/Blackjack) */
  stepsPerUpdate: 128,
  /**
   * RL4VLM's lr. At 1e-4 single Adam steps moved this small model's tempered policy far (KL(old‖new)
   * 0.1-10 within an update) once the batches held no signal (every episode a success); with the value
   * head detached and warmed up, one update at lr 1e-4 reached KL 9.9 and EZPoints fell from 100% to 50%
   * success (last 200 episodes) by 2,000 env steps.
   */
  lr: 1e-5,
  lrEnd: 1e-7,
  maxGradNorm: 1.0,
  /** sampling temperature; log-probs are those of π_T (RL4VLM: T = 0.2, spec §2) */
  temperature: 0.2,
  /**
   * An update stops its epochs after the minibatch step whose KL(old‖new) estimate (metric `kl`, measured
   * before that step) exceeds 1.5 × targetKl (as Stable-Baselines3's PPO); 0: never. Not in RL4VLM. Without
   * it single updates at KL 0.13-0.96 took PPO on EZPoints from 100% to 80%; with 0.02 it stayed at 100%.
   */
  targetKl: 0.02,
  /**
   * false: the value head trains on the trunk's features without moving them (stop-gradient). true: the
   * value loss also trains the shared trunk, as RL4VLM. From an SFT start the untrained value head's loss
   * dominates the first updates (EZPoints' +10 rewards: vf 33 vs pg 0.01) and, through the trunk, took
   * EZPoints' batch success from 100% to 50% in the second update (lr 1e-4).
   */
  valueTrunkGrad: false,
  /**
   * Updates at the start that train the value head only (advantages fed as 0, so the policy-gradient term is
   * 0 and, with valueTrunkGrad false, the policy does not move). An untrained value head makes GAE's
   * advantages grow with the step index (later steps are nearer the reward), a bias that pushed EZPoints'
   * first moves down: 100% to 58% within 1,200 env steps even with the trunk detached. Not in RL4VLM.
   * The warm-up's value loss is not clipped (clipping holds each row's value within ±clipEps of its rollout
   * value per update, so EZPoints' returns of 10 took 8 clipped updates to reach a loss of 1.3; unclipped, 3).
   */
  valueWarmup: 8,
  /**
   * A batch whose episodes all have the same (undiscounted) return trains the value head only, as the
   * warm-up. Its GAE advantages are then only the value head's error, which per-batch normalisation scales
   * to unit size: on EZPoints (every episode +10) one such update moved the policy to KL 0.024, and seed 0
   * ended at 92.5% (PPO) and 80.0% (CoSo) from a start at 100%; with this on, 100% on 3 seeds. The same idea as
   * DAPO's dynamic sampling (Yu et al. 2025), which drops groups whose samples all succeed or all fail.
   * Not in RL4VLM. Metric `value_only`: 1 for such updates (and the warm-up).
   */
  uniformValueOnly: true,
  /**
   * The value head's learning rate over lr (1e-3 with the default lr). With the trunk detached only the
   * head's small MLP fits the returns: at 1e-4 EZPoints' value loss fell from 33 to 26 in 8 updates, at 1e-3
   * to 1.4.
   */
  valueLrScale: 100,
};
export type PpoConfig = typeof PPO_DEFAULTS;

export function ppoConfig(raw?: unknown): PpoConfig {
  const c = parseConfig(PPO_DEFAULTS, raw, 'ppo');
  check(c.clipEps > 0 && c.clipEps < 1, 'ppo', 'clipEps', 'a number in (0, 1)', c.clipEps);
  check(Number.isInteger(c.epochs) && c.epochs >= 1, 'ppo', 'epochs', 'an integer ≥ 1', c.epochs);
  check(Number.isInteger(c.minibatchSize) && c.minibatchSize >= 1, 'ppo', 'minibatchSize', 'an integer ≥ 1', c.minibatchSize);
  check(Number.isInteger(c.stepsPerUpdate) && c.stepsPerUpdate >= 1, 'ppo', 'stepsPerUpdate', 'an integer ≥ 1', c.stepsPerUpdate);
  check(c.temperature > 0, 'ppo', 'temperature', 'a positive number', c.temperature);
  check(c.targetKl >= 0, 'ppo', 'targetKl', 'a number ≥ 0', c.targetKl);
  check(Number.isInteger(c.valueWarmup) && c.valueWarmup >= 0, 'ppo', 'valueWarmup', 'an integer ≥ 0', c.valueWarmup);
  check(c.valueLrScale > 0, 'ppo', 'valueLrScale', 'a positive number', c.valueLrScale);
  return c;
}

/** Columns a PPO update reads from rollout rows: the behaviour log-probs and values must be there. */
export const PPO_COLUMNS = ['output_tokens', 'output_logprobs', 'action_start', 'value', 'reward', 'terminated', 'truncated'] as const;

/** λ-scaled action log-likelihood per row. logp, mask: [B, T]; actionStart: [B]. Returns [B]. */
export function cotLogLik(logp: ArrayLike<number>, mask: ArrayLike<number>, actionStart: ArrayLike<number>, lambda: number): Float64Array {
  const B = actionStart.length, T = logp.length / B;
  const out = new Float64Array(B);
  for (let b = 0; b < B; b++) {
    let s = 0;
    for (let i = 0; i < T; i++) s += (i < actionStart[b] ? lambda : 1) * logp[b * T + i] * mask[b * T + i];
    out[b] = s;
  }
  return out;
}

export interface PpoStats { loss: number; pg: number; vf: number; ratioMean: number; clipFrac: number; approxKl: number }

/** Plain-JS PPO loss on per-row quantities [B] (reference for the graph version). */
export function ppoLossReference(
  x: { logpNew: ArrayLike<number>; logpOld: ArrayLike<number>; adv: ArrayLike<number>; v: ArrayLike<number>; vOld: ArrayLike<number>; ret: ArrayLike<number> },
  cfg: Pick<PpoConfig, 'clipEps' | 'valueCoef'>,
): PpoStats {
  const B = x.adv.length, e = cfg.clipEps;
  let pg = 0, vf = 0, rs = 0, cf = 0, kl = 0;
  for (let b = 0; b < B; b++) {
    const d = x.logpNew[b] - x.logpOld[b];
    const r = Math.exp(d);
    const rc = Math.min(Math.max(r, 1 - e), 1 + e);
    pg += -Math.min(r * x.adv[b], rc * x.adv[b]);
    const vc = x.vOld[b] + Math.min(Math.max(x.v[b] - x.vOld[b], -e), e);
    vf += 0.5 * Math.max((x.v[b] - x.ret[b]) ** 2, (vc - x.ret[b]) ** 2);
    rs += r;
    cf += Math.abs(r - 1) > e ? 1 : 0;
    kl += r - 1 - d; // the low-variance k3 estimator of KL(old‖new)
  }
  pg /= B; vf /= B;
  return { loss: pg + cfg.valueCoef * vf, pg, vf, ratioMean: rs / B, clipFrac: cf / B, approxKl: kl / B };
}

/**
 * Plain-JS token-level PPO policy loss (reference for ppoTokenLoss). logpNew, logpOld, w: [B·T] (w: the λ
 * token weights, 0 on padding); adv: [B]. pg = mean_b Σ_i w_bi·−min(ρ_bi·A_b, clip(ρ_bi)·A_b); kl: mean_b of
 * the λ-weighted sum of per-token k3 estimates; ratioMean, clipFrac over the tokens with w > 0.
 */
export function ppoTokenLossReference(
  x: { logpNew: ArrayLike<number>; logpOld: ArrayLike<number>; w: ArrayLike<number>; adv: ArrayLike<number> },
  cfg: Pick<PpoConfig, 'clipEps'>,
): { pg: number; ratioMean: number; clipFrac: number; approxKl: number } {
  const B = x.adv.length, T = x.w.length / B, e = cfg.clipEps;
  let pg = 0, rs = 0, cf = 0, kl = 0, n = 0;
  for (let b = 0; b < B; b++) {
    for (let i = 0; i < T; i++) {
      const w = x.w[b * T + i];
      if (w === 0) continue;
      const d = x.logpNew[b * T + i] - x.logpOld[b * T + i];
      const r = Math.exp(d);
      const rc = Math.min(Math.max(r, 1 - e), 1 + e);
      pg += w * -Math.min(r * x.adv[b], rc * x.adv[b]);
      kl += w * (r - 1 - d);
      rs += r;
      cf += Math.abs(r - 1) > e ? 1 : 0;
      n++;
    }
  }
  return { pg: pg / B, ratioMean: rs / n, clipFrac: cf / n, approxKl: kl / B };
}

/** Cosine learning-rate schedule from lr to lrEnd over `total` updates. */
export function cosineLr(cfg: Pick<PpoConfig, 'lr' | 'lrEnd'>, update: number, total: number): number {
  const p = Math.min(1, update / Math.max(1, total));
  return cfg.lrEnd + 0.5 * (cfg.lr - cfg.lrEnd) * (1 + Math.cos(Math.PI * p));
}

/**
 * Per-token weights of the λ-scaled likelihood: λ on thought tokens (i < actionStart), 1 on action tokens,
 * 0 on padding. lengths, actionStart: [B]. Returns [B, T].
 */
export function cotTokenWeights(lengths: ArrayLike<number>, actionStart: ArrayLike<number>, T: number, lambda: number): Float32Array {
  const B = lengths.length;
  const w = new Float32Array(B * T);
  for (let b = 0; b < B; b++) for (let i = 0; i < lengths[b]; i++) w[b * T + i] = i < actionStart[b] ? lambda : 1;
  return w;
}

/**
 * The PPO loss as graph code. logp: [B, T] log π_new(y_i) at the sampling temperature; tokWeight: [B, T]
 * from cotTokenWeights; v: [B] value head; logpOld, adv, vOld, ret: [B] inputs. Scalars out.
 */
export function ppoLoss(
  x: { logp: Tensor; tokWeight: Tensor; v: Tensor; logpOld: Tensor; adv: Tensor; vOld: Tensor; ret: Tensor },
  cfg: Pick<PpoConfig, 'clipEps' | 'valueCoef'>,
): { loss: Tensor; pg: Tensor; vf: Tensor; ratio: Tensor; clipFrac: Tensor; kl: Tensor } {
  const e = cfg.clipEps;
  const logpNew = sum(mul(x.logp, x.tokWeight), [1]);
  const logRatio = sub(logpNew, x.logpOld);
  const ratio = exp(logRatio);
  const pg = meanAll(neg(minimum(mul(ratio, x.adv), mul(clip(ratio, 1 - e, 1 + e), x.adv))));
  const vf = clippedValueLoss(x.v, x.vOld, x.ret, e);
  const clipFrac = meanAll(cast(greater(abs(sub(ratio, 1)), e), ratio.dtype));
  const kl = meanAll(sub(sub(ratio, 1), logRatio)); // k3 estimator of KL(old‖new), as ppoLossReference
  return { loss: add(pg, mul(vf, cfg.valueCoef)), pg, vf, ratio: meanAll(ratio), clipFrac, kl };
}

/** L_v = mean_b ½·max((V − R)², (V_old + clip(V − V_old, −ε, ε) − R)²), all [B]. */
function clippedValueLoss(v: Tensor, vOld: Tensor, ret: Tensor, e: number): Tensor {
  const vClip = add(vOld, clip(sub(v, vOld), -e, e));
  return meanAll(mul(maximum(mul(sub(v, ret), sub(v, ret)), mul(sub(vClip, ret), sub(vClip, ret))), 0.5));
}

/**
 * The token-level PPO loss as graph code (ratioLevel 'token'). logp, logpOld, tokWeight, mask: [B, T]
 * (logpOld: the behaviour log-probs per generated token, padded); v, adv, vOld, ret: [B]. The value loss is
 * ppoLoss's. Outputs as ppoLoss, ratio and clipFrac over the generated tokens.
 */
export function ppoTokenLoss(
  x: { logp: Tensor; tokWeight: Tensor; mask: Tensor; v: Tensor; logpOld: Tensor; adv: Tensor; vOld: Tensor; ret: Tensor },
  cfg: Pick<PpoConfig, 'clipEps' | 'valueCoef'>,
): { loss: Tensor; pg: Tensor; vf: Tensor; ratio: Tensor; clipFrac: Tensor; kl: Tensor } {
  const e = cfg.clipEps;
  const logRatio = mul(sub(x.logp, x.logpOld), x.mask); // padding: ratio 1, weight 0
  const ratio = exp(logRatio);
  const adv = unsqueeze(x.adv, [1]);
  const surr = minimum(mul(ratio, adv), mul(clip(ratio, 1 - e, 1 + e), adv));
  const pg = neg(meanAll(sum(mul(surr, x.tokWeight), [1])));
  const vf = clippedValueLoss(x.v, x.vOld, x.ret, e);
  const n = sumAll(x.mask);
  const clipFrac = div(sumAll(mul(cast(greater(abs(sub(ratio, 1)), e), ratio.dtype), x.mask)), n);
  const kl = meanAll(sum(mul(sub(sub(ratio, 1), logRatio), x.tokWeight), [1]));
  return { loss: add(pg, mul(vf, cfg.valueCoef)), pg, vf, ratio: div(sumAll(mul(ratio, x.mask)), n), clipFrac, kl };
}

/**
 * The PPO graph on the policy: what CoSo extends. Inputs besides the teacher-forced batch: logp_old ([B] the
 * λ-scaled behaviour log-likelihood, or [B, out] per token with ratioLevel 'token'), adv, v_old, ret [B].
 * logp: the vocabulary log-probs at the sampling temperature [B, out, V] (CoSo's entropy reads them too: one
 * log-softmax for both).
 */
export function ppoGraph(m: Vlm, cfg: PpoConfig): { g: Graph; x: TfInputs; logp: Tensor; out: ReturnType<typeof ppoLoss> } {
  const g = new Graph();
  const p = declareVlm(g, m);
  freezeHeads(g, ['q_head.']);
  const x = teacherForcedInputs(g, m.cfg);
  const { h, logits } = teacherForced(p, x);
  const vec = (name: string) => g.input(name, 'float32', ['batch']);
  const tokWeight = add(x.mask, mul(thoughtMask(x.mask, x.actionStart), cfg.cotLambda - 1));
  const logp = vocabLogprobs(logits, cfg.temperature);
  const common = {
    logp: targetLogprobs(logp, x.targets), tokWeight, v: values(p, cfg.valueTrunkGrad ? h : stopGradient(h)),
    adv: vec('adv'), vOld: vec('v_old'), ret: vec('ret'),
  };
  const out = cfg.ratioLevel === 'token'
    ? ppoTokenLoss({ ...common, mask: x.mask, logpOld: g.input('logp_old', 'float32', ['batch', 'out']) }, cfg)
    : ppoLoss({ ...common, logpOld: vec('logp_old') }, cfg);
  return { g, x, logp, out };
}

/** AdamW without decay, the value head at valueLrScale × lr (its params are named 'value.*'). */
export function ppoOptimizer(cfg: PpoConfig) {
  return adamw({ weightDecay: 0, lrScale: (n) => (n.startsWith('value.') ? cfg.valueLrScale : 1) });
}

export function buildPpoStep(m: Vlm, cfg: PpoConfig): TrainStepModel {
  const { g, out } = ppoGraph(m, cfg);
  return buildTrainStep(g, {
    loss: out.loss, optimizer: ppoOptimizer(cfg), clipNorm: cfg.maxGradNorm,
    metrics: { pg: out.pg, vf: out.vf, ratio: out.ratio, clip_frac: out.clipFrac, kl: out.kl },
  });
}
