/**
 * The online stage: `trainOnline` (src/rollout) from the offline stage's policy, in the stage folder
 * (checkpoints, metrics, resume), appending every rollout batch to the dataset with its policy version.
 * Remote envs are remote-env clients (src/envs/remote), created here and closed when the stage ends.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { RemoteEnv } from '../../envs/remote/client.ts';
import type { ActorEnv } from '../../rollout/actor.ts';
import { openTable } from '../../store/index.ts';
import { trainOnline } from '../../rollout/train-online.ts';
import type { Stage, StageContext } from '../stage.ts';

/** The policy file a later stage starts from: the newest checkpoint among the stages before it. */
export function latestPolicy(ctx: StageContext, stage: string): string {
  const from = ctx.previous.online?.checkpoint ?? ctx.previous.offline?.checkpoint;
  if (!from) throw new Error(`the ${stage} stage needs a policy: add an offline stage (or an online one) before it in the config`);
  return path.join(ctx.runDir, from);
}

async function remoteEnvs(ctx: StageContext): Promise<RemoteEnv[] | undefined> {
  const { remote, count, task } = ctx.config.stages.online!.envs;
  if (!remote) return undefined;
  const token = remote.tokenEnv ? process.env[remote.tokenEnv] : undefined;
  if (remote.tokenEnv && !token) throw new Error(`stages.online.envs.remote.tokenEnv names $${remote.tokenEnv}, which is not set; export the server's token in it`);
  return Promise.all(Array.from({ length: count }, (_, n) => RemoteEnv.create(remote.url, { task, seed: ctx.config.seed + n, token })));
}

export const onlineStage: Stage = {
  name: 'online',
  isDone: (ctx) => existsSync(path.join(ctx.dir, 'policy.safetensors')),
  async run(ctx) {
    const c = ctx.config.stages.online!;
    const remote = await remoteEnvs(ctx);
    try {
      const r = await trainOnline({
        from: latestPolicy(ctx, 'online'), task: c.envs.task, algo: c.algo as 'ppo', settings: c.settings, envSteps: c.envSteps,
        envs: c.envs.count, out: ctx.dir, seed: ctx.config.seed, storeRoot: ctx.storeRoot, dataset: ctx.config.dataset,
        concurrency: c.envs.remote?.concurrency, makeEnvs: remote && ((): ActorEnv[] => remote),
        threads: ctx.config.engine.threads, quiet: ctx.quiet,
      });
      return {
        summary: { envSteps: r.state.envSteps, episodes: r.state.episodes, policyVersion: r.state.version, success: r.last.success, storeVersion: await storeVersion(ctx) },
        checkpoint: path.relative(ctx.runDir, r.policyFile),
      };
    } finally {
      await Promise.all((remote ?? []).map((e) => e.close()));
    }
  },
};

async function storeVersion(ctx: StageContext): Promise<number> {
  return (await (await openTable(ctx.storeRoot, ctx.config.dataset)).snapshot()).version;
}
