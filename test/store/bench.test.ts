import { expect, test, vi } from 'vitest';
import { run } from '../../bench/store.ts';

test('the store bench runs in quick mode and reports every figure as a JSON line', async () => {
  const lines: string[] = [];
  const spy = vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => { lines.push(a.join(' ')); });
  try {
    await run({ quick: true, argv: [] });
  } finally {
    spy.mockRestore();
  }
  const figures = lines.filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
  for (const f of figures) {
    expect(f.bench).toBe('store');
    expect(typeof f.figure).toBe('string');
    expect(Number.isFinite(f.value)).toBe(true);
    expect(typeof f.unit).toBe('string');
  }
  const names = figures.map((f) => `${f.figure}${f.impl ? `/${f.impl}` : ''}${f.case ? `/${f.case}` : ''}`);
  expect(names).toEqual(expect.arrayContaining([
    'write_mb_s', 'write_peak_rss', 'write_mb_s/parquet-wasm 1 thread encode only', 'ratio/write',
    'read_full_mb_s', 'read_full_mb_s/duckdb', 'ratio/read_full', 'read_no_images_s', 'read_no_images_s/duckdb',
    'ratio/read_no_images', 'minibatch_256_images_ms', 'read_full_cpu_s', 'read_full_cpu_s/duckdb',
    'read_no_images_cpu_s', 'read_no_images_cpu_s/duckdb',
  ]));
});
