import { intOption, UsageError, type Command } from './command.ts';
import { storeRoot } from '../store/index.ts';
import { trainOffline } from '../rollout/train-offline.ts';
import { OFFLINE_METHODS } from '../algos/offline-methods.ts';

/** Parses a JSON-object option (`--settings '{"lr":1e-4}'`). */
export function jsonOption(values: Record<string, unknown>, name: string): unknown {
  const raw = values[name];
  if (raw === undefined) return undefined;
  try {
    const v = JSON.parse(String(raw));
    if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new Error('not an object');
    return v;
  } catch (e) {
    throw new UsageError(`--${name}: expected a JSON object such as '{"lr": 0.0003}', got ${JSON.stringify(raw)} (${(e as Error).message})`);
  }
}

/** `o2o train offline`: pretrain a policy on a dataset (SFT, filtered BC or AFSFT). */
export const command: Command = {
  name: 'train offline',
  summary: 'Pretrain a policy on a dataset: sft, filtered-bc (successful episodes only) or afsft (advantage-filtered SFT with a token-level Q critic)',
  usage: '--dataset NAME --algo sft|filtered-bc|afsft --steps N --out runs/NAME',
  options: {
    dataset: { type: 'string', help: 'the dataset to train on' },
    algo: { type: 'string', default: 'afsft', help: `method (${Object.keys(OFFLINE_METHODS).join(', ')})` },
    steps: { type: 'string', help: 'gradient steps' },
    out: { type: 'string', help: 'run folder (re-running with the same folder resumes from its last checkpoint)' },
    seed: { type: 'string', default: '0', help: 'seed of every random choice' },
    task: { type: 'string', help: 'train on this task\'s rows only (e.g. gym_cards/NumberLine-v0)' },
    settings: { type: 'string', help: 'method settings as a JSON object, e.g. \'{"lr": 3e-4, "batchSize": 16}\'' },
    model: { type: 'string', help: 'model config of a fresh policy as a JSON object (see src/models/vlm.ts VLM_DEFAULTS)' },
    init: { type: 'string', help: 'start from this policy file instead of fresh weights' },
    'checkpoint-every': { type: 'string', default: '100', help: 'steps between checkpoints' },
    'log-every': { type: 'string', default: '10', help: 'steps between metrics lines' },
    root: { type: 'string', help: 'the store root (default: $O2O_DATASETS, else ./datasets)' },
    threads: { type: 'string', help: 'CPU threads for onnxruntime' },
    quiet: { type: 'boolean', help: 'no progress bar' },
  },
  async run({ values }) {
    if (typeof values.dataset !== 'string') throw new UsageError('--dataset NAME is required');
    if (typeof values.out !== 'string') throw new UsageError('--out FOLDER is required');
    const r = await trainOffline({
      storeRoot: storeRoot(values.root as string | undefined), dataset: values.dataset, algo: String(values.algo),
      settings: jsonOption(values, 'settings'), model: jsonOption(values, 'model'), init: values.init as string | undefined,
      filter: values.task ? { task: String(values.task) } : undefined,
      steps: intOption(values, 'steps'), out: values.out, seed: intOption(values, 'seed'),
      checkpointEvery: intOption(values, 'checkpoint-every'), logEvery: intOption(values, 'log-every'),
      threads: values.threads === undefined ? undefined : intOption(values, 'threads'), quiet: values.quiet === true,
    });
    console.log(`trained ${r.steps} steps; loss ${r.last.loss?.toFixed(4)}; policy: ${r.policyFile}`);
    return 0;
  },
};
