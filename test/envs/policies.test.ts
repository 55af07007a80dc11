/** Scripted policies and the vectorised wrapper on real envs. */
import { describe, expect, it } from 'vitest';
import { GymCardsEnv } from '../../src/envs/env.ts';
import { actionStart, parseAction } from '../../src/envs/parser.ts';
import { makePolicy } from '../../src/envs/policies/scripted.ts';
import { TASKS } from '../../src/envs/registry.ts';
import { VecEnv } from '../../src/envs/vec.ts';
import { Rng } from '../../src/util/rng.ts';

describe('scripted policies', () => {
  it.each(TASKS.map((t) => t.name))('%s: utterances are JSON with the read-outs, thoughts and one clean action', async (task) => {
    const env = new GymCardsEnv(task, { seed: 1, render: false });
    for (const kind of ['expert', 'noisy', 'random'] as const) {
      const pol = makePolicy(kind, new Rng(2), { pRead: 0.5, pAct: 0.5 });
      env.resetSync();
      for (let t = 0; t < 30; t++) {
        const text = pol.act(env);
        const json = JSON.parse(text) as Record<string, string>;
        expect(Object.keys(json)).toEqual([...env.def.readoutKeys, 'thoughts', 'action']);
        expect(text.slice(actionStart(text))).toBe(`"action": ${JSON.stringify(json.action)}}`);
        expect(parseAction(text, env.def.actions, env.def.points, new Rng(0))).toMatchObject({ text: json.action, valid: true });
        const r = env.stepSync(text);
        if (r.terminated || r.truncated) break;
      }
    }
  });

  it('noisy with p = 0 is the expert; with pAct = 1 it never plays the expert action', () => {
    for (const task of ['numberline', 'blackjack', 'points24']) {
      const a = new GymCardsEnv(task, { seed: 4, render: false });
      a.resetSync();
      const expert = makePolicy('expert', new Rng(1));
      const quiet = makePolicy('noisy', new Rng(1), { pRead: 0, pAct: 0 });
      const wrong = makePolicy('noisy', new Rng(1), { pRead: 0, pAct: 1 });
      const e = expert.act(a);
      expect(quiet.act(a)).toBe(e);
      for (let i = 0; i < 20; i++) expect(JSON.parse(wrong.act(a)).action).not.toBe(JSON.parse(e).action);
    }
  });

  it('a wrong reading changes a read-out and the action follows the wrong reading', () => {
    const env = new GymCardsEnv('numberline', { seed: 9, render: false });
    env.resetSync();
    const truth = env.game.readout();
    const pol = makePolicy('noisy', new Rng(3), { pRead: 1, pAct: 0 });
    for (let i = 0; i < 20; i++) {
      const u = JSON.parse(pol.act(env));
      const cur = Number(u['current number']), tgt = Number(u['target number']);
      expect(cur !== Number(truth['current number']) || tgt !== Number(truth['target number'])).toBe(true);
      expect(u.action).toBe(cur < tgt ? '+' : '-');
    }
  });
});

describe('VecEnv', () => {
  it('auto-resets a finished env: obs is the new episode, finalObs the last one, stats sum the rewards', async () => {
    const vec = new VecEnv([new GymCardsEnv('blackjack', { seed: 1, render: false }), new GymCardsEnv('numberline', { seed: 2, render: false })]);
    const first = await vec.reset([5, 6]);
    expect(first[0].legalActions).toEqual(['stand', 'hit']);
    const twin = new GymCardsEnv('blackjack', { seed: 5, render: false });
    twin.resetSync();
    const sums = [0, 0];
    const lengths = [0, 0];
    for (let t = 0; t < 40; t++) {
      const rs = await vec.step([0, t % 3 === 0 ? 0 : 1]);
      rs.forEach((r, i) => {
        sums[i] += r.reward;
        lengths[i]++;
        if (r.terminated || r.truncated) {
          expect(r.episode).toEqual({ env: i, return: sums[i], length: lengths[i], success: sums[i] > 0 });
          expect(r.finalObs).toBeDefined();
          sums[i] = 0;
          lengths[i] = 0;
        } else {
          expect(r.episode).toBeUndefined();
        }
      });
      if (t === 0) {
        // standing ends blackjack at once; the wrapper's env continues exactly as a twin env reset by hand
        const tr = twin.stepSync(0);
        expect(rs[0].reward).toBe(tr.reward);
        twin.resetSync();
        expect((vec.envs[0] as GymCardsEnv).game.readout()).toEqual(twin.game.readout());
      }
    }
    expect(vec.episodes.filter((e) => e.env === 0).length).toBe(40);
    expect(vec.episodes.every((e) => e.length >= 1)).toBe(true);
    await expect(vec.step([0])).rejects.toThrow(/expected 2 actions, got 1/);
  });
});
