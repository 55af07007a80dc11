/** The envs benchmark runs in quick mode and reports every figure as one JSON line (../shared/BENCH.md). */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';

it('npm run bench -- envs --quick', async () => {
  const root = path.resolve(import.meta.dirname, '../..');
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'bench/run.ts', 'envs', '--quick'], { cwd: root, timeout: 120_000 });
  const figures = stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
  const steps = figures.filter((f) => f.figure === 'steps_per_s');
  expect(steps.length).toBe(4 * 3 + 2);
  for (const f of figures) {
    expect(f.bench).toBe('envs');
    expect(Number.isFinite(f.value) && f.value > 0).toBe(true);
    expect(typeof f.unit).toBe('string');
  }
  expect(figures.filter((f) => f.figure === 'png_encode_ms').map((f) => f.impl ?? 'o2o')).toEqual(['o2o', 'pngjs 7']);
});
