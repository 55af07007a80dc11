import { describe, expect, it } from 'vitest';
import { Rng } from '../src/util/rng.ts';

describe('Rng', () => {
  it('gives the same stream for the same seed and different streams for different seeds', () => {
    const a = new Rng(7), b = new Rng(7), c = new Rng(8);
    const xa = Array.from({ length: 5 }, () => a.nextU32());
    expect(Array.from({ length: 5 }, () => b.nextU32())).toEqual(xa);
    expect(Array.from({ length: 5 }, () => c.nextU32())).not.toEqual(xa);
  });

  it('draws uniform integers without bias (chi-square over 6 bins)', () => {
    const r = new Rng(1);
    const n = 60000, counts = new Array(6).fill(0);
    for (let i = 0; i < n; i++) counts[r.int(6)]++;
    const chi2 = counts.reduce((s, c) => s + (c - n / 6) ** 2 / (n / 6), 0);
    expect(chi2).toBeLessThan(20.5); // p ≈ 0.001 at 5 degrees of freedom
  });

  it('floats lie in [0, 1) with mean 1/2', () => {
    const r = new Rng('x');
    let s = 0;
    for (let i = 0; i < 100000; i++) {
      const f = r.float();
      expect(f >= 0 && f < 1).toBe(true);
      s += f;
    }
    expect(Math.abs(s / 100000 - 0.5)).toBeLessThan(0.005);
  });

  it('forks streams that do not depend on later use of the parent', () => {
    const p1 = new Rng(3), p2 = new Rng(3);
    const f1 = p1.fork('envs');
    const f2 = p2.fork('envs');
    p1.nextU32();
    expect(f1.nextU32()).toBe(f2.nextU32());
  });
});
