/**
 * SFT (behaviour cloning) and filtered BC, the baselines of the offline stage (spec §4: f ≡ 1 is SFT).
 *
 *   L = −Σ_i log π(y_i | o, y_<i)·m_i / Σ_i m_i          over the rows the method keeps
 * sft keeps every row; filtered-bc keeps the rows of episodes whose undiscounted return is > 0 (success).
 * Shapes: logp, mask: [B, T] (generated tokens, padded).
 */
import { adamw, buildTrainStep, div, Graph, maximum, mul, neg, sumAll, type Tensor, type TrainStepModel } from '../engine/index.ts';
import { teacherForced, teacherForcedInputs, tokenLogprobs } from '../models/policy.ts';
import { declareVlm, type Vlm } from '../models/vlm.ts';
import { parseConfig } from './config.ts';
import { freezeHeads } from './heads.ts';

export const SFT_DEFAULTS = {
  lr: 3e-4,
  weightDecay: 0.0,
  maxGradNorm: 1.0,
  batchSize: 32,
};
export type SftConfig = typeof SFT_DEFAULTS;

export function sftConfig(raw?: unknown, name = 'sft'): SftConfig {
  return parseConfig(SFT_DEFAULTS, raw, name);
}

export const SFT_COLUMNS = ['episode_id', 'step', 'obs_text', 'output_text', 'reward'] as const;

/** Which rows a variant trains on, from the episode returns of linkEpisodes. */
export function keepRows(variant: 'sft' | 'filtered-bc', episodeReturn: ArrayLike<number>): number[] {
  const out: number[] = [];
  for (let i = 0; i < episodeReturn.length; i++) if (variant === 'sft' || episodeReturn[i] > 0) out.push(i);
  return out;
}

/** Plain-JS loss (reference for the graph version). */
export function sftLossReference(logp: ArrayLike<number>, mask: ArrayLike<number>): number {
  let s = 0, m = 0;
  for (let i = 0; i < mask.length; i++) { s -= logp[i] * mask[i]; m += mask[i]; }
  return s / Math.max(m, 1);
}

/** The loss as graph code: logp, mask: [B, T]. */
export function sftLoss(logp: Tensor, mask: Tensor): Tensor {
  return neg(div(sumAll(mul(logp, mask)), maximum(sumAll(mask), 1)));
}

/** The training step: one AdamW update of the policy (the value and Q heads are not part of SFT: frozen). */
export function buildSftStep(m: Vlm, cfg: SftConfig): TrainStepModel {
  const g = new Graph();
  const p = declareVlm(g, m);
  freezeHeads(g, ['value.', 'q_head.']);
  const x = teacherForcedInputs(g, m.cfg);
  const { logits } = teacherForced(p, x);
  const loss = sftLoss(tokenLogprobs(logits, x.targets), x.mask);
  return buildTrainStep(g, { loss, optimizer: adamw({ weightDecay: cfg.weightDecay }), clipNorm: cfg.maxGradNorm });
}
