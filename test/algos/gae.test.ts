import { describe, expect, it } from 'vitest';
import { gae, normalizeAdvantages, uniformReturns, type GaeInput } from '../../src/algos/gae.ts';
import { Rng } from '../../src/util/rng.ts';

/** Oracle: A_t = Σ_k (γλ)^k δ_{t+k}, summed forward until the episode or the rollout ends. */
function gaeSlow(x: GaeInput, gamma: number, lambda: number): number[] {
  const N = x.lastValues.length, T = x.rewards.length / N;
  const out: number[] = [];
  const delta = (t: number, n: number) => {
    const i = t * N + n;
    const vNext = x.terminated[i] ? 0 : x.truncated[i] ? x.truncValues[i] : t + 1 < T ? x.values[i + N] : x.lastValues[n];
    return x.rewards[i] + gamma * vNext - x.values[i];
  };
  for (let t = 0; t < T; t++) {
    for (let n = 0; n < N; n++) {
      let a = 0;
      for (let k = 0; t + k < T; k++) {
        a += (gamma * lambda) ** k * delta(t + k, n);
        const j = (t + k) * N + n;
        if (x.terminated[j] || x.truncated[j]) break;
      }
      out.push(a);
    }
  }
  return out;
}

describe('gae', () => {
  it('hand-built episode: terminal gets no bootstrap, truncation bootstraps V(final obs)', () => {
    // one env, 3 steps: step 0 continues, step 1 terminates (r=1), step 2 is a new episode cut by the time limit.
    const x: GaeInput = {
      rewards: [0, 1, -1], values: [0.5, 0.8, 0.2], terminated: [0, 1, 0], truncated: [0, 0, 1],
      truncValues: [0, 0, 0.4], lastValues: [9],
    };
    const g = 0.9, l = 0.95;
    const { advantages, returns } = gae(x, g, l);
    const d1 = 1 - 0.8; // terminal: no bootstrap
    const d0 = 0 + g * 0.8 - 0.5;
    const d2 = -1 + g * 0.4 - 0.2; // truncated: bootstrap V(final obs), never lastValues
    expect(advantages[1]).toBeCloseTo(d1, 12);
    expect(advantages[0]).toBeCloseTo(d0 + g * l * d1, 12);
    expect(advantages[2]).toBeCloseTo(d2, 12);
    expect(returns[0]).toBeCloseTo(advantages[0] + 0.5, 12);
  });

  it('an unfinished episode bootstraps from the value after the rollout', () => {
    const x: GaeInput = { rewards: [0, 0], values: [1, 2], terminated: [0, 0], truncated: [0, 0], truncValues: [0, 0], lastValues: [3] };
    const { advantages } = gae(x, 0.5, 1);
    expect(advantages[1]).toBeCloseTo(0.5 * 3 - 2, 12);
    expect(advantages[0]).toBeCloseTo(0.5 * 2 - 1 + 0.5 * (0.5 * 3 - 2), 12);
  });

  it('vectorised form equals the slow loop on random rollouts with auto-reset', () => {
    const rng = new Rng(3);
    for (let trial = 0; trial < 20; trial++) {
      const N = 1 + rng.int(5), T = 1 + rng.int(30);
      const x: GaeInput = {
        rewards: Array.from({ length: T * N }, () => rng.normal()),
        values: Array.from({ length: T * N }, () => rng.normal()),
        terminated: Array.from({ length: T * N }, () => rng.bernoulli(0.15)),
        truncated: Array.from({ length: T * N }, () => rng.bernoulli(0.1)),
        truncValues: Array.from({ length: T * N }, () => rng.normal()),
        lastValues: Array.from({ length: N }, () => rng.normal()),
      };
      const g = rng.float(), l = rng.float();
      const fast = gae(x, g, l).advantages;
      const slow = gaeSlow(x, g, l);
      for (let i = 0; i < slow.length; i++) expect(fast[i]).toBeCloseTo(slow[i], 10);
    }
  });

  it('rejects mismatched lengths with a clear error', () => {
    expect(() => gae({ rewards: [0, 0, 0], values: [0, 0, 0], terminated: [0, 0, 0], truncated: [0, 0, 0], truncValues: [0, 0, 0], lastValues: [0, 0] }, 0.9, 0.95))
      .toThrow(/T·N/);
  });

  it('normalised advantages have mean 0 and std 1', () => {
    const a = normalizeAdvantages([1, 2, 3, 4, 10]);
    const mean = a.reduce((s, v) => s + v, 0) / a.length;
    const std = Math.sqrt(a.reduce((s, v) => s + (v - mean) ** 2, 0) / a.length);
    expect(mean).toBeCloseTo(0, 12);
    expect(std).toBeCloseTo(1, 6);
  });
});

import { gaeEpisodes } from '../../src/algos/gae.ts';

describe('gaeEpisodes', () => {
  it('equals per-episode GAE and refuses an unfinished episode', () => {
    const s = (reward: number, value: number, terminated = false, truncated = false, truncValue = 0) => ({ reward, value, terminated, truncated, truncValue });
    const eps = [[s(0, 1), s(1, 2, true)], [s(-1, 0.5, false, true, 3)]];
    const r = gaeEpisodes(eps, 0.9, 0.95);
    const a = gae({ rewards: [0, 1], values: [1, 2], terminated: [0, 1], truncated: [0, 0], truncValues: [0, 0], lastValues: [0] }, 0.9, 0.95).advantages;
    expect(r.advantages[0]).toBeCloseTo(a[0], 12);
    expect(r.advantages[1]).toBeCloseTo(a[1], 12);
    expect(r.advantages[2]).toBeCloseTo(-1 + 0.9 * 3 - 0.5, 12);
    expect(() => gaeEpisodes([[s(0, 0)]], 0.9, 0.95)).toThrow(/episode 0 does not end/);
  });

  it('uniformReturns: true only when every episode has the same undiscounted return', () => {
    const ep = (...r: number[]) => r.map((reward) => ({ reward }));
    expect(uniformReturns([ep(0, 0, 10), ep(10), ep(0, 10)])).toBe(true); // EZPoints: all +10, lengths differ
    expect(uniformReturns([ep(0, 0, 10), ep(-1, 0, 10)])).toBe(false); // an invalid step costs 1
    expect(uniformReturns([ep(1), ep(-1), ep(0)])).toBe(false); // Blackjack: win, loss, draw
    expect(uniformReturns([ep(-1, -1), ep(0, -1)])).toBe(false);
    expect(uniformReturns([ep(-1, -1), ep(0, -1, -1)])).toBe(true); // equal sums, different paths
    expect(uniformReturns([ep(0.1, 0.2), ep(0.3)])).toBe(true); // sums equal up to float rounding
  });
});
