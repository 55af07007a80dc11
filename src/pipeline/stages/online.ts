/**
 * The online stage: `trainOnline` (src/rollout) from the offline stage's policy, in the stage folder
 * (checkpoints, metrics, resume), appending every rollout batch to the dataset with its policy version;
 * local gym_cards envs, or the envs of a remote env server.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { openTable } from '../../store/index.ts';
import { trainOnline } from '../../rollout/train-online.ts';
import type { Stage, StageContext } from '../stage.ts';

/** The policy file a later stage starts from: the newest checkpoint among the stages before it. */
export function latestPolicy(ctx: StageContext, stage: string): string {
  const from = ctx.previous.online?.checkpoint ?? ctx.previous.offline?.checkpoint;
  if (!from) throw new Error(`the ${stage} stage needs a policy: add an offline stage (or an online one) before it in the config`);
  return path.join(ctx.runDir, from);
}

/** The remote env server of the config, with the token read from the variable it names. */
function remote(ctx: StageContext): { url: string; token?: string } | undefined {
  const r = ctx.config.stages.online!.envs.remote;
  if (!r) return undefined;
  const token = r.tokenEnv ? process.env[r.tokenEnv] : undefined;
  if (r.tokenEnv && !token) throw new Error(`stages.online.envs.remote.tokenEnv names $${r.tokenEnv}, which is not set; export the server's token in it`);
  return { url: r.url, token };
}

export const onlineStage: Stage = {
  name: 'online',
  isDone: (ctx) => existsSync(path.join(ctx.dir, 'policy.safetensors')),
  async run(ctx) {
    const c = ctx.config.stages.online!;
    const r = await trainOnline({
      from: latestPolicy(ctx, 'online'), task: c.envs.task, algo: c.algo as 'ppo', settings: c.settings, envSteps: c.envSteps,
      envs: c.envs.count, out: ctx.dir, seed: ctx.config.seed, storeRoot: ctx.storeRoot, dataset: ctx.config.dataset,
      remote: remote(ctx), concurrency: c.envs.remote?.concurrency, threads: ctx.config.engine.threads, quiet: ctx.quiet,
    });
    return {
      summary: { envSteps: r.state.envSteps, episodes: r.state.episodes, policyVersion: r.state.version, success: r.last.success, storeVersion: await storeVersion(ctx) },
      checkpoint: path.relative(ctx.runDir, r.policyFile),
    };
  },
};

async function storeVersion(ctx: StageContext): Promise<number> {
  return (await (await openTable(ctx.storeRoot, ctx.config.dataset)).snapshot()).version;
}
