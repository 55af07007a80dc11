/** `npm run bench -- gpu --quick` runs and reports its figures as JSON lines (BENCH.md). */
import { afterEach, expect, it, vi } from 'vitest';
import { run } from '../../bench/gpu.ts';
import { probeProvider } from '../../src/engine/device/probe.mjs';

afterEach(() => vi.restoreAllMocks());

it('bench gpu --quick reports step times and bytes per step for resident and copied state', async () => {
  const lines: string[] = [];
  vi.spyOn(console, 'log').mockImplementation((s: unknown) => void lines.push(String(s)));
  await run({ quick: true, argv: ['--provider', 'webgpu'] });
  vi.restoreAllMocks();
  const figs = lines.filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, string | number>);
  for (const f of figs) {
    expect(f.bench).toBe('gpu');
    expect(typeof f.value).toBe('number');
    expect(Number.isFinite(f.value)).toBe(true);
    expect(typeof f.unit).toBe('string');
  }
  expect(figs.some((f) => f.provider === 'cpu' && f.figure === 'train_step_ms')).toBe(true);
  const probe = await probeProvider('webgpu');
  if (!probe.ok) {
    console.warn(`webgpu figures not checked: ${probe.reason}`);
    expect(lines.some((l) => l.startsWith('webgpu: not measured:'))).toBe(true);
    return;
  }
  const get = (figure: string, residency: string) => figs.find((f) => f.figure === figure && f.provider === 'webgpu' && f.residency === residency && f.k === 1)!.value as number;
  // Resident: only the batch and lr go up and two scalars come down; copied: the whole state both ways too.
  expect(get('bytes_to_host', 'device')).toBe(8);
  expect(get('bytes_to_device', 'host') - get('bytes_to_device', 'device')).toBe(get('bytes_to_host', 'host') - 8);
  expect(get('train_step_ms', 'device')).toBeGreaterThan(0);
  expect(figs.some((f) => f.figure === 'ratio' && f.unit === 'copy/resident')).toBe(true);
  // The K-step Loop model copies the state once per run: per update, K times less than one step per run.
  const loop = figs.find((f) => f.figure === 'bytes_to_host' && f.provider === 'webgpu' && Number(f.k) > 1)!;
  expect(Number(loop.value)).toBe((get('bytes_to_host', 'host') - 8) / Number(loop.k) + 8);
});
