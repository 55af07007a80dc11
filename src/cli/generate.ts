import { UsageError, intOption, type Command } from './command.ts';
import { generateToTable } from '../envs/generate.ts';
import { POLICY_KINDS, type PolicyKind } from '../envs/policies/scripted.ts';
import { getTask, TASKS } from '../envs/registry.ts';
import { openTable, storeRoot } from '../store/index.ts';

/** `o2o generate`: offline episodes of a scripted policy on a gym_cards task, written into the store. */
export const command: Command = {
  name: 'generate',
  summary: 'Play a scripted policy (expert, noisy expert, random) on a gym_cards task and append the episodes, with images, to a dataset',
  usage: '--task TASK --policy POLICY --episodes N --dataset NAME',
  options: {
    task: { type: 'string', help: `one of ${TASKS.map((t) => t.name).join(', ')}` },
    policy: { type: 'string', help: `one of ${POLICY_KINDS.join(', ')}` },
    episodes: { type: 'string', help: 'episodes in the run (a re-run continues after those already stored)' },
    dataset: { type: 'string', help: 'the dataset to append to (created when missing)' },
    root: { type: 'string', help: 'the store root (default: $O2O_DATASETS, else ./datasets)' },
    seed: { type: 'string', default: '0', help: 'seed of the run (episode k is seeded from it and k)' },
    noise: { type: 'string', default: '0.1', help: 'noisy policy: probability of a wrong reading and of a wrong action per step' },
    source: { type: 'string', help: 'source tag for every episode (default: demo when return > 0, else failure)' },
    batch: { type: 'string', default: '500', help: 'episodes per commit' },
    quiet: { type: 'boolean', help: 'no progress bar' },
  },
  async run({ values }) {
    if (typeof values.task !== 'string') throw new UsageError(`--task is required: one of ${TASKS.map((t) => t.name).join(', ')}`);
    try { getTask(values.task); } catch (e) { throw new UsageError(`--task: ${(e as Error).message}`); }
    const policy = values.policy as PolicyKind;
    if (!POLICY_KINDS.includes(policy)) throw new UsageError(`--policy: expected one of ${POLICY_KINDS.join(', ')}, got ${JSON.stringify(values.policy)}`);
    if (typeof values.dataset !== 'string') throw new UsageError('--dataset NAME is required');
    const episodes = intOption(values, 'episodes');
    const batch = intOption(values, 'batch');
    if (episodes < 1 || batch < 1) throw new UsageError(`--episodes and --batch: expected integers >= 1, got ${episodes} and ${batch}`);
    const noise = Number(values.noise);
    if (!(noise >= 0 && noise <= 1)) throw new UsageError(`--noise: expected a probability in [0, 1], got ${JSON.stringify(values.noise)}`);
    const table = await openTable(storeRoot(values.root as string | undefined), values.dataset, { create: true });
    const s = await generateToTable(table, {
      task: values.task, policy, episodes, seed: intOption(values, 'seed'), noise, batch,
      source: values.source as string | undefined, quiet: values.quiet === true,
    });
    const rate = s.episodes ? ` (success ${((100 * s.successes) / s.episodes).toFixed(1)}%)` : '';
    console.log(`${s.run}: ${s.episodes} episodes, ${s.steps} steps${rate} in ${s.commits} commits into ${values.dataset}; ${s.skipped} already stored`);
    return 0;
  },
};
