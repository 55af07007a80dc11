import { writeReport } from '../report/index.ts';
import { UsageError, type Command } from './command.ts';

export const command: Command = {
  name: 'report',
  summary: 'Write the HTML report of a run folder (one self-contained file: curves, eval with 95% CIs, dataset, throughput)',
  usage: '<RUN_FOLDER> [--out FILE]',
  options: {
    out: { type: 'string', help: 'where to write the report (default: <RUN_FOLDER>/report.html)' },
  },
  async run({ values, positionals }) {
    if (positionals.length !== 1) throw new UsageError(`expected one run folder, got ${positionals.length}`);
    console.log(await writeReport(positionals[0], values.out as string | undefined));
    return 0;
  },
};
