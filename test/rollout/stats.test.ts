import { describe, expect, it } from 'vitest';
import { RecentEpisodes, summarizeEpisodes, wilson } from '../../src/rollout/stats.ts';

describe('episode statistics', () => {
  it('Wilson interval matches hand-computed values and stays inside [0, 1]', () => {
    // k = 8, n = 10: centre = (0.8 + 1.9208/10) / 1.38416 = 0.71673; half = 1.96/1.38416·√(0.016 + 0.00096) = 0.18438
    const w = wilson(8, 10);
    expect(w.value).toBe(0.8);
    expect(w.lo).toBeCloseTo(0.4902, 3);
    expect(w.hi).toBeCloseTo(0.9433, 3);
    const zero = wilson(0, 50);
    expect(zero.lo).toBe(0);
    expect(zero.hi).toBeGreaterThan(0.05);
    expect(zero.hi).toBeLessThan(0.08);
  });

  it('summarises success (return > 0), mean return and the invalid-action rate over steps', () => {
    const s = summarizeEpisodes([
      { return: 1, length: 2, invalidSteps: 0 },
      { return: -1, length: 4, invalidSteps: 2 },
      { return: 0, length: 2, invalidSteps: 0 },
    ]);
    expect(s.success.value).toBeCloseTo(1 / 3, 12);
    expect(s.meanReturn.value).toBeCloseTo(0, 12);
    expect(s.invalidAction.value).toBeCloseTo(2 / 8, 12);
    expect(s.meanLength).toBeCloseTo(8 / 3, 12);
  });

  it('keeps the last N episodes', () => {
    const r = new RecentEpisodes(2);
    for (const ret of [1, -1, 1]) r.push({ return: ret, length: 1, invalidSteps: 0 });
    expect(r.count).toBe(2);
    expect(r.successRate()).toBe(0.5);
  });
});
