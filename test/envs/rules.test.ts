/** Every rule of ../shared/spec/gym-cards.md against hand-worked cases, on the real game classes. */
import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/util/rng.ts';
import { NumberLine } from '../../src/envs/tasks/numberline.ts';
import { EZPoints, dealEz } from '../../src/envs/tasks/ezpoints.ts';
import { Points24 } from '../../src/envs/tasks/points24.ts';
import { Blackjack, handTotal, drawCard } from '../../src/envs/tasks/blackjack.ts';
import { GymCardsEnv } from '../../src/envs/env.ts';
import type { Card } from '../../src/envs/render/cards.ts';

const rng = new Rng(1);
const card = (rank: number, suit: Card['suit'] = 'S'): Card => ({ rank, suit });

function line(position: number, goal: number): NumberLine {
  const g = new NumberLine();
  Object.assign(g, { position, goal, steps: 0 });
  return g;
}

describe('NumberLine', () => {
  it('moves, rewards 0 when closer, +1 and terminates at the goal', () => {
    const g = line(1, 3);
    expect(g.step(1)).toEqual({ reward: 0, terminated: false, truncated: false });
    expect(g.position).toBe(2);
    expect(g.step(1)).toEqual({ reward: 1, terminated: true, truncated: false });
  });
  it('the wrong direction gives -1', () => {
    const g = line(2, 4);
    expect(g.step(0)).toEqual({ reward: -1, terminated: false, truncated: false });
    expect(g.position).toBe(1);
  });
  it('walls: "-" at 0 and "+" at 5 leave the position and give -1', () => {
    const lo = line(0, 3);
    expect(lo.step(0).reward).toBe(-1);
    expect(lo.position).toBe(0);
    const hi = line(5, 1);
    expect(hi.step(1).reward).toBe(-1);
    expect(hi.position).toBe(5);
  });
  it('truncates after 10 steps without reaching the goal, not before', () => {
    const g = line(0, 5);
    for (let i = 0; i < 9; i++) expect(g.step(0)).toEqual({ reward: -1, terminated: false, truncated: false });
    expect(g.step(0)).toEqual({ reward: -1, terminated: false, truncated: true });
  });
  it('reaching the goal on step 10 terminates without truncation', () => {
    const g = line(0, 1);
    for (let i = 0; i < 9; i++) g.step(0);
    expect(g.step(1)).toEqual({ reward: 1, terminated: true, truncated: false });
  });
  it('reset: start = goal bumps the goal by +1 mod 5 (4 -> 0, 5 -> 1)', () => {
    // find seeds whose raw draws coincide, by replaying the draws of reset
    const seen = new Map<number, number>();
    for (let s = 0; s < 4000 && seen.size < 6; s++) {
      const probe = new Rng(s);
      const a = probe.int(6), b = probe.int(6);
      if (a === b && !seen.has(a)) {
        seen.set(a, s);
        const g = new NumberLine();
        g.reset(new Rng(s));
        expect(g.position).toBe(a);
        expect(g.goal).toBe((a + 1) % 5);
      }
    }
    expect(seen.size).toBe(6);
  });
});

function ez(ranks: number[]): EZPoints {
  const g = new EZPoints();
  g.cards = ranks.map((r) => card(r));
  g.used = ranks.map(() => false);
  g.formula = [];
  return g;
}
const EZ = (a: string) => ['1', '2', '3', '4', '5', '6', '7', '8', '9', '10', '+', '*', '='].indexOf(a);

describe('EZPoints', () => {
  it('a number, an operator, a number, "=" making 12 gives +10 and terminates', () => {
    const g = ez([5, 7]);
    expect(g.step(EZ('5')).reward).toBe(0);
    expect(g.step(EZ('+')).reward).toBe(0);
    expect(g.step(EZ('7')).reward).toBe(0);
    expect(g.formula).toEqual(['5', '+', '7']);
    expect(g.step(EZ('='))).toMatchObject({ reward: 10, terminated: true, truncated: false });
    expect(g.formula).toEqual(['5', '+', '7']); // "=" is never appended
  });
  it('face cards count 10: K * ... and 10 + 2', () => {
    const g = ez([13, 2]);
    g.step(EZ('10')); g.step(EZ('+')); g.step(EZ('2'));
    expect(g.step(EZ('=')).reward).toBe(10);
  });
  it('an unavailable number appends a blank placeholder and gives -1, not done', () => {
    const g = ez([3, 4]);
    expect(g.step(EZ('5'))).toMatchObject({ reward: -1, terminated: false, truncated: false });
    expect(g.formula).toEqual([' ']);
    g.step(EZ('3'));
    expect(g.step(EZ('3'))).toMatchObject({ reward: -1 }); // used as often as it appears
    expect(g.formula).toEqual([' ', '3', ' ']);
  });
  it('a number held twice can be used twice', () => {
    const g = ez([6, 6]);
    g.step(EZ('6')); g.step(EZ('+'));
    expect(g.step(EZ('6')).reward).toBe(0);
    expect(g.step(EZ('=')).reward).toBe(10);
  });
  it('"=" with the wrong number of cards gives -1 even when the value is 12', () => {
    const g = ez([2, 10]);
    g.step(EZ('10')); g.step(EZ('+')); g.step(EZ('+')); g.step(EZ('2'));
    expect(g.step(EZ('=')).reward).toBe(10); // "10++2" = 12 in Python (unary +), both cards used
    const h = ez([2, 10]);
    h.step(EZ('2')); h.step(EZ('*')); h.step(EZ('6')); // 6 unavailable -> placeholder
    expect(h.step(EZ('=')).reward).toBe(-1);
    const k = ez([6, 6]);
    k.step(EZ('6')); k.step(EZ('*')); k.step(EZ('2'));
    expect(k.step(EZ('=')).reward).toBe(-1);
  });
  it('a wrong value or a syntax error at "=" gives -1 and terminates', () => {
    const g = ez([5, 7]);
    g.step(EZ('5')); g.step(EZ('*')); g.step(EZ('7'));
    expect(g.step(EZ('='))).toMatchObject({ reward: -1, terminated: true });
    const h = ez([5, 7]);
    h.step(EZ('5')); h.step(EZ('7')); h.step(EZ('+'));
    expect(h.step(EZ('='))).toMatchObject({ reward: -1, terminated: true, info: { error: expect.stringMatching(/syntax/) } });
  });
  it('adjacent numbers concatenate: "2","10" is 210', () => {
    const g = ez([2, 10]);
    g.step(EZ('2')); g.step(EZ('10'));
    expect(g.step(EZ('='))).toMatchObject({ reward: -1, info: { value: 210 } });
  });
  it('more than 5 entries: the 7th step truncates with -1 whatever the action', () => {
    const g = ez([5, 7]);
    for (let i = 0; i < 6; i++) expect(g.step(EZ('+'))).toMatchObject({ reward: 0, truncated: false });
    expect(g.formula.length).toBe(6);
    expect(g.step(EZ('='))).toEqual({ reward: -1, terminated: false, truncated: true, info: { reason: 'formula too long' } });
  });
  it('deals only solvable pairs (sum or product 12), never an ace', () => {
    const r = new Rng(7);
    for (let i = 0; i < 2000; i++) {
      const [a, b] = dealEz(r).map((c) => Math.min(c.rank, 10));
      expect(a + b === 12 || a * b === 12).toBe(true);
      expect(Math.min(a, b)).toBeGreaterThanOrEqual(2);
    }
  });
});

function p24(ranks: number[]): Points24 {
  const g = new Points24();
  g.cards = ranks.map((r) => card(r));
  g.used = ranks.map(() => false);
  g.formula = [];
  return g;
}
const P = (a: string) => ['1', '2', '3', '4', '5', '6', '7', '8', '9', '10', '+', '-', '*', '/', '(', ')', '='].indexOf(a);
const play = (g: Points24, s: string[]) => s.map((a) => g.step(P(a)));

describe('Points24', () => {
  it('parentheses and all four cards: (1+2+3)*4 = 24 wins +10', () => {
    const g = p24([1, 2, 3, 4]);
    play(g, ['(', '1', '+', '2', '+', '3', ')', '*', '4']);
    expect(g.step(P('='))).toMatchObject({ reward: 10, terminated: true });
  });
  it('aces count 1 and faces 10: A, K, Q, 4 -> (10+10+4)*1', () => {
    const g = p24([1, 13, 12, 4]);
    play(g, ['(', '10', '+', '10', '+', '4', ')', '*', '1']);
    expect(g.step(P('=')).reward).toBe(10);
  });
  it('true division: 8/(3-8/3) is 23.999999999999996 in floating point, so it loses', () => {
    const g = p24([8, 3, 8, 3]);
    play(g, ['8', '/', '(', '3', '-', '8', '/', '3', ')']);
    const r = g.step(P('='));
    expect(r.reward).toBe(-1);
    expect((r.info as { value: number }).value).not.toBe(24);
    expect(Math.abs((r.info as { value: number }).value - 24)).toBeLessThan(1e-12);
  });
  it('exact float 24 from a division wins: 6/(1-3/4)', () => {
    const g = p24([6, 1, 3, 4]);
    play(g, ['6', '/', '(', '1', '-', '3', '/', '4', ')']);
    expect(g.step(P('=')).reward).toBe(10);
  });
  it('24 with three cards gives -1', () => {
    const g = p24([8, 3, 1, 5]);
    play(g, ['8', '*', '3']);
    expect(g.step(P('=')).reward).toBe(-1);
  });
  it('division by zero at "=" is an error: -1', () => {
    const g = p24([4, 4, 5, 6]);
    play(g, ['5', '/', '(', '4', '-', '4', ')', '+', '6']);
    expect(g.step(P('='))).toMatchObject({ reward: -1, info: { error: 'division by zero' } });
  });
  it('more than 20 entries truncates on step 22', () => {
    const g = p24([1, 2, 3, 4]);
    for (let i = 0; i < 21; i++) expect(g.step(P('(')).truncated).toBe(false);
    expect(g.step(P('('))).toMatchObject({ reward: -1, truncated: true });
  });
});

function bj(dealer: number[], player: number[]): Blackjack {
  const g = new Blackjack();
  g.dealer = dealer.map((r) => card(r));
  g.player = player.map((r) => card(r));
  return g;
}

/** A generator whose cards are fixed: replays `ranks` as drawCard would see them. */
function deckOf(ranks: number[]): Rng {
  const values = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 10, 10, 10];
  let i = 0;
  let phase = 0;
  const fake = Object.create(Rng.prototype) as Rng;
  fake.int = (n: number) => {
    // drawCard calls int(13) for the value, intIn(11, 13) for a face, then choice(SUITS)
    if (n === 13) { phase = 1; return values.indexOf(Math.min(ranks[i], 10)) + (ranks[i] > 10 ? ranks[i] - 10 : 0); }
    if (n === 3 && phase === 1 && ranks[i] > 10) { phase = 2; return ranks[i] - 11; }
    i++; phase = 0; return 0; // suit
  };
  fake.intIn = (lo: number, hi: number) => lo + fake.int(hi - lo + 1);
  fake.choice = <T,>(items: readonly T[]) => items[fake.int(items.length)];
  return fake;
}

describe('Blackjack', () => {
  it('hand totals: usable ace counts 11 while the total stays <= 21', () => {
    expect(handTotal([card(1), card(6)])).toBe(17);
    expect(handTotal([card(1), card(6), card(9)])).toBe(16);
    expect(handTotal([card(1), card(1)])).toBe(12);
    expect(handTotal([card(13), card(12)])).toBe(20);
    expect(handTotal([card(1), card(13)])).toBe(21);
  });
  it('the test deck replays the intended cards', () => {
    const d = deckOf([5, 12, 1]);
    expect([drawCard(d), drawCard(d), drawCard(d)].map((c) => c.rank)).toEqual([5, 12, 1]);
  });
  it('hit without bust: 0, not done; bust: -1, terminated', () => {
    const g = bj([10, 7], [10, 2]);
    expect(g.step(1, deckOf([5]))).toEqual({ reward: 0, terminated: false, truncated: false });
    expect(g.step(1, deckOf([13]))).toEqual({ reward: -1, terminated: true, truncated: false });
  });
  it('soft hand does not bust: A+6 hit 9 = 16', () => {
    const g = bj([10, 7], [1, 6]);
    expect(g.step(1, deckOf([9])).reward).toBe(0);
    expect(handTotal(g.player)).toBe(16);
  });
  it('the dealer stands on soft 17 (A+6) and draws on 16', () => {
    const g = bj([1, 6], [10, 8]);
    expect(g.step(0, deckOf([]))).toMatchObject({ reward: 1, terminated: true, info: { dealerTotal: 17, playerTotal: 18 } });
    const h = bj([10, 6], [10, 8]);
    expect(h.step(0, deckOf([5]))).toMatchObject({ reward: -1, info: { dealerTotal: 21 } });
  });
  it('dealer bust scores 0: player 12 wins; equal totals draw 0', () => {
    expect(bj([10, 6], [10, 2]).step(0, deckOf([13])).reward).toBe(1);
    expect(bj([10, 8], [9, 9]).step(0, deckOf([])).reward).toBe(0);
  });
  it('no natural bonus: A+K against 20 wins +1 only', () => {
    expect(bj([10, 10], [1, 13]).step(0, deckOf([])).reward).toBe(1);
  });
  it('shows tens as J, Q or K, never a 10', () => {
    const r = new Rng(3);
    const ranks = new Set(Array.from({ length: 3000 }, () => drawCard(r).rank));
    expect([...ranks].sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 12, 13]);
  });
});

describe('GymCardsEnv', () => {
  it('same seed -> same episode; reset(seed) re-seeds', async () => {
    const a = new GymCardsEnv('points24', { seed: 5, render: false });
    const b = new GymCardsEnv('gym_cards/Points24-v0', { seed: 5, render: false });
    expect((await a.reset()).text).toBe((await b.reset()).text);
    expect((a.game as Points24).cards).toEqual((b.game as Points24).cards);
    await a.reset(99);
    const first = structuredClone((a.game as Points24).cards);
    await a.reset(99);
    expect((a.game as Points24).cards).toEqual(first);
  });
  it('step before reset and after the end is an error naming what to do', async () => {
    const e = new GymCardsEnv('numberline', { seed: 1, render: false });
    await expect(e.step(0)).rejects.toThrow(/call reset\(\) first/);
    await e.reset();
    for (let i = 0; i < 10; i++) { const r = await e.step(1); if (r.terminated || r.truncated) break; }
    await expect(e.step(0)).rejects.toThrow(/no episode running/);
  });
  it('an unparseable output plays a random action flagged invalid, minus the format penalty', async () => {
    const e = new GymCardsEnv('numberline', { seed: 2, render: false, formatPenalty: 0.5 });
    const o = await e.reset();
    expect(o.legalActions).toEqual(['-', '+']);
    const r = await e.step('I do not know');
    expect(r.actionValid).toBe(false);
    const clean = new GymCardsEnv('numberline', { seed: 2, render: false });
    await clean.reset();
    const c = await clean.step(r.actionId);
    expect(r.reward).toBe(c.reward - 0.5);
  });
  it('bad action ids and unknown tasks are errors', async () => {
    const e = new GymCardsEnv('blackjack', { seed: 1, render: false });
    await e.reset();
    await expect(e.step(2)).rejects.toThrow(/integer in \[0, 1\], got 2/);
    expect(() => new GymCardsEnv('chess', { seed: 1 })).toThrow(/unknown task "chess": expected one of numberline/);
  });
  it('the prompt states the current formula', async () => {
    const e = new GymCardsEnv('ezpoints', { seed: 3, render: false });
    await e.reset();
    const r = await e.step('{"action": "+"}');
    expect(r.obs.fields).toEqual({ formula: '+' });
    expect(r.obs.text).toContain("current formula: '+'");
    expect(r.obs.text).toMatch(/"thoughts"[\s\S]*"action"/);
  });
});
