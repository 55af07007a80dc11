import path from 'node:path';
import { runFolderName } from '../pipeline/runfolder.ts';
import { loadPipeline } from '../pipeline/config.ts';
import { runPipeline } from '../pipeline/runner.ts';
import { STAGES } from '../pipeline/stages/index.ts';
import { writeReport } from '../report/index.ts';
import type { Command } from './command.ts';

export const DEFAULT_PIPELINE = 'pipelines/numberline.yaml';

/** `npm start`: the default pipeline end to end, then its report. */
export const command: Command = {
  name: 'start',
  summary: `Run the default pipeline (${DEFAULT_PIPELINE}) end to end and write its report (what \`npm start\` runs)`,
  usage: '',
  options: {},
  async run() {
    const t0 = Date.now();
    const { config } = loadPipeline(DEFAULT_PIPELINE);
    const runDir = path.join('runs', runFolderName(config.name!));
    const state = await runPipeline(config, { runDir, stages: STAGES });
    const report = await writeReport(runDir);
    console.log(`\nrun folder: ${runDir}\nwall time: ${((Date.now() - t0) / 1000).toFixed(0)} s`);
    for (const [name, st] of Object.entries(state.stages)) {
      console.log(`  ${name.padEnd(8)} ${Object.entries(st.result?.summary ?? {}).map(([k, v]) => `${k}=${v}`).join(' ')}`);
    }
    console.log(`report: ${report}`);
    return 0;
  },
};
