/**
 * The online stage's driver. Per iteration k (one rollout batch, one update):
 *   rollout (N envs, batched generation, policy version v) → commit to the store (one commit)
 *   → update: PPO / CoSo (GAE, normalised advantages, epochs × minibatches) or AFSFT (gradient steps on
 *     the whole store: offline rows + fresh rows) → v + 1 → metrics → checkpoint.
 * Generation and training share one runner state, so the updated weights act in the next rollout with no
 * copy. A crash loses at most the iteration in flight; a resumed run regenerates it identically.
 */
import path from 'node:path';
import { openRunner, type Runner } from '../engine/index.ts';
import { GymCardsEnv } from '../envs/env.ts';
import { RemoteEnv } from '../envs/remote/client.ts';
import { openGenerator } from '../models/generate.ts';
import type { Vlm } from '../models/vlm.ts';
import { openTable } from '../store/index.ts';
import { Progress } from '../util/progress.ts';
import { Rng } from '../util/rng.ts';
import { afsftConfig } from '../algos/afsft.ts';
import { cosoConfig } from '../algos/coso.ts';
import { offlineMethod } from '../algos/offline-methods.ts';
import { ppoConfig } from '../algos/ppo.ts';
import { collectRollout, commitBatch, hash3, type ActorEnv, type RolloutBatch } from './actor.ts';
import { modelPolicy } from './model-policy.ts';
import { loadPolicy, savePolicy } from './policy-file.ts';
import { openPpoLearner } from './ppo-learner.ts';
import { RunFolder } from './run-folder.ts';
import { RecentEpisodes, type EpisodeResult } from './stats.ts';
import { loadExamples, openOfflineUpdater } from './train-offline.ts';

export interface OnlineOptions {
  from: string;
  task: string;
  algo: 'ppo' | 'coso' | 'afsft';
  settings?: unknown;
  envSteps: number;
  envs: number;
  out: string;
  seed: number;
  storeRoot: string;
  dataset: string;
  /** act in envs of a remote-env server (docs/remote-env.md) instead of local gym_cards envs */
  remote?: { url: string; token?: string };
  /**
   * subtracted from the reward of a step whose output did not parse to exactly one legal action (spec: the
   * reference has no such penalty; default 0). Training envs only: evaluation plays without it.
   */
  formatPenalty?: number;
  /** env calls in flight at once (remote envs); default: envs */
  concurrency?: number;
  threads?: number;
  quiet?: boolean;
}

/** What a method does with a rollout batch; each keeps its own state on the shared runner. */
export interface Learner {
  readonly stepsPerUpdate: number;
  readonly temperature: number;
  update(batch: RolloutBatch, k: number, totalUpdates: number): Promise<Record<string, number>>;
  save(prefix: string): Promise<void>;
  load(prefix: string): Promise<void>;
  policy(): Promise<Vlm>;
  close(): Promise<void>;
}

interface LoopState { iteration: number; envSteps: number; version: number; recent: EpisodeResult[]; episodes: number }

export async function trainOnline(o: OnlineOptions): Promise<{ policyFile: string; state: LoopState; last: Record<string, number> }> {
  const { vlm, version: v0 } = loadPolicy(o.from);
  const run = new RunFolder(o.out);
  const settings = onlineSettings(o.algo, o.settings);
  if (o.formatPenalty !== undefined && !Number.isFinite(o.formatPenalty)) throw new Error(`train online: formatPenalty must be a finite number, got ${o.formatPenalty}`);
  const formatPenalty = o.formatPenalty ?? 0;
  run.init({
    stage: 'online', algo: o.algo, settings, from: path.resolve(o.from), task: o.task, envs: o.envs, dataset: o.dataset, seed: o.seed,
    ...(formatPenalty !== 0 ? { formatPenalty } : {}),
  });
  const table = await openTable(o.storeRoot, o.dataset, { create: true });
  const runId = `${path.basename(run.dir)}-s${o.seed}`;
  const runner = await openRunner({ threads: o.threads, thread: 'inline' });
  const learner = await openLearner(runner, vlm, o, settings);
  const gen = await openGenerator(vlm, runner);
  let envs: (ActorEnv & { task: string; close(): Promise<void> })[] = [];
  try {
    envs = o.remote
      ? await Promise.all(Array.from({ length: o.envs }, (_, n) => RemoteEnv.create(o.remote!.url, { task: o.task, seed: n, token: o.remote!.token, formatPenalty })))
      : Array.from({ length: o.envs }, (_, n) => new GymCardsEnv(o.task, { seed: n, formatPenalty }));
    const taskId = envs[0].task;
    let st: LoopState = { iteration: 0, envSteps: 0, version: v0, recent: [], episodes: 0 };
    const done = run.checkpoints();
    if (done.length) {
      const k = done[done.length - 1];
      await learner.load(run.ckptPath(k, ''));
      st = run.readState<LoopState>(k);
      run.truncateMetrics(k);
    }
    const recent = new RecentEpisodes(200);
    st.recent.forEach((e) => recent.push(e));
    const totalUpdates = Math.ceil(o.envSteps / learner.stepsPerUpdate);
    const progress = new Progress({ label: `online ${o.algo}`, total: o.envSteps, unit: 'env step', quiet: o.quiet });
    progress.set(st.envSteps);
    let last: Record<string, number> = {};
    while (st.envSteps < o.envSteps) {
      const k = st.iteration;
      const t0 = performance.now();
      const batch = await collectRollout(envs, modelPolicy(gen, vlm, st.version, learner.temperature), {
        task: taskId, steps: Math.min(learner.stepsPerUpdate, o.envSteps - st.envSteps), seed: o.seed, batchIndex: k, runId, concurrency: o.concurrency ?? o.envs,
      });
      const t1 = performance.now();
      await commitBatch(table, batch, { runId, batchIndex: k, policyVersion: st.version });
      const t2 = performance.now();
      const upd = await learner.update(batch, k, totalUpdates);
      const t3 = performance.now();

      for (const ep of batch.episodes) {
        const e = { return: ep.reduce((s, x) => s + x.row.reward, 0), length: ep.length, invalidSteps: ep.filter((x) => !x.row.action_valid).length };
        recent.push(e);
        st.recent.push(e);
      }
      st = { iteration: k + 1, envSteps: st.envSteps + batch.envSteps, version: st.version + 1, recent: st.recent.slice(-200), episodes: st.episodes + batch.episodes.length };
      const secs = (t3 - t0) / 1000;
      last = {
        step: st.iteration, env_steps: st.envSteps, policy_version: st.version, episodes: st.episodes,
        success: recent.successRate(), mean_return: recent.meanReturn(), batch_success: batch.episodes.filter((ep) => ep.reduce((s, x) => s + x.row.reward, 0) > 0).length / batch.episodes.length,
        ...upd,
        env_steps_per_s: batch.envSteps / secs, tokens_per_s: batch.tokens / batch.genSeconds,
        rollout_s: (t1 - t0) / 1000, store_s: (t2 - t1) / 1000, update_s: (t3 - t2) / 1000,
      };
      run.logMetrics(last);
      progress.set(st.envSteps, `success ${(100 * last.success).toFixed(1)}% · ${last.env_steps_per_s.toFixed(1)} steps/s · ${last.tokens_per_s.toFixed(0)} tok/s`);
      await learner.save(run.ckptPath(st.iteration, ''));
      savePolicy(path.join(run.dir, 'policy.safetensors'), await learner.policy(), st.version);
      run.writeState(st.iteration, st);
    }
    progress.finish();
    const policyFile = path.join(run.dir, 'policy.safetensors');
    savePolicy(policyFile, await learner.policy(), st.version);
    return { policyFile, state: st, last };
  } finally {
    await Promise.all(envs.map((e) => e.close()));
    await gen.close();
    await learner.close();
    await runner.close();
  }
}

/** The method's settings, validated (unknown keys are errors). CoSo takes PPO's keys and its own. */
export function onlineSettings(algo: string, raw: unknown): Record<string, number | string | boolean> {
  if (algo === 'ppo') return ppoConfig(raw);
  if (algo === 'afsft') return afsftConfig(raw);
  if (algo === 'coso') {
    const r = (raw ?? {}) as Record<string, unknown>;
    const ppoKeys = Object.keys(ppoConfig());
    const pick = (keep: (k: string) => boolean) => Object.fromEntries(Object.entries(r).filter(([k]) => keep(k)));
    return { ...ppoConfig(pick((k) => ppoKeys.includes(k))), ...cosoConfig(pick((k) => !ppoKeys.includes(k))) };
  }
  throw new Error(`unknown online method ${JSON.stringify(algo)}: expected one of ppo, coso, afsft`);
}

async function openLearner(runner: Runner, vlm: Vlm, o: OnlineOptions, settings: Record<string, number | string | boolean>): Promise<Learner> {
  if (o.algo !== 'afsft') return openPpoLearner(runner, vlm, o, settings);
  // VLMQ online: AFSFT continues off-policy on the growing store (offline rows + fresh rows)
  const cfg = afsftConfig(settings);
  const method = offlineMethod('afsft');
  const up = await openOfflineUpdater(runner, vlm, method, cfg);
  return {
    stepsPerUpdate: cfg.envStepsPerUpdate,
    temperature: cfg.temperature,
    async update(_batch, k) {
      const { examples, links } = await loadExamples({ storeRoot: o.storeRoot, dataset: o.dataset, filter: { task: _batch.episodes[0][0].row.task } }, method.columns, vlm);
      const rows = method.rows(links);
      const sums: Record<string, number> = {};
      for (let s = 0; s < cfg.gradStepsPerUpdate; s++) {
        const m = await up.step(examples, links, rows, new Rng(hash3(o.seed, k, 1000 + s)), Infinity);
        for (const [key, v] of Object.entries(m)) sums[key] = (sums[key] ?? 0) + v / cfg.gradStepsPerUpdate;
      }
      return { ...sums, store_rows: examples.length };
    },
    save: (p) => up.save(p),
    load: (p) => up.load(p),
    policy: () => up.policy(),
    close: () => up.close(),
  };
}
