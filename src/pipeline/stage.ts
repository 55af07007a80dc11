/**
 * The stage interface. A stage is a pair of functions over a context; the offline, online and eval code of
 * src/algos and src/rollout plugs in through thin adapters in src/pipeline/stages/.
 *
 * Resume contract: a stage keeps its own checkpoints and metrics under `ctx.dir`; `run(ctx)` called again
 * after a crash continues from the last checkpoint there and ends with the same result as an uninterrupted
 * run. The runner never deletes a stage folder.
 */
import type { Progress } from '../util/progress.ts';
import type { Rng } from '../util/rng.ts';
import type { PipelineConfig, StageName } from './config.ts';

/** What a finished stage hands to later stages and to the report. */
export interface StageResult {
  /** Headline figures, e.g. { episodes: 500, rows: 4120 } or { success: 0.91 }. */
  summary: Record<string, number | string>;
  /** Path of the policy checkpoint this stage produced, relative to the run folder. */
  checkpoint?: string;
}

export interface StageContext {
  config: PipelineConfig;
  /** The run folder (absolute). */
  runDir: string;
  /** This stage's folder `<runDir>/<stage>` (exists when `run` is called). */
  dir: string;
  /** The store root (absolute). */
  storeRoot: string;
  /** Seeded from `config.seed`, forked by the stage name. */
  rng: Rng;
  /** Results of the stages that ran before this one. */
  previous: Partial<Record<StageName, StageResult>>;
  /** A progress bar for this stage (silent under `quiet`). */
  progress(total: number | undefined, unit: string): Progress;
  quiet: boolean;
}

export interface Stage {
  name: StageName;
  run(ctx: StageContext): Promise<StageResult>;
  /** Whether this stage's outputs are complete on disk (a stage marked done whose outputs vanished reruns). */
  isDone(ctx: StageContext): boolean;
}
