/**
 * The pipeline config, declared once: validation, defaults, the `PipelineConfig` type and the README's
 * config reference (`o2o run --explain`) all come from `PIPELINE_SCHEMA`.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { FORMATS } from '../ingest/types.ts';
import { OFFLINE_METHODS, ONLINE_METHODS } from './algos.ts';
import { TASKS } from '../envs/registry.ts';
import { vlmConfig } from '../models/vlm.ts';
import { ConfigError, describe, int, keyed, list, num, obj, oneOf, parse, settings, str, type Infer } from './schema.ts';

const TASK_NAMES = TASKS.map((t) => t.name);

const task = oneOf({ help: 'gym_cards task (for a remote env: the task the server runs)', values: TASK_NAMES });
const count = int({ help: 'environments stepped side by side', default: 8, min: 1 });

export const PIPELINE_SCHEMA = obj({
  help: 'a pipeline: ingest → offline → online → eval',
  fields: {
    name: str({ help: 'run name (default: the config file name)', optional: true }),
    seed: int({ help: 'seed of every random choice in the run', default: 0, min: 0 }),
    dataset: str({ help: 'the store dataset the stages read and append to' }),
    root: str({ help: 'store root folder (default: $O2O_DATASETS, else datasets/)', optional: true }),
    model: settings({ help: 'the built-in VLM (its own config, src/models/vlm.ts)', decl: vlmConfig }),
    engine: obj({
      help: 'where training and generation run',
      fields: {
        provider: oneOf({ help: 'onnxruntime execution provider', values: ['cpu', 'cuda', 'webgpu'], default: 'cpu' }),
        threads: int({ help: 'CPU threads per session', default: 2, min: 1 }),
      },
    }),
    stages: obj({
      help: 'the stages to run, in this order; leave a stage out to skip it',
      fields: {
        ingest: obj({
          help: 'fill the dataset: import logged files and/or generate episodes with a scripted policy',
          optional: true,
          atLeastOne: ['files', 'generate'],
          fields: {
            files: list({
              help: 'files or folders to import',
              optional: true,
              min: 1,
              of: obj({
                help: 'one import',
                fields: {
                  path: str({ help: 'file or folder, relative to the config file' }),
                  format: oneOf({ help: 'input format (auto: detected from the content)', values: ['auto', ...FORMATS], default: 'auto' }),
                  source: str({ help: 'source tag of rows that carry none (e.g. demo, failure)', default: 'import' }),
                  task: str({ help: 'task of rows that name none (e.g. gym_cards/NumberLine-v0)', optional: true }),
                },
              }),
            }),
            generate: obj({
              help: 'episodes from a scripted behaviour policy, written straight into the store',
              optional: true,
              fields: {
                task: oneOf({ help: 'gym_cards task', values: TASK_NAMES }),
                policy: oneOf({ help: 'behaviour policy', values: ['expert', 'noisy', 'random'], default: 'noisy' }),
                episodes: int({ help: 'episodes to generate', default: 500, min: 1 }),
                noise: num({ help: 'noisy policy: probability per step of a wrong reading, and of a wrong action', default: 0.5, min: 0, max: 1 }),
                source: str({ help: 'one source tag for every episode (default: demo for an episode with return > 0, else failure)', optional: true }),
                batch: int({ help: 'episodes per commit (an interrupted stage resumes after the last commit)', default: 100, min: 1 }),
              },
            }),
          },
        }),
        offline: obj({
          help: 'pretrain on the dataset',
          optional: true,
          fields: {
            algo: oneOf({ help: 'offline method', values: Object.keys(OFFLINE_METHODS), default: 'afsft' }),
            steps: int({ help: 'gradient steps', default: 2000, min: 1 }),
            checkpointEvery: int({ help: 'steps between checkpoints', default: 100, min: 1 }),
            logEvery: int({ help: 'steps between metrics lines', default: 10, min: 1 }),
            settings: keyed({ help: 'settings of the chosen method', by: 'algo', choices: OFFLINE_METHODS }),
          },
        }),
        online: obj({
          help: 'continue from the offline checkpoint in live environments; every rollout is appended to the dataset',
          optional: true,
          fields: {
            algo: oneOf({ help: 'online method', values: Object.keys(ONLINE_METHODS), default: 'ppo' }),
            envSteps: int({ help: 'env steps to collect', default: 5000, min: 1 }),
            envs: obj({
              help: 'where the agent acts: local gym_cards envs, or a remote env server (docs/remote-env.md)',
              fields: {
                task,
                count,
                remote: obj({
                  help: 'a remote env server (leave out for local envs)',
                  optional: true,
                  fields: {
                    url: str({ help: 'base URL of the server, e.g. http://127.0.0.1:8765' }),
                    tokenEnv: str({ help: 'name of the environment variable holding the bearer token (the token itself never goes in a config)', optional: true }),
                    concurrency: int({ help: 'most env requests in flight at once', default: 8, min: 1 }),
                  },
                }),
              },
            }),
            settings: keyed({ help: 'settings of the chosen method', by: 'algo', choices: ONLINE_METHODS }),
          },
        }),
        eval: obj({
          help: 'evaluate the last checkpoint on fresh episodes',
          optional: true,
          fields: {
            episodes: int({ help: 'episodes to evaluate', default: 200, min: 1 }),
            temperature: num({ help: 'sampling temperature of the policy (0.2: RL4VLM\'s, spec §2)', default: 0.2, min: 0.01 }),
            envs: obj({ help: 'local gym_cards envs', fields: { task, count } }),
          },
        }),
      },
    }),
  },
});

export type PipelineConfig = Infer<typeof PIPELINE_SCHEMA>;
export const STAGE_ORDER = ['ingest', 'offline', 'online', 'eval'] as const;
export type StageName = (typeof STAGE_ORDER)[number];

/** Parses YAML or JSON text (chosen by the file name), validates it and fills defaults. */
export function parsePipeline(text: string, file: string): PipelineConfig {
  let raw: unknown;
  try {
    raw = file.endsWith('.json') ? JSON.parse(text) : YAML.parse(text, { uniqueKeys: true });
  } catch (e) {
    throw new ConfigError([{ path: '', message: `not valid ${file.endsWith('.json') ? 'JSON' : 'YAML'}: ${(e as Error).message}` }], file);
  }
  const cfg = parse(PIPELINE_SCHEMA, raw, file, 'Fix the keys above; every key, its type and default: npx o2o run --explain');
  cfg.name ??= path.basename(file).replace(/\.(ya?ml|json)$/, '');
  return cfg;
}

/**
 * Reads a pipeline config. `ref` is a file, or a name in `pipelinesDir` (`numberline` →
 * pipelines/numberline.yaml). Relative import paths are resolved against the config's folder.
 */
export function loadPipeline(ref: string, pipelinesDir = 'pipelines'): { config: PipelineConfig; file: string } {
  const candidates = [ref, `${ref}.yaml`, `${ref}.yml`, `${ref}.json`, path.join(pipelinesDir, `${ref}.yaml`)];
  const file = candidates.find((f) => existsSync(f) && statSync(f).isFile());
  if (!file) throw new Error(`pipeline ${JSON.stringify(ref)}: no such file (tried ${candidates.join(', ')}); pass a config file or a name in ${pipelinesDir}/`);
  const config = parsePipeline(readFileSync(file, 'utf8'), file);
  for (const f of config.stages.ingest?.files ?? []) f.path = path.resolve(path.dirname(file), f.path);
  return { config, file: path.resolve(file) };
}

/** The config reference in Markdown (the README's table; `o2o run --explain`). */
export function pipelineReference(): string {
  return describe(PIPELINE_SCHEMA);
}
