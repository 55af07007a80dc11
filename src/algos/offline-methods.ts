/**
 * The offline methods as data: what each reads from the store, its config, its training step, which rows
 * it trains on, and whether it needs TD targets (a target network and the next step's rows).
 */
import type { TrainStepModel } from '../engine/index.ts';
import type { Vlm } from '../models/vlm.ts';
import { AFSFT_COLUMNS, afsftConfig, buildAfsftStep } from './afsft.ts';
import type { EpisodeLinks } from './episodes.ts';
import { buildSftStep, keepRows, SFT_COLUMNS, sftConfig } from './sft.ts';

export interface OfflineMethod {
  columns: readonly string[];
  config(raw: unknown): { lr: number; batchSize: number } & Record<string, number | string | boolean>;
  build(m: Vlm, cfg: never): TrainStepModel;
  /** rows to train on */
  rows(links: EpisodeLinks): number[];
  /** feeds 'td_target' and 'critic_mask' from a Polyak target network; cfg has gamma and tau */
  td: boolean;
}

export const OFFLINE_METHODS: Record<string, OfflineMethod> = {
  sft: { columns: SFT_COLUMNS, config: (r) => sftConfig(r, 'sft'), build: buildSftStep, rows: (l) => keepRows('sft', l.episodeReturn), td: false },
  'filtered-bc': {
    columns: [...SFT_COLUMNS, 'terminated', 'truncated'], config: (r) => sftConfig(r, 'filtered-bc'), build: buildSftStep,
    rows: (l) => keepRows('filtered-bc', l.episodeReturn), td: false,
  },
  afsft: { columns: AFSFT_COLUMNS, config: afsftConfig, build: buildAfsftStep, rows: (l) => Array.from(l.next, (_, i) => i), td: true },
};

export function offlineMethod(name: string): OfflineMethod {
  const m = OFFLINE_METHODS[name];
  if (!m) throw new Error(`unknown offline method ${JSON.stringify(name)}: expected one of ${Object.keys(OFFLINE_METHODS).join(', ')}`);
  return m;
}
