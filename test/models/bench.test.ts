import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));

describe('bench models --quick', () => {
  it('runs and prints every figure as a JSON line', () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'bench/run.ts', 'models', '--quick', '--threads', '1'], { cwd: root, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const figures = r.stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
    for (const kv of [true, false]) {
      for (const batch of [1, 2]) {
        const f = figures.find((x) => x.figure === 'gen_tokens_per_s' && x.kv_cache === kv && x.batch === batch);
        expect(f?.value).toBeGreaterThan(0);
        expect(f?.unit).toBe('tokens/s');
      }
    }
    for (const name of ['kv_cache_speedup', 'tf_tokens_per_s', 'weight_update_ms', 'image_ms']) {
      expect(figures.find((x) => x.figure === name)?.value, name).toBeGreaterThan(0);
    }
  });
});
