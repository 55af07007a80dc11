/**
 * A writer for the crash test: `node --import tsx crasher.ts ROOT DATASET RUN` appends commits forever
 * (each: 2 episodes x 4 steps in two tasks, 4 KB images), printing `committed RUN K VERSION` after each
 * commit and `ready` after the first (workers warm), until the test kills it.
 */
import { openTable, rowsToBatch } from '../../../src/store/index.ts';
import { makeRows } from '../fixtures.ts';

const [root, dataset, run] = process.argv.slice(2);
const table = await openTable(root, dataset, { create: true });
for (let k = 0; ; k++) {
  const rows = makeRows({ episodes: 2, steps: 4, prefix: `r${run}-c${k}`, seed: k });
  for (const r of rows) r.obs_image = new Uint8Array(4096).fill(k & 255);
  const { version } = await table.append([rowsToBatch(rows)], { info: { run, commit: k } });
  console.log(`committed ${run} ${k} ${version}`);
  if (k === 0) console.log('ready');
}
