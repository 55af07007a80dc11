/**
 * The environment interface shared by in-process envs, the vectorised wrapper and the remote-env client.
 * It is a superset of what the actor loop needs (src/rollout/actor.ts `ActorEnv`): `text` is the full
 * prompt, `image` the PNG bytes of the observation.
 */
import type { Canvas } from './render/canvas.ts';
import type { Rng } from '../util/rng.ts';

export interface EnvObservation {
  /** the full prompt the policy sees (task, legal actions, answer format, what the prompt states) */
  text: string;
  /** PNG bytes, 300×300 RGB for gym_cards; null when rendering is off */
  image: Uint8Array | null;
  /** the legal action strings, by action id */
  legalActions: string[];
  /** the text facts the prompt states besides the image (e.g. the current formula); may be empty */
  fields: Record<string, string>;
}

export interface EnvStepResult {
  obs: EnvObservation;
  reward: number;
  terminated: boolean;
  truncated: boolean;
  /** the legal action that was played */
  actionText: string;
  actionId: number;
  /** false when the parser found zero or several legal actions and a random one was played */
  actionValid: boolean;
  info: Record<string, unknown>;
}

/** One environment: `step` takes the policy's whole output text (parsed here) or an action id. */
export interface Env {
  readonly task: string;
  reset(seed?: number): Promise<EnvObservation>;
  step(action: string | number): Promise<EnvStepResult>;
  close(): Promise<void>;
}

/** The state and rules of one game, without text or pixels of the prompt (one per task file). */
export interface Game {
  reset(rng: Rng): void;
  /** Applies action `id` (valid ids only). */
  step(id: number, rng: Rng): { reward: number; terminated: boolean; truncated: boolean; info?: Record<string, unknown> };
  /** The 300×300 observation. */
  render(): Canvas;
  /** What the prompt states besides the image (the points tasks: the current formula). */
  promptFields(): Record<string, string>;
  /** The ground truth a perfect reader would read out of the image, as the utterance's read-out fields. */
  readout(): Record<string, string>;
}

export type TaskName = 'numberline' | 'ezpoints' | 'points24' | 'blackjack';

/** A task: its names, action strings and prompt, and a factory for its game state. */
export interface TaskDef {
  name: TaskName;
  /** the store's task name, e.g. "gym_cards/NumberLine-v0" */
  id: string;
  actions: readonly string[];
  /** the parser's "10 first" rule applies (EZPoints, Points24) */
  points: boolean;
  create(): Game;
  /** The prompt for a state: built from `promptFields()` (and the legal actions). */
  prompt(fields: Record<string, string>): string;
  /** Read-out field names the answer JSON starts with, in order. */
  readoutKeys: readonly string[];
}
