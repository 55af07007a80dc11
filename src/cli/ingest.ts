import { UsageError, type Command } from './command.ts';
import { ingest } from '../ingest/ingest.ts';
import { FORMATS, type FormatName } from '../ingest/types.ts';

/** `o2o ingest <files or folders…> --dataset NAME`: import logs into the store (all rows or none). */
export const command: Command = {
  name: 'ingest',
  summary: 'Import logged steps (JSONL, Parquet, Arrow, Minari, LeRobot v3, RL4VLM-style) into a dataset',
  usage: '<files or folders…> --dataset NAME',
  options: {
    dataset: { type: 'string', help: 'the dataset to append to (created when missing)' },
    format: { type: 'string', help: `read every input as this format instead of detecting it (${FORMATS.join(', ')})` },
    root: { type: 'string', help: 'the store root (default: $O2O_DATASETS, else ./datasets)' },
    source: { type: 'string', help: 'source tag of rows that carry none (default: import)' },
    task: { type: 'string', help: 'task of rows whose source names none, e.g. gym_cards/NumberLine-v0' },
    map: { type: 'string', multiple: true, help: 'COLUMN=FIELD: read a Parquet/Arrow column as a step field (repeatable)' },
    quiet: { type: 'boolean', help: 'no progress bar' },
  },
  async run({ values, positionals }) {
    if (!positionals.length) throw new UsageError('name at least one file or folder to import');
    if (typeof values.dataset !== 'string') throw new UsageError('--dataset NAME is required');
    const format = values.format as string | undefined;
    if (format !== undefined && !(FORMATS as readonly string[]).includes(format)) {
      throw new UsageError(`--format: expected one of ${FORMATS.join(', ')}, got ${JSON.stringify(format)}`);
    }
    const map: Record<string, string> = {};
    for (const m of (values.map as string[] | undefined) ?? []) {
      const eq = m.indexOf('=');
      if (eq <= 0 || eq === m.length - 1) throw new UsageError(`--map: expected COLUMN=FIELD, got ${JSON.stringify(m)}`);
      map[m.slice(0, eq)] = m.slice(eq + 1);
    }
    const r = await ingest(positionals, {
      dataset: values.dataset, format: format as FormatName | undefined, root: values.root as string | undefined,
      source: values.source as string | undefined, task: values.task as string | undefined, map, quiet: values.quiet === true,
    });
    const formats = [...new Set(r.inputs.map((i) => i.format))].join(', ');
    console.log(`imported ${r.rows} steps in ${r.episodes} episodes (${formats}) into ${values.dataset}: version ${r.version}`);
    return 0;
  },
};
