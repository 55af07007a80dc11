/** Observations: 300×300 RGB PNGs, lossless, deterministic per seed, with the spec's backgrounds and layout. */
import { describe, expect, it } from 'vitest';
import { PNG } from 'pngjs';
import { GymCardsEnv } from '../../src/envs/env.ts';
import { TASKS } from '../../src/envs/registry.ts';
import type { Blackjack } from '../../src/envs/tasks/blackjack.ts';
import type { EZPoints } from '../../src/envs/tasks/ezpoints.ts';

const decode = (png: Uint8Array) => PNG.sync.read(Buffer.from(png));
const rgbAt = (img: PNG, x: number, y: number) => [...img.data.subarray((y * img.width + x) * 4, (y * img.width + x) * 4 + 3)];
const TABLE = [0x35, 0x65, 0x4d];

describe('render', () => {
  it.each(TASKS.map((t) => t.name))('%s: 300×300 RGB PNG, decoded pixels equal the canvas exactly', async (task) => {
    const env = new GymCardsEnv(task, { seed: 4 });
    const obs = await env.reset();
    const img = decode(obs.image!);
    expect([img.width, img.height]).toEqual([300, 300]);
    const canvas = env.game.render();
    for (let i = 0; i < 300 * 300; i++) {
      for (let c = 0; c < 3; c++) if (img.data[i * 4 + c] !== canvas.data[i * 3 + c]) throw new Error(`pixel ${i} channel ${c} differs`);
    }
    expect(rgbAt(img, 0, 0)).toEqual(task === 'numberline' ? [255, 255, 255] : TABLE);
    expect(rgbAt(img, 299, 299)).toEqual(task === 'numberline' ? [255, 255, 255] : TABLE);
  });

  it.each(TASKS.map((t) => t.name))('%s: the same seed gives the same bytes through an episode; another seed differs', async (task) => {
    const run = async (seed: number) => {
      const env = new GymCardsEnv(task, { seed });
      const out = [Buffer.from((await env.reset()).image!).toString('base64')];
      for (let i = 0; i < 4; i++) {
        const r = await env.step(i % env.def.actions.length);
        out.push(Buffer.from(r.obs.image!).toString('base64'));
        if (r.terminated || r.truncated) break;
      }
      return out;
    };
    const ref = await run(7);
    expect(await run(7)).toEqual(ref);
    const others = await Promise.all([8, 9, 10].map(run));
    expect(others.some((o) => o[0] !== ref[0])).toBe(true);
  });

  it('NumberLine: black text in the target and current rows only', async () => {
    const env = new GymCardsEnv('numberline', { seed: 1 });
    const img = decode((await env.reset()).image!);
    const inkRows = new Set<number>();
    for (let y = 0; y < 300; y++) for (let x = 0; x < 300; x++) if (rgbAt(img, x, y)[0] === 0) inkRows.add(y);
    const rows = [...inkRows];
    expect(Math.min(...rows)).toBeGreaterThanOrEqual(60);
    expect(rows.every((y) => (y >= 60 && y < 110) || (y >= 180 && y < 230))).toBe(true);
    expect(rows.some((y) => y < 110) && rows.some((y) => y >= 180)).toBe(true);
  });

  it('EZPoints: cards at x = 5 and 153, y = 55, 135×189; the formula in white below', async () => {
    const env = new GymCardsEnv('ezpoints', { seed: 2 });
    await env.reset();
    const g = env.game as EZPoints;
    const img = decode(env.game.render() && (await env.step(10)).obs.image!);
    for (const x0 of [5, 153]) {
      expect(rgbAt(img, x0 - 1, 100)).toEqual(TABLE);
      expect(rgbAt(img, x0 + 134 + 1, 100)).toEqual(TABLE);
      expect(rgbAt(img, x0 + 10, 55 + 150)).toEqual([255, 255, 255]); // card paper
      expect(rgbAt(img, x0 + 60, 55 - 1)).toEqual(TABLE);
      expect(rgbAt(img, x0 + 60, 55 + 189)).toEqual(TABLE);
    }
    let white = 0;
    for (let y = 255; y < 285; y++) for (let x = 0; x < 300; x++) if (rgbAt(img, x, y).every((v) => v === 255)) white++;
    expect(white).toBeGreaterThan(50);
    expect(g.formula).toEqual(['+']);
  });

  it('cards of different ranks look different; the same rank in another suit keeps its shape', async () => {
    const env = new GymCardsEnv('blackjack', { seed: 3 });
    await env.reset();
    const g = env.game as Blackjack;
    const shot = (rank: number, suit: 'S' | 'C' | 'H') => {
      g.player = [{ rank, suit }, { rank: 2, suit: 'S' }];
      const c = env.game.render();
      return [...c.data.subarray(150 * 900, 248 * 900)].map((v, i) => (i % 900 < 75 * 3 ? v : 0)).join(',');
    };
    const ranks = [1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 12, 13].map((r) => shot(r, 'S'));
    expect(new Set(ranks).size).toBe(12);
    expect(shot(7, 'S')).not.toBe(shot(7, 'C'));
  });

  it('Blackjack: the dealer shows one face and a card back, even after stand', async () => {
    const env = new GymCardsEnv('blackjack', { seed: 6 });
    await env.reset();
    const r = await env.step(0);
    expect(r.terminated).toBe(true);
    const img = decode(r.obs.image!);
    const backBlue = [0x1f, 0x4e, 0x9c];
    let blue = 0;
    for (let y = 25; y < 123; y++) for (let x = 78; x < 148; x++) if (rgbAt(img, x, y).join() === backBlue.join()) blue++;
    expect(blue).toBeGreaterThan(3000);
    expect(rgbAt(img, 150, 60)).toEqual(TABLE); // no third dealer card
  });
});
