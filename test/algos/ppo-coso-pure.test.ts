import { Rng } from '../../src/util/rng.ts';
import { describe, expect, it } from 'vitest';
import { cosineLr, cotLogLik, ppoConfig, ppoLossReference } from '../../src/algos/ppo.ts';
import { cosoConfig, counterfactualWeights, weightedEntropyReference, zeroTokenSet } from '../../src/algos/coso.ts';

describe('PPO (plain-JS reference)', () => {
  it('λ-scales the thought tokens and not the action tokens', () => {
    // row 0: 4 tokens, action starts at 2; row 1: 2 tokens, action starts at 0 (no thoughts)
    const logp = [-1, -2, -3, -4, -5, -6, 0, 0];
    const mask = [1, 1, 1, 1, 1, 1, 0, 0];
    const ll = cotLogLik(logp, mask, [2, 0], 0.5);
    expect(ll[0]).toBeCloseTo(0.5 * (-1 - 2) + (-3 - 4), 12);
    expect(ll[1]).toBeCloseTo(-5 - 6, 12);
  });

  it('at the behaviour policy the ratio is 1, nothing is clipped and L_pg = −mean(A)', () => {
    const s = ppoLossReference({ logpNew: [-1, -2, -3], logpOld: [-1, -2, -3], adv: [1, -2, 4], v: [0, 0, 0], vOld: [0, 0, 0], ret: [1, 1, 1] }, { clipEps: 0.1, valueCoef: 0.5 });
    expect(s.ratioMean).toBe(1);
    expect(s.clipFrac).toBe(0);
    expect(s.approxKl).toBe(0);
    expect(s.pg).toBeCloseTo(-1, 12);
    expect(s.vf).toBeCloseTo(0.5, 12);
    expect(s.loss).toBeCloseTo(-1 + 0.25, 12);
  });

  it('clips the ratio in the pessimistic direction and clips the value change by ε', () => {
    const e = 0.1;
    const s = ppoLossReference({ logpNew: [Math.log(2)], logpOld: [0], adv: [1], v: [1], vOld: [0], ret: [1] }, { clipEps: e, valueCoef: 1 });
    expect(s.pg).toBeCloseTo(-1.1, 12); // min(2·1, 1.1·1)
    expect(s.vf).toBeCloseTo(0.5 * (0.1 - 1) ** 2, 12); // clipped V = 0.1 is farther from R
    const neg = ppoLossReference({ logpNew: [Math.log(2)], logpOld: [0], adv: [-1], v: [0], vOld: [0], ret: [0] }, { clipEps: e, valueCoef: 1 });
    expect(neg.pg).toBeCloseTo(2, 12); // min(−2, −1.1) = −2 → loss 2
  });

  it('v_old = ret (the value warm-up) gives the unclipped squared error, however far V is', () => {
    for (const v of [-7, -0.05, 0.3, 12]) {
      const s = ppoLossReference({ logpNew: [0], logpOld: [0], adv: [0], v: [v], vOld: [2], ret: [2] }, { clipEps: 0.1, valueCoef: 1 });
      expect(s.vf).toBeCloseTo(0.5 * (v - 2) ** 2, 12);
    }
  });

  it('config: spec defaults, JSON round trip, unknown keys refused', () => {
    const c = ppoConfig();
    expect([c.clipEps, c.valueCoef, c.gamma, c.gaeLambda, c.epochs, c.cotLambda]).toEqual([0.1, 0.5, 0.9, 0.95, 4, 0.5]);
    expect(ppoConfig(JSON.parse(JSON.stringify(c)))).toEqual(c);
    expect(() => ppoConfig({ clip: 0.2 })).toThrow(/unknown key "clip"/);
    expect(() => ppoConfig({ epochs: 0 })).toThrow(/epochs: expected an integer ≥ 1, got 0/);
  });

  it('cosine schedule runs from lr to lrEnd', () => {
    expect(cosineLr({ lr: 1, lrEnd: 0 }, 0, 10)).toBeCloseTo(1, 12);
    expect(cosineLr({ lr: 1, lrEnd: 0 }, 5, 10)).toBeCloseTo(0.5, 12);
    expect(cosineLr({ lr: 1, lrEnd: 0.1 }, 10, 10)).toBeCloseTo(0.1, 12);
  });
});

describe('CoSo counterfactual weights (plain math)', () => {
  // Token 7 decides the class: P(class 1) = 0.9 when 7 is present, 0.5 otherwise.
  const classify = async (seqs: number[][]) => seqs.map((s) => (s.includes(7) ? Float32Array.of(0.1, 0.9) : Float32Array.of(0.5, 0.5)));

  it('B_i counts every window that covers the decisive token; min-max, square root, zero tokens 0', async () => {
    const [w] = await counterfactualWeights([[1, 2, 3, 4, 7, 5, 6]], [1], classify, { window: 4, nullToken: 0, zeroTokens: new Set([1]) });
    // windows starting at 1..4 cover index 4 → B = 0.4; at 5, 6 → 0; token at 0 is punctuation → 0
    expect(Array.from(w).map((x) => Math.round(x * 1e6) / 1e6)).toEqual([0, 1, 1, 1, 1, 0, 0]);
  });

  it('window 1 isolates the decisive token; the square root lifts intermediate values', async () => {
    const soft = async (seqs: number[][]) => seqs.map((s) => {
      const p = 0.5 + 0.4 * (s.includes(7) ? 1 : 0) - 0.1 * (s.includes(3) ? 0 : 1);
      return Float32Array.of(1 - p, p);
    });
    const [w] = await counterfactualWeights([[3, 7, 5]], [1], soft, { window: 1, nullToken: 0, zeroTokens: new Set() });
    expect(w[1]).toBeCloseTo(1, 5);
    expect(w[0]).toBeCloseTo(Math.sqrt(0.1 / 0.4), 5);
    expect(w[2]).toBeCloseTo(0, 5);
  });

  it('equals the naive computation (every window classified, every row on its own) with fewer classifier rows', async () => {
    const naive = async (seqs: number[][], actions: number[], f: (s: number[][]) => Promise<Float32Array[]>, window: number, zero: Set<number>, tail: number) => {
      const out: Float32Array[] = [];
      for (let s = 0; s < seqs.length; s++) {
        const y = seqs[s], a = actions[s];
        const seen = (c: number[]) => c.slice(Math.max(0, c.length - tail));
        const p0 = (await f([seen(y)]))[0][a];
        const raw = await Promise.all(y.map(async (_, i) => {
          const c = y.slice();
          for (let j = i; j < Math.min(i + window, y.length); j++) c[j] = 0;
          return Math.abs(p0 - (await f([seen(c)]))[0][a]);
        }));
        const kept = raw.filter((_, i) => !zero.has(y[i]));
        const mn = Math.min(...kept), mx = Math.max(...kept);
        out.push(Float32Array.from(y, (t, i) => (zero.has(t) ? 0 : Math.sqrt((raw[i] - mn) / (mx - mn + 1e-10)))));
      }
      return out;
    };
    // a classifier that reads only the last `tail` tokens, smooth in the tokens it sees
    const tail = 6;
    const clf = async (seqs: number[][]) => seqs.map((s) => {
      const t = s.slice(Math.max(0, s.length - tail));
      const z = t.reduce((acc, v, i) => acc + Math.sin(v * 1.7 + i) * (v === 0 ? 0 : 1), 0);
      const p = 1 / (1 + Math.exp(-z));
      return Float32Array.of(1 - p, p);
    });
    const rng = new Rng(5);
    const base = Array.from({ length: 4 }, () => Array.from({ length: 5 + rng.int(8) }, () => 1 + rng.int(9)));
    base.push([8, 1, ...base[3]], [4, ...base[3]]); // utterances that share their tail with base[3]
    const seqs = [0, 1, 0, 2, 3, 1, 0, 4, 5].map((i) => base[i]);
    const actions = [1, 0, 1, 1, 0, 0, 0, 0, 0];
    const zero = new Set([2, 5]);
    let rows = 0;
    const inputs = new Set<string>();
    const counted = async (b: number[][]) => {
      rows += b.length;
      for (const q of b) { expect(q.length).toBeLessThanOrEqual(tail); inputs.add(q.join(',')); }
      return clf(b);
    };
    const got = await counterfactualWeights(seqs, actions, counted, { window: 3, nullToken: 0, zeroTokens: zero, tail });
    const want = await naive(seqs, actions, clf, 3, zero, tail);
    got.forEach((w, s) => w.forEach((x, i) => expect(x).toBeCloseTo(want[s][i], 5)));
    const naiveRows = seqs.reduce((n, y) => n + y.length + 1, 0);
    expect(rows).toBeLessThan(naiveRows / 2);
    expect(inputs.size).toBe(rows); // each distinct classifier input once
  });

  it('zero set: punctuation and whitespace, except characters of legal actions', () => {
    const vocab = ['"', ' ', '+', '-', 'a', ':', '', '{'];
    const z = zeroTokenSet(vocab.length, (i) => vocab[i], [6], ['+', '-']);
    expect([...z].sort()).toEqual([0, 1, 5, 6, 7]);
  });

  it('weighted entropy averages over generated tokens', () => {
    expect(weightedEntropyReference([1, 2, 3, 9], [1, 0.5, 0, 1], [1, 1, 1, 0])).toBeCloseTo((1 + 1 + 0) / 3, 12);
  });

  it('config round trip', () => {
    const c = cosoConfig({ alpha: 0.5 });
    expect(cosoConfig(JSON.parse(JSON.stringify(c)))).toEqual(c);
    expect(() => cosoConfig({ window: 0 })).toThrow(/window/);
  });
});

describe('CoSo weights with a classifier that reads a tail', () => {
  it('windows that end before the tail are not classified and weigh 0; the rest are unchanged', async () => {
    const calls: number[] = [];
    const tailClassify = async (seqs: number[][]) => { calls.push(seqs.length); return seqs.map((s) => (s.slice(-3).includes(7) ? Float32Array.of(0.2, 0.8) : Float32Array.of(0.6, 0.4))); };
    const y = [1, 2, 3, 4, 5, 6, 7, 8];
    const [full] = await counterfactualWeights([y], [1], tailClassify, { window: 2, nullToken: 0, zeroTokens: new Set() });
    const [cut] = await counterfactualWeights([y], [1], tailClassify, { window: 2, nullToken: 0, zeroTokens: new Set(), tail: 3 });
    expect(Array.from(cut)).toEqual(Array.from(full));
    expect(calls).toEqual([1 + 8, 1 + 4]);
  });
});
