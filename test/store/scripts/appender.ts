/**
 * A writer process for the store's concurrency and crash tests:
 *   node --import tsx appender.ts ROOT DATASET WRITER COMMITS ROWS_PER_COMMIT
 * Appends COMMITS commits of one episode each (ROWS_PER_COMMIT steps, episode id `WRITER-cK`), printing
 * `committed K VERSION` after each.
 */
import { openTable, rowsToBatch } from '../../../src/store/index.ts';
import { makeRows } from '../fixtures.ts';

const [root, dataset, writer, commits, rowsPer] = process.argv.slice(2);
const table = await openTable(root, dataset, { create: true });
for (let k = 0; k < Number(commits); k++) {
  const rows = makeRows({ episodes: 1, steps: Number(rowsPer), prefix: `${writer}-c${k}`, seed: k, task: k % 2 ? 'gym_cards/NumberLine-v0' : 'gym_cards/EZPoints-v0' });
  const { version } = await table.append([rowsToBatch(rows)], { info: { writer, commit: k } });
  console.log(`committed ${k} ${version}`);
}
