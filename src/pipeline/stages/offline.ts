/**
 * The offline stage: `trainOffline` (src/rollout) on the dataset, in the stage folder, which holds its
 * checkpoints and metrics and resumes from the last checkpoint.
 */
import path from 'node:path';
import { RunFolder } from '../../rollout/run-folder.ts';
import { trainOffline } from '../../rollout/train-offline.ts';
import type { Stage } from '../stage.ts';

export const offlineStage: Stage = {
  name: 'offline',
  isDone: (ctx) => new RunFolder(ctx.dir).checkpoints().at(-1) === ctx.config.stages.offline!.steps,
  async run(ctx) {
    const c = ctx.config.stages.offline!;
    const r = await trainOffline({
      storeRoot: ctx.storeRoot, dataset: ctx.config.dataset, algo: c.algo, settings: c.settings, model: ctx.config.model,
      steps: c.steps, checkpointEvery: c.checkpointEvery, logEvery: c.logEvery, out: ctx.dir, seed: ctx.config.seed,
      threads: ctx.config.engine.threads, quiet: ctx.quiet,
    });
    return { summary: { steps: r.steps, loss: r.last.loss }, checkpoint: path.relative(ctx.runDir, r.policyFile) };
  },
};
