/**
 * `writeReport(runDir)`: reads a run folder and its dataset, writes `<runDir>/report.html` (or `out`).
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { RunState } from '../pipeline/runfolder.ts';
import { storeRoot } from '../store/index.ts';
import { datasetComposition } from './composition.ts';
import { readRun, renderReport, type ReportInput } from './html.ts';

export { renderReport, readRun } from './html.ts';

export async function writeReport(runDir: string, out = path.join(runDir, 'report.html')): Promise<string> {
  const run = readRun(runDir);
  let composition: ReportInput['composition'];
  try {
    composition = await datasetComposition(storeRoot(run.config.root), run.config.dataset, storeVersion(run.state));
  } catch (e) {
    composition = { error: (e as Error).message };
  }
  writeFileSync(out, renderReport({ ...run, composition }));
  return out;
}

/** The last store version a stage of the run reported (`storeVersion` in its summary), if any. */
function storeVersion(state: RunState): number | undefined {
  const vs = Object.values(state.stages).map((s) => s?.result?.summary.storeVersion).filter((v): v is number => typeof v === 'number');
  return vs.length ? Math.max(...vs) : undefined;
}
