import path from 'node:path';
import { loadPipeline, pipelineReference } from '../pipeline/config.ts';
import { isRunFolder, readFrozenConfig, runFolderName } from '../pipeline/runfolder.ts';
import { runPipeline } from '../pipeline/runner.ts';
import { STAGES } from '../pipeline/stages/index.ts';
import { UsageError, type Command } from './command.ts';

export const command: Command = {
  name: 'run',
  summary: 'Run a pipeline (ingest → offline → online → eval) in a run folder; rerun a run folder to resume it',
  usage: '<pipelines/NAME.yaml | NAME | RUN_FOLDER> [--out DIR]',
  options: {
    out: { type: 'string', help: 'run folder (default: runs/<name>-<UTC timestamp>)' },
    explain: { type: 'boolean', help: 'print the config reference (every key, type, default) and exit' },
    quiet: { type: 'boolean', help: 'no progress bars' },
  },
  async run({ values, positionals }) {
    if (values.explain) {
      console.log(pipelineReference());
      return 0;
    }
    if (positionals.length !== 1) throw new UsageError(`expected one pipeline config or run folder, got ${positionals.length}`);
    const ref = positionals[0];
    const resuming = isRunFolder(ref);
    const config = resuming ? readFrozenConfig(ref) : loadPipeline(ref).config;
    const runDir = resuming ? ref : (values.out as string | undefined) ?? path.join('runs', runFolderName(config.name!));
    await runPipeline(config, { runDir, stages: STAGES, quiet: values.quiet as boolean | undefined });
    console.log(`run folder: ${runDir}\nreport: o2o report ${runDir}`);
    return 0;
  },
};
