/**
 * The real stage implementations, by name. Each adapter calls the library functions of its area
 * (src/ingest, src/envs, src/algos, src/rollout); none holds algorithm logic.
 */
import type { StageName } from '../config.ts';
import type { Stage } from '../stage.ts';
import { ingestStage } from './ingest.ts';
import { offlineStage } from './offline.ts';

export const STAGES: Partial<Record<StageName, Stage>> = {
  ingest: ingestStage,
  offline: offlineStage,
};
