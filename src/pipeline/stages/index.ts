/**
 * The real stage implementations, by name. Each adapter calls the library functions of its area
 * (src/ingest, src/envs, src/algos, src/rollout); none holds algorithm logic.
 */
import type { StageName } from '../config.ts';
import type { Stage } from '../stage.ts';
import { ingestStage } from './ingest.ts';
import { evalStage } from './eval.ts';
import { offlineStage } from './offline.ts';
import { onlineStage } from './online.ts';

export const STAGES: Record<StageName, Stage> = {
  ingest: ingestStage,
  offline: offlineStage,
  online: onlineStage,
  eval: evalStage,
};
