import { describe, expect, it } from 'vitest';
import { afsftConfig, afsftLossReference, filterWeights, fractionKept, softValue, tdTargets } from '../../src/algos/afsft.ts';

describe('AFSFT token-level TD targets', () => {
  // Episode of 3 env steps, T = 4 padded tokens per row:
  //   row 0: step 0, 3 tokens, r = 0      -> next step is row 1
  //   row 1: step 1, 2 tokens, r = -1     -> next step is row 2
  //   row 2: step 2, 4 tokens, r = 1, terminated
  //   row 3: another episode's last step, 1 token, r = 0, truncated, final observation unknown
  //   row 4: truncated, final observation's V̄ known (an online rollout keeps it)
  const T = 4;
  const vBar = [
    0.1, 0.2, 0.3, 9,
    0.5, 0.6, 9, 9,
    0.7, 0.8, 0.9, 1.0,
    0.4, 9, 9, 9,
    0.2, 0.3, 9, 9,
  ];
  const lengths = [3, 2, 4, 1, 2];
  const reward = [0, -1, 1, 0, -1];
  const terminated = [0, 0, 1, 0, 0];
  const truncated = [0, 0, 0, 1, 1];
  const vBarNext = [0.5, 0.7, NaN, NaN, 0.25];
  const g = 0.9;
  const { target, mask } = tdTargets(vBar, lengths, reward, terminated, truncated, vBarNext, g);
  const row = (a: Float32Array, b: number) => Array.from(a.subarray(b * T, b * T + T));

  it('inside an utterance the target is the next position’s V̄ (γ = 1)', () => {
    expect(row(target, 0).slice(0, 2)).toEqual([Math.fround(0.2), Math.fround(0.3)]);
    expect(row(target, 2).slice(0, 3)).toEqual([0.8, 0.9, 1.0].map(Math.fround));
  });

  it('at the turn end: r + γ·V̄(h′_0) of the next env step', () => {
    expect(target[0 * T + 2]).toBeCloseTo(0 + g * 0.5, 6);
    expect(target[1 * T + 1]).toBeCloseTo(-1 + g * 0.7, 6);
  });

  it('at a terminal step: r alone, no bootstrap', () => {
    expect(target[2 * T + 3]).toBeCloseTo(1, 6);
  });

  it('truncated: bootstraps when V̄ of the final observation is known, else leaves the token out', () => {
    expect(target[4 * T + 1]).toBeCloseTo(-1 + g * 0.25, 6);
    expect(mask[4 * T + 1]).toBe(1);
    expect(mask[3 * T + 0]).toBe(0);
  });

  it('masks exactly the generated tokens (padding out)', () => {
    expect(row(mask, 0)).toEqual([1, 1, 1, 0]);
    expect(row(mask, 1)).toEqual([1, 1, 0, 0]);
    expect(row(mask, 2)).toEqual([1, 1, 1, 1]);
    expect(row(mask, 3)).toEqual([0, 0, 0, 0]);
  });

  it('k-step: V̄ k tokens ahead inside the utterance, the turn-end target for the last k tokens', () => {
    const k2 = tdTargets(vBar, lengths, reward, terminated, truncated, vBarNext, g, 2);
    expect(row(k2.target, 0)[0]).toBeCloseTo(0.3, 6);
    expect(row(k2.target, 0).slice(1, 3)).toEqual([g * 0.5, g * 0.5].map(Math.fround));
    expect(row(k2.target, 2)).toEqual([0.9, 1.0, 1, 1].map(Math.fround));
    expect(row(k2.mask, 4)).toEqual([1, 1, 0, 0]);
    expect(row(k2.mask, 3)).toEqual([0, 0, 0, 0]);
    // k ≥ the utterance: every token gets the step's bootstrapped return
    const all = tdTargets(vBar, lengths, reward, terminated, truncated, vBarNext, g, 1024);
    expect(row(all.target, 1).slice(0, 2)).toEqual([-1 + g * 0.7, -1 + g * 0.7].map(Math.fround));
    expect(row(all.mask, 0)).toEqual([1, 1, 1, 0]);
    // k = 1 is the default (the spec's one-step TD)
    expect(Array.from(tdTargets(vBar, lengths, reward, terminated, truncated, vBarNext, g, 1).target)).toEqual(Array.from(target));
    expect(() => tdTargets(vBar, lengths, reward, terminated, truncated, vBarNext, g, 0)).toThrow(/tdSteps/);
  });

  it('refuses a non-final step whose next step is missing', () => {
    expect(() => tdTargets([0, 0], [2], [0], [0], [0], [NaN], 0.9)).toThrow(/row 0.*next step/);
  });
});

describe('advantage filter', () => {
  it('binary keeps exactly the positive advantages; fraction kept counts masked tokens only', () => {
    const f = filterWeights([0.5, -0.1, 0, 2, 3], { filter: 'binary', beta: 1, maxWeight: 20 });
    expect(Array.from(f)).toEqual([1, 0, 0, 1, 1]);
    expect(fractionKept(f, [1, 1, 1, 1, 0])).toBeCloseTo(0.5, 12);
  });

  it('exp is exp(βA) clipped at maxWeight', () => {
    const f = filterWeights([0, -1, 10], { filter: 'exp', beta: 0.5, maxWeight: 5 });
    expect(f[0]).toBeCloseTo(1, 6);
    expect(f[1]).toBeCloseTo(Math.exp(-0.5), 6);
    expect(f[2]).toBe(5);
  });

  it('the reference loss: SFT on kept tokens + criticCoef × squared TD error', () => {
    const r = afsftLossReference({
      logp: [-1, -2, -3, -4], qTaken: [1, 0, 2, 0], v: [0.5, 0.5, 1, 0], target: [1, 1, 1, 1],
      criticMask: [1, 1, 0, 0], mask: [1, 1, 1, 0],
    }, { filter: 'binary', beta: 1, maxWeight: 20, criticCoef: 2 });
    expect(r.actor).toBeCloseTo((1 + 3) / 3, 12); // tokens 0 and 2 kept
    expect(r.critic).toBeCloseTo((0 + 1) / 2, 12);
    expect(r.loss).toBeCloseTo(r.actor + 2 * r.critic, 12);
    expect(r.kept).toBeCloseTo(2 / 3, 12);
  });

  it('soft value equals Σ π·Q', () => {
    const v = softValue([0, Math.log(3)], [1, 2]);
    expect(v).toBeCloseTo(0.25 * 1 + 0.75 * 2, 12);
  });
});

describe('AFSFT config', () => {
  it('round-trips through JSON and rejects unknown keys and bad values', () => {
    const c = afsftConfig({ filter: 'exp', beta: 2 });
    expect(afsftConfig(JSON.parse(JSON.stringify(c)))).toEqual(c);
    expect(() => afsftConfig({ betta: 1 })).toThrow(/unknown key "betta".*allowed keys/);
    expect(() => afsftConfig({ filter: 'soft' })).toThrow(/filter: expected "binary" or "exp"/);
    expect(() => afsftConfig({ gamma: '0.9' })).toThrow(/gamma: expected a finite number/);
  });
});
