import { intOption, UsageError, type Command } from './command.ts';
import { openTable, storeRoot } from '../store/index.ts';
import { formatSummary, summarize } from '../store/summary.ts';

/** `o2o inspect <dataset>`: what a dataset holds, at its latest or a given version. */
export const command: Command = {
  name: 'inspect',
  summary: 'Summarise a dataset: steps, episodes, tasks, sources, success rates, returns, policy versions, history',
  usage: '<dataset>',
  options: {
    root: { type: 'string', help: 'the store root (default: $O2O_DATASETS, else ./datasets)' },
    version: { type: 'string', help: 'show the table as of this version (time travel)' },
  },
  async run({ values, positionals }) {
    if (positionals.length !== 1) throw new UsageError(`expected one dataset name, got ${positionals.length}`);
    const dataset = positionals[0];
    const table = await openTable(storeRoot(values.root as string | undefined), dataset);
    const version = values.version === undefined ? undefined : intOption(values, 'version');
    const snap = await table.snapshot(version);
    console.log(formatSummary(dataset, await summarize(snap), await table.history()));
    return 0;
  },
};
