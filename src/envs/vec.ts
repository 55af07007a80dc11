/**
 * N environments stepped together (local or remote alike), with auto-reset as SB3's DummyVecEnv: when an
 * episode ends, the env is reset at once and the step returns the new episode's first observation in
 * `obs`, the last one of the finished episode in `finalObs`, and the finished episode's stats.
 */
import type { Env, EnvObservation, EnvStepResult } from './types.ts';

export interface EpisodeStats {
  env: number;
  return: number;
  length: number;
  /** return > 0 (the RL4VLM success criterion) */
  success: boolean;
}

export interface VecStepResult extends EnvStepResult {
  /** set when the episode ended at this step: its last observation and stats */
  finalObs?: EnvObservation;
  episode?: EpisodeStats;
}

export class VecEnv {
  /** every finished episode, in the order they finished */
  readonly episodes: EpisodeStats[] = [];
  private readonly returns: number[];
  private readonly lengths: number[];

  constructor(readonly envs: Env[]) {
    if (envs.length === 0) throw new RangeError('VecEnv: expected at least one env, got none');
    this.returns = envs.map(() => 0);
    this.lengths = envs.map(() => 0);
  }

  get size(): number {
    return this.envs.length;
  }

  /** Resets every env; `seeds[i]` re-seeds env i. */
  async reset(seeds?: readonly number[]): Promise<EnvObservation[]> {
    if (seeds && seeds.length !== this.envs.length) throw new RangeError(`VecEnv.reset: expected ${this.envs.length} seeds, got ${seeds.length}`);
    this.returns.fill(0);
    this.lengths.fill(0);
    return Promise.all(this.envs.map((e, i) => e.reset(seeds?.[i])));
  }

  /** One step of every env; `actions[i]` is an output text or an action id. */
  async step(actions: readonly (string | number)[]): Promise<VecStepResult[]> {
    if (actions.length !== this.envs.length) throw new RangeError(`VecEnv.step: expected ${this.envs.length} actions, got ${actions.length}`);
    return Promise.all(this.envs.map(async (e, i) => {
      const r: VecStepResult = await e.step(actions[i]);
      this.returns[i] += r.reward;
      this.lengths[i]++;
      if (r.terminated || r.truncated) {
        const ep = { env: i, return: this.returns[i], length: this.lengths[i], success: this.returns[i] > 0 };
        this.episodes.push(ep);
        this.returns[i] = 0;
        this.lengths[i] = 0;
        return { ...r, finalObs: r.obs, episode: ep, obs: await e.reset() };
      }
      return r;
    }));
  }

  async close(): Promise<void> {
    await Promise.all(this.envs.map((e) => e.close()));
  }
}
