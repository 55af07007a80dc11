/**
 * A run folder: `config.json` (the validated config with defaults, frozen at creation), `state.json` (each
 * stage's status, written atomically) and one sub-folder per stage with its checkpoints and metrics.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { writeAtomic } from '../rollout/run-folder.ts';
import { STAGE_ORDER, type PipelineConfig, type StageName } from './config.ts';
import type { StageResult } from './stage.ts';

export type StageStatus = 'pending' | 'running' | 'done' | 'failed';

export interface StageState {
  status: StageStatus;
  /** How many times the stage was started (more than 1 after a resume). */
  attempts: number;
  /** Wall seconds over the attempts that ended (a killed attempt is not counted). */
  seconds: number;
  /** CPU seconds of the process (all threads) over the same attempts: on an idle machine ≈ wall × cores busy. */
  cpuSeconds?: number;
  startedAt?: string;
  finishedAt?: string;
  error?: string;
  result?: StageResult;
}

export interface RunState {
  stages: Partial<Record<StageName, StageState>>;
}

export const CONFIG_FILE = 'config.json';
export const STATE_FILE = 'state.json';

/** `numberline-20261123-221603` (UTC). */
export function runFolderName(name: string, now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  return `${name}-${stamp}`;
}

export function isRunFolder(dir: string): boolean {
  return existsSync(path.join(dir, CONFIG_FILE)) && existsSync(path.join(dir, STATE_FILE));
}

/**
 * Opens `dir` as the run folder of `config`: creates it (freezing the config) or, when it already holds a
 * run, checks that its frozen config is the same one (a changed config needs a new run folder).
 */
export function openRunFolder(dir: string, config: PipelineConfig): void {
  const frozen = JSON.stringify(config, null, 2);
  if (isRunFolder(dir)) {
    const before = readFileSync(path.join(dir, CONFIG_FILE), 'utf8');
    if (before !== frozen) {
      throw new Error(`${dir}: this run folder holds a different config (${CONFIG_FILE}); resume it with \`o2o run ${dir}\`, or pass a new --out for the changed config`);
    }
    return;
  }
  mkdirSync(dir, { recursive: true });
  writeAtomic(path.join(dir, CONFIG_FILE), frozen);
  writeState(dir, { stages: {} });
}

export function readFrozenConfig(dir: string): PipelineConfig {
  return JSON.parse(readFileSync(path.join(dir, CONFIG_FILE), 'utf8')) as PipelineConfig;
}

export function readState(dir: string): RunState {
  const file = path.join(dir, STATE_FILE);
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as RunState;
  } catch (e) {
    throw new Error(`${file}: cannot read the run state (${(e as Error).message}); is ${dir} a run folder made by \`o2o run\`?`);
  }
}

export function writeState(dir: string, state: RunState): void {
  writeAtomic(path.join(dir, STATE_FILE), `${JSON.stringify(state, null, 2)}\n`);
}

/** The stages a config asks for, in pipeline order. */
export function configuredStages(config: PipelineConfig): StageName[] {
  return STAGE_ORDER.filter((s) => config.stages[s] !== undefined);
}
