/**
 * Statistical checks against the [calc] figures of ../shared/spec/gym-cards.md. Tolerances: 4 standard
 * errors for simulated rates (a false alarm about 1 run in 16,000), tight bounds for exact computations.
 */
import { describe, expect, it } from 'vitest';
import { GymCardsEnv } from '../../src/envs/env.ts';
import { VecEnv } from '../../src/envs/vec.ts';
import { makePolicy } from '../../src/envs/policies/scripted.ts';
import { bestAction, optimalWinProbability, pWinStand } from '../../src/envs/policies/blackjack-dp.ts';
import { forEachExpression } from '../../src/envs/policies/solver.ts';
import { NumberLine } from '../../src/envs/tasks/numberline.ts';
import { Rng } from '../../src/util/rng.ts';

const fourSigma = (p: number, n: number) => 4 * Math.sqrt((p * (1 - p)) / n);

/** Plays `episodes` episodes of a scripted policy (utterances through the parser); success rate. */
function successRate(task: string, kind: 'expert' | 'random', episodes: number, seed: number): number {
  const env = new GymCardsEnv(task, { seed, render: false });
  const policy = makePolicy(kind, new Rng(seed + 1));
  let wins = 0;
  for (let i = 0; i < episodes; i++) {
    env.resetSync();
    let ret = 0;
    for (;;) {
      const r = env.stepSync(policy.act(env));
      ret += r.reward;
      if (r.terminated || r.truncated) break;
    }
    if (ret > 0) wins++;
  }
  return wins / episodes;
}

describe('NumberLine', () => {
  it('uniform random actions succeed 28.3% of the time (VecEnv of 8, 20,000 episodes)', async () => {
    const vec = new VecEnv(Array.from({ length: 8 }, (_, i) => new GymCardsEnv('numberline', { seed: 100 + i, render: false })));
    await vec.reset();
    const rng = new Rng(4);
    while (vec.episodes.length < 20_000) await vec.step(vec.envs.map(() => rng.int(2)));
    const eps = vec.episodes.slice(0, 20_000);
    const rate = eps.filter((e) => e.success).length / eps.length;
    expect(Math.abs(rate - 0.283)).toBeLessThan(fourSigma(0.283, 20_000));
    expect(eps.every((e) => e.success === e.return > 0 && e.length >= 1 && e.length <= 10)).toBe(true);
  });
  it('uniform random actions succeed 28.3% exactly (dynamic programming over the rules)', () => {
    // success = return > 0 = reaching the goal without a single -1 step; uniform start and goal with the
    // reference's mod-5 bump
    const reach = (pos: number, goal: number, left: number): number => {
      if (left === 0) return 0;
      return [0, 1].reduce((s, a) => {
        const g = new NumberLine();
        Object.assign(g, { position: pos, goal, steps: 10 - left });
        const r = g.step(a);
        return s + 0.5 * (r.terminated ? 1 : r.truncated || r.reward < 0 ? 0 : reach(g.position, goal, left - 1));
      }, 0);
    };
    let p = 0;
    for (let a = 0; a <= 5; a++) for (let b = 0; b <= 5; b++) p += reach(a, a === b ? (b + 1) % 5 : b, 10) / 36;
    expect(Math.abs(p - 0.283)).toBeLessThan(0.0005);
  });
  it('initial distance distribution 1: 38.9%, 2: 22.2%, 3: 16.7%, 4: 16.7%, 5: 5.6% (60,000 resets)', () => {
    const g = new NumberLine();
    const rng = new Rng(11);
    const n = 60_000;
    const counts = [0, 0, 0, 0, 0, 0];
    for (let i = 0; i < n; i++) { g.reset(rng); counts[Math.abs(g.position - g.goal)]++; }
    const expected = [0, 14 / 36, 8 / 36, 6 / 36, 6 / 36, 2 / 36];
    expect(counts[0]).toBe(0);
    for (let d = 1; d <= 5; d++) expect(Math.abs(counts[d] / n - expected[d])).toBeLessThan(fourSigma(expected[d], n));
  });
  it('the expert always succeeds', () => {
    expect(successRate('numberline', 'expert', 500, 3)).toBe(1);
  });
});

describe('Blackjack', () => {
  it('dynamic programming: optimal P(win) = 43.2%, always stand = 38.1% (exact)', () => {
    expect(Math.abs(optimalWinProbability() - 0.432)).toBeLessThan(0.0005);
    const V = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
    const p = (v: number) => (v === 10 ? 4 / 13 : 1 / 13);
    let stand = 0;
    for (const d of V) for (const a of V) for (const b of V) {
      const t = a + b + (a === 1 || b === 1 ? 10 : 0);
      stand += p(d) * p(a) * p(b) * pWinStand(t, d);
    }
    expect(Math.abs(stand - 0.381)).toBeLessThan(0.0005);
    // textbook sanity: stand on hard 20 against anything, hit hard 11
    for (const d of V) expect(bestAction(20, false, d).hit).toBe(false);
    for (const d of V) expect(bestAction(11, false, d).hit).toBe(true);
  });
  it('the DP expert wins 43.2% of 20,000 episodes played through the env and the parser', () => {
    const rate = successRate('blackjack', 'expert', 20_000, 21);
    expect(Math.abs(rate - 0.432)).toBeLessThan(fourSigma(0.432, 20_000));
  });
  it('uniform random wins 28.1% (10,000 episodes)', () => {
    const rate = successRate('blackjack', 'random', 10_000, 5);
    expect(Math.abs(rate - 0.281)).toBeLessThan(fourSigma(0.281, 10_000));
  });
});

/** Exact rationals [num, den] with den > 0, for an oracle independent of floating point. */
type Q = [number, number];
const gcd = (a: number, b: number): number => (b === 0 ? Math.abs(a) : gcd(b, a % b));
const norm = ([n, d]: Q): Q => { const g = gcd(n, d) || 1; return d < 0 ? [-n / g, -d / g] : [n / g, d / g]; };

function solvableExact(items: Q[]): boolean {
  if (items.length === 1) return items[0][0] === 24 * items[0][1];
  for (let i = 0; i < items.length; i++) {
    for (let j = 0; j < items.length; j++) {
      if (i === j) continue;
      const [a, b] = [items[i], items[j]];
      const rest = items.filter((_, k) => k !== i && k !== j);
      const outs: Q[] = [[a[0] * b[1] + b[0] * a[1], a[1] * b[1]], [a[0] * b[1] - b[0] * a[1], a[1] * b[1]], [a[0] * b[0], a[1] * b[1]]];
      if (b[0] !== 0) outs.push([a[0] * b[1], a[1] * b[0]]);
      for (const o of outs) if (solvableExact([...rest, norm(o)])) return true;
    }
  }
  return false;
}

describe('Points24', () => {
  // ranks ~ U{1..13}: value v in 1..9 has weight 1, value 10 weight 4; enumerate multisets of values
  const multisets: { values: number[]; weight: number }[] = [];
  for (let a = 1; a <= 10; a++) for (let b = a; b <= 10; b++) for (let c = b; c <= 10; c++) for (let d = c; d <= 10; d++) {
    const vs = [a, b, c, d];
    const w = (v: number) => (v === 10 ? 4 : 1);
    const counts = new Map<number, number>();
    for (const v of vs) counts.set(v, (counts.get(v) ?? 0) + 1);
    let perms = 24;
    for (const k of counts.values()) perms /= [1, 1, 2, 6, 24][k];
    multisets.push({ values: vs, weight: (perms * vs.reduce((s, v) => s * w(v), 1)) / 13 ** 4 });
  }
  it('the enumeration covers every hand once (weights sum to 1)', () => {
    expect(multisets.length).toBe(715);
    expect(Math.abs(multisets.reduce((s, m) => s + m.weight, 0) - 1)).toBeLessThan(1e-12);
  });
  it('73.1% of hands are solvable with exact rationals, 73.07% with float equality (all hands, exact)', () => {
    let exact = 0, float = 0;
    for (const m of multisets) {
      if (solvableExact(m.values.map((v) => [v, 1] as Q))) exact += m.weight;
      if (forEachExpression(m.values, ['+', '-', '*', '/'], (_, v) => v === 24)) float += m.weight;
    }
    expect(Math.abs(exact - 0.731)).toBeLessThan(0.0005);
    expect(Math.abs(float - 0.7307)).toBeLessThan(0.00005);
    expect(float).toBeLessThan(exact);
  });
  it('the expert wins on the solvable fraction of dealt hands (1,500 episodes)', () => {
    const rate = successRate('points24', 'expert', 1500, 8);
    expect(Math.abs(rate - 0.7307)).toBeLessThan(fourSigma(0.7307, 1500));
  });
});

describe('EZPoints', () => {
  it('the expert always succeeds; random almost never does', () => {
    expect(successRate('ezpoints', 'expert', 500, 2)).toBe(1);
    expect(successRate('ezpoints', 'random', 2000, 2)).toBeLessThan(0.01);
  });
});
