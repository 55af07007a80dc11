/**
 * `writeReport(runDir)`: reads a run folder and its dataset, writes `<runDir>/report.html` (or `out`).
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { readRun, renderReport, type ReportInput } from './html.ts';

export { renderReport, readRun } from './html.ts';

export async function writeReport(runDir: string, out = path.join(runDir, 'report.html')): Promise<string> {
  const run = readRun(runDir);
  const composition: ReportInput['composition'] = { error: 'reading the store is not wired in yet' };
  writeFileSync(out, renderReport({ ...run, composition }));
  return out;
}
