/**
 * Evaluation of a policy file on fresh episodes: success rate (return > 0), mean return and the
 * invalid-action rate, each with a 95% interval (Wilson for rates). Episodes are seeded from `seed`,
 * disjoint from training rollouts (they use batch index −1).
 */
import { openRunner } from '../engine/index.ts';
import { GymCardsEnv } from '../envs/env.ts';
import { openGenerator } from '../models/generate.ts';
import { collectRollout } from './actor.ts';
import { modelPolicy } from './model-policy.ts';
import { loadPolicy } from './policy-file.ts';
import { summarizeEpisodes, type EvalSummary } from './stats.ts';

export interface EvalOptions {
  policyFile: string;
  task: string;
  episodes: number;
  seed: number;
  envs: number;
  temperature: number;
  threads?: number;
}

export async function evaluate(o: EvalOptions): Promise<EvalSummary> {
  const { vlm, version } = loadPolicy(o.policyFile);
  const runner = await openRunner({ threads: o.threads, thread: 'inline' });
  const gen = await openGenerator(vlm, runner);
  try {
    const envs = Array.from({ length: o.envs }, (_, n) => new GymCardsEnv(o.task, { seed: n }));
    const batch = await collectRollout(envs, modelPolicy(gen, vlm, version, o.temperature), {
      task: envs[0].task, episodes: o.episodes, seed: o.seed, batchIndex: -1, runId: 'eval', source: 'eval', concurrency: o.envs,
    });
    return summarizeEpisodes(batch.episodes.map((ep) => ({
      return: ep.reduce((s, x) => s + x.row.reward, 0), length: ep.length, invalidSteps: ep.filter((x) => !x.row.action_valid).length,
    })));
  } finally {
    await gen.close();
    await runner.close();
  }
}
