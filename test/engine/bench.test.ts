import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));

describe('bench engine --quick', () => {
  it('runs and prints the train-step figures as JSON lines', () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'bench/run.ts', 'engine', '--quick', '--threads', '1'], {
      cwd: root,
      encoding: 'utf8',
      env: { ...process.env, O2O_TORCH_PYTHON: 'o2o-no-such-python' },
    });
    expect(r.status, r.stderr).toBe(0);
    const figures = r.stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
    for (const model of ['mlp', 'transformer']) {
      const f = figures.find((x) => x.figure === 'train_step_ms' && x.model === model && !x.impl);
      expect(f?.value).toBeGreaterThan(0);
      expect(f?.unit).toBe('ms');
    }
    expect(r.stdout).toMatch(/torch reference skipped: o2o-no-such-python could not run/);
  });
});
