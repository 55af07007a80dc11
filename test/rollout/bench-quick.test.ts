/** The offline and online experiments run in --quick mode and report their figures (the benches work). */
import { describe, expect, it, vi } from 'vitest';
import { run as offline } from '../../bench/offline.ts';
import { run as online } from '../../bench/online.ts';

async function figures(fn: () => Promise<void>): Promise<Record<string, unknown>[]> {
  const lines: string[] = [];
  const spy = vi.spyOn(console, 'log').mockImplementation((s: unknown) => { lines.push(String(s)); });
  try { await fn(); } finally { spy.mockRestore(); }
  return lines.filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
}

describe('experiments, quick', () => {
  it('bench offline --quick reports success per algo and seed', async () => {
    const f = await figures(() => offline({ quick: true, argv: [] }));
    for (const algo of ['sft', 'filtered-bc', 'afsft']) {
      const s = f.find((x) => x.figure === 'success' && x.algo === algo)!;
      expect(s.value).toBeGreaterThanOrEqual(0);
      expect(s.value).toBeLessThanOrEqual(1);
    }
    expect(f.find((x) => x.figure === 'behaviour_success')).toBeDefined();
  }, 300_000);

  it('bench online --quick reports PPO and CoSo success, wall time, where it went and their ratio', async () => {
    const f = await figures(() => online({ quick: true, argv: [] }));
    for (const algo of ['ppo', 'coso']) {
      expect(f.find((x) => x.figure === 'success' && x.algo === algo)).toBeDefined();
      expect(f.find((x) => x.figure === 'eval_success' && x.algo === algo)!.episodes).toBe(8);
      const part = (k: string) => f.find((x) => x.figure === k && x.algo === algo)?.value as number | undefined;
      const wall = part('wall_s')!;
      expect(part('rollout_s')! + part('update_s')!).toBeLessThan(wall);
      expect(part('rollout_s')).toBeGreaterThan(0);
    }
    expect(f.find((x) => x.figure === 'scm_s' && x.algo === 'coso')!.value as number).toBeGreaterThan(0);
    expect(f.find((x) => x.figure === 'scm_s' && x.algo === 'ppo')).toBeUndefined();
    expect(f.find((x) => x.figure === 'eval_success' && x.algo === 'start')).toBeDefined();
    expect((f.find((x) => x.figure === 'wall_ratio')!.value as number) > 0).toBe(true);
  }, 300_000);
});
