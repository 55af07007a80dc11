/**
 * Learning curves of `npm run bench -- online` as standalone SVG files, one per task:
 *   npm run bench -- online ... | tee online.log
 *   npx tsx tools/online-curves.ts online.log docs/    → docs/online-<task>.svg
 *   npx tsx tools/online-curves.ts online.log docs/ noisy-start    → docs/online-<task>-noisy-start.svg
 * Reads the bench's per-run lines ("<task> <algo> seed <n>: ... curve <env steps>:<success>% ..."), where
 * success is over the last 200 training episodes.
 */
import fs from 'node:fs';
import path from 'node:path';
import { lineChart, standaloneSvg, type Series } from '../src/report/svg.ts';

const [log, outDir, suffix] = process.argv.slice(2);
if (!log || !outDir) throw new Error('usage: tools/online-curves.ts <bench log> <output folder> [file name suffix]');
const byTask = new Map<string, Series[]>();
for (const line of fs.readFileSync(log, 'utf8').split('\n')) {
  const m = /^(\w+) (\w+) seed (\d+): .* curve (.*)$/.exec(line);
  if (!m) continue;
  const points = m[4].trim().split(' ').map((p) => {
    const [x, y] = p.split(':');
    return [Number(x), Number(y.replace('%', '')) / 100] as [number, number];
  });
  const series = byTask.get(m[1]) ?? [];
  series.push({ name: `${m[2]} seed ${m[3]}`, points });
  byTask.set(m[1], series);
}
if (!byTask.size) throw new Error(`${log}: no curve lines of bench online`);
fs.mkdirSync(outDir, { recursive: true });
for (const [task, series] of byTask) {
  const file = path.join(outDir, `online-${task}${suffix ? `-${suffix}` : ''}.svg`);
  fs.writeFileSync(file, standaloneSvg(lineChart({
    title: `${task}${suffix ? ` (${suffix})` : ''}: success over the last 200 training episodes`, xLabel: 'env steps', yLabel: 'success', series, yRange: [0, 1],
  })));
  console.log(file);
}
