/**
 * An in-process gym_cards environment: a task's game, its renderer and prompt, and the action parser.
 * Randomness: one `Rng` per env, seeded at construction and re-seeded by `reset(seed)`; the game and the
 * parser's random fallback draw from separate forks, so a parse failure does not change the cards dealt.
 */
import { Rng } from '../util/rng.ts';
import { parseAction } from './parser.ts';
import { getTask } from './registry.ts';
import { encodePng } from './render/png.ts';
import type { Env, EnvObservation, EnvStepResult, Game, TaskDef } from './types.ts';

export interface GymCardsOptions {
  seed: number;
  /** subtracted from the reward of a step whose output did not parse to exactly one action (default 0, as the reference) */
  formatPenalty?: number;
  /** render PNG observations (default true); off, `image` is null (for statistics and benchmarks) */
  render?: boolean;
}

export class GymCardsEnv implements Env {
  readonly def: TaskDef;
  readonly game: Game;
  private gameRng!: Rng;
  private parserRng!: Rng;
  private done = true;
  private readonly penalty: number;
  private readonly renders: boolean;

  constructor(task: string, opts: GymCardsOptions) {
    this.def = getTask(task);
    this.game = this.def.create();
    this.penalty = opts.formatPenalty ?? 0;
    this.renders = opts.render ?? true;
    this.seed(opts.seed);
  }

  get task(): string {
    return this.def.id;
  }

  private seed(seed: number): void {
    const root = new Rng(seed);
    this.gameRng = root.fork('game');
    this.parserRng = root.fork('parser');
  }

  /** Starts an episode; with `seed` the env is re-seeded first (same seed -> same episode). */
  resetSync(seed?: number): EnvObservation {
    if (seed !== undefined) this.seed(seed);
    this.game.reset(this.gameRng);
    this.done = false;
    return this.observe();
  }

  /** One step with an action id, or with the policy's output text (parsed by the reference rules). */
  stepSync(action: string | number): EnvStepResult {
    if (this.done) throw new Error(`${this.def.id}: step() with no episode running (before the first reset, or after the episode ended); call reset() first`);
    let id: number, valid = true;
    if (typeof action === 'number') {
      if (!Number.isInteger(action) || action < 0 || action >= this.def.actions.length) {
        throw new RangeError(`${this.def.id}: action id must be an integer in [0, ${this.def.actions.length - 1}], got ${action}`);
      }
      id = action;
    } else {
      const p = parseAction(action, this.def.actions, this.def.points, this.parserRng);
      id = p.id;
      valid = p.valid;
    }
    const r = this.game.step(id, this.gameRng);
    this.done = r.terminated || r.truncated;
    return {
      obs: this.observe(),
      reward: r.reward - (valid ? 0 : this.penalty),
      terminated: r.terminated,
      truncated: r.truncated,
      actionText: this.def.actions[id],
      actionId: id,
      actionValid: valid,
      info: r.info ?? {},
    };
  }

  private observe(): EnvObservation {
    const fields = this.game.promptFields();
    return {
      text: this.def.prompt(fields),
      image: this.renders ? encodePng(this.game.render()) : null,
      legalActions: [...this.def.actions],
      fields,
    };
  }

  async reset(seed?: number): Promise<EnvObservation> {
    return this.resetSync(seed);
  }

  async step(action: string | number): Promise<EnvStepResult> {
    return this.stepSync(action);
  }

  async close(): Promise<void> {}
}
