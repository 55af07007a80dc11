/**
 * Evaluation of a policy file on fresh episodes: success rate (return > 0), mean return and the
 * invalid-action rate, each with a 95% interval (Wilson for rates). Episodes are seeded from `seed`,
 * disjoint from training rollouts (they use batch index −1).
 */
import { openRunner } from '../engine/index.ts';
import { GymCardsEnv } from '../envs/env.ts';
import { openGenerator } from '../models/generate.ts';
import { getTask } from '../envs/registry.ts';
import { makePolicy, type PolicyKind } from '../envs/policies/scripted.ts';
import { Rng } from '../util/rng.ts';
import { collectRollout, type ActorEnv, type ActorPolicy } from './actor.ts';
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
    return await play(envs, modelPolicy(gen, vlm, version, o.temperature), o);
  } finally {
    await gen.close();
    await runner.close();
  }
}

export interface ScriptedEvalOptions extends Omit<EvalOptions, 'policyFile' | 'temperature' | 'threads'> {
  policy: PolicyKind;
  /** the noisy policy's probability of a wrong reading and of a wrong action per step */
  noise?: number;
}

/**
 * A scripted policy (src/envs/policies/scripted.ts; it reads the true state) on the episodes `evaluate` plays
 * for the same task, seed, episodes and envs: a baseline on the same deals, e.g. the Blackjack DP expert's win
 * rate on the very episodes a model was evaluated on.
 */
export async function evaluateScripted(o: ScriptedEvalOptions): Promise<EvalSummary> {
  const { actorEnvs, envOf } = trackedEnvs(o.task, o.envs);
  const p = makePolicy(o.policy, new Rng(o.seed).fork('scripted'), { pRead: o.noise ?? 0, pAct: o.noise ?? 0 });
  const policy: ActorPolicy = {
    version: -1, tokenizer: 'none',
    async generate(obs) {
      return obs.map((x) => ({ text: p.act(envOf(x)), tokens: new Int32Array(0), logprobs: new Float32Array(0), actionStart: 0, value: 0 }));
    },
    async value(obs) { return new Float32Array(obs.length); },
  };
  return play(actorEnvs, policy, o);
}

/**
 * The evaluation's envs, wrapped so that a policy can look up the env (and its true state) behind an
 * observation the actor loop hands it: envOf(obs) answers once per observation.
 */
export function trackedEnvs(task: string, n: number): { actorEnvs: ActorEnv[]; envOf(obs: object): GymCardsEnv } {
  const owner = new Map<object, GymCardsEnv>();
  const actorEnvs = Array.from({ length: n }, (_, k) => {
    const env = new GymCardsEnv(task, { seed: k });
    return {
      async reset(seed: number) { const obs = await env.reset(seed); owner.set(obs, env); return obs; },
      async step(text: string) { const r = await env.step(text); owner.set(r.obs, env); return r; },
    };
  });
  return {
    actorEnvs,
    envOf(obs) {
      const env = owner.get(obs);
      if (!env) throw new Error('trackedEnvs: an observation of no env of this evaluation (or asked twice)');
      owner.delete(obs);
      return env;
    },
  };
}

/** Plays `episodes` episodes on the evaluation's seeds and summarises them. */
export async function play(envs: ActorEnv[], policy: ActorPolicy, o: { task: string; episodes: number; seed: number; envs: number }): Promise<EvalSummary> {
  const batch = await collectRollout(envs, policy, {
    task: getTask(o.task).id, episodes: o.episodes, seed: o.seed, batchIndex: -1, runId: 'eval', source: 'eval', concurrency: o.envs,
  });
  return summarizeEpisodes(batch.episodes.map((ep) => ({
    return: ep.reduce((s, x) => s + x.row.reward, 0), length: ep.length, invalidSteps: ep.filter((x) => !x.row.action_valid).length,
  })));
}
