import { intOption, UsageError, type Command } from './command.ts';
import { jsonOption } from './train-offline.ts';
import { storeRoot } from '../store/index.ts';
import { trainOnline } from '../rollout/train-online.ts';

/** `o2o train online`: continue from a policy in live environments; every rollout is appended to the dataset. */
export const command: Command = {
  name: 'train online',
  summary: 'Continue from a policy in live environments with ppo, coso or afsft; every rollout batch is one commit to the dataset',
  usage: '--from runs/NAME/policy.safetensors --task numberline --algo ppo|coso|afsft --env-steps N --out runs/NAME',
  options: {
    from: { type: 'string', help: 'the policy file to start from (policy.safetensors of an offline run)' },
    task: { type: 'string', help: 'numberline, ezpoints, points24 or blackjack' },
    'format-penalty': { type: 'string', default: '0', help: 'subtracted from the reward of a step whose output names no single legal action (training envs only)' },
    algo: { type: 'string', default: 'ppo', help: 'ppo, coso or afsft' },
    'env-steps': { type: 'string', help: 'env steps to collect in all' },
    envs: { type: 'string', default: '16', help: 'environments stepped side by side' },
    out: { type: 'string', help: 'run folder (re-running with the same folder resumes)' },
    remote: { type: 'string', help: 'act in envs of a remote-env server at this URL (see docs/remote-env.md) instead of local ones' },
    'token-env': { type: 'string', help: 'name of the environment variable holding the remote server\'s bearer token' },
    concurrency: { type: 'string', help: 'remote env requests in flight at once (default: --envs)' },
    dataset: { type: 'string', default: 'online', help: 'the dataset the rollouts are appended to' },
    seed: { type: 'string', default: '0', help: 'seed of every random choice' },
    settings: { type: 'string', help: 'method settings as a JSON object, e.g. \'{"stepsPerUpdate": 256, "lr": 1e-4}\'' },
    root: { type: 'string', help: 'the store root (default: $O2O_DATASETS, else ./datasets)' },
    threads: { type: 'string', help: 'CPU threads for onnxruntime' },
    quiet: { type: 'boolean', help: 'no progress bar' },
  },
  async run({ values }) {
    for (const k of ['from', 'task', 'out'] as const) if (typeof values[k] !== 'string') throw new UsageError(`--${k} is required`);
    const algo = String(values.algo);
    if (!['ppo', 'coso', 'afsft'].includes(algo)) throw new UsageError(`--algo: expected ppo, coso or afsft, got ${JSON.stringify(algo)}`);
    const penalty = Number(values['format-penalty'] ?? 0);
    if (!Number.isFinite(penalty)) throw new UsageError(`--format-penalty: expected a number, got ${JSON.stringify(values['format-penalty'])}`);
    const r = await trainOnline({
      from: String(values.from), task: String(values.task), algo: algo as 'ppo', settings: jsonOption(values, 'settings'),
      formatPenalty: penalty,
      envSteps: intOption(values, 'env-steps'), envs: intOption(values, 'envs'), out: String(values.out), seed: intOption(values, 'seed'),
      storeRoot: storeRoot(values.root as string | undefined), dataset: String(values.dataset),
      remote: typeof values.remote === 'string' ? { url: values.remote, token: values['token-env'] ? process.env[String(values['token-env'])] : undefined } : undefined,
      concurrency: values.concurrency === undefined ? undefined : intOption(values, 'concurrency'),
      threads: values.threads === undefined ? undefined : intOption(values, 'threads'), quiet: values.quiet === true,
    });
    console.log(`${r.state.envSteps} env steps, ${r.state.episodes} episodes, policy version ${r.state.version}; success (last 200 episodes) ${(100 * r.last.success).toFixed(1)}%; policy: ${r.policyFile}`);
    return 0;
  },
};
