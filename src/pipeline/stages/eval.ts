/**
 * The eval stage: `evaluate` (src/rollout) of the newest policy of the run on fresh episodes; the summary
 * (success, mean return, invalid actions, each with a 95% interval) goes to `eval/result.json`.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { evaluate } from '../../rollout/evaluate.ts';
import { writeAtomic } from '../../rollout/run-folder.ts';
import { EVAL_RESULT } from '../../report/html.ts';
import type { Stage } from '../stage.ts';
import { latestPolicy } from './online.ts';

export const evalStage: Stage = {
  name: 'eval',
  isDone: (ctx) => existsSync(path.join(ctx.dir, EVAL_RESULT)),
  async run(ctx) {
    const c = ctx.config.stages.eval!;
    const policyFile = latestPolicy(ctx, 'eval');
    const r = await evaluate({
      policyFile, task: c.envs.task, episodes: c.episodes, seed: ctx.config.seed, envs: c.envs.count,
      temperature: c.temperature, threads: ctx.config.engine.threads,
    });
    writeAtomic(path.join(ctx.dir, EVAL_RESULT), `${JSON.stringify({ policy: path.relative(ctx.runDir, policyFile), ...r }, null, 2)}\n`);
    return {
      summary: {
        episodes: r.episodes, success: r.success.value, successLo: r.success.lo, successHi: r.success.hi,
        meanReturn: r.meanReturn.value, invalidAction: r.invalidAction.value,
      },
    };
  },
};
