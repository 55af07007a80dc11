/**
 * Every shipped sample imports into a fresh store with the counts, rewards, flags and image bytes that
 * tools/make_samples.ts (and the Python writers, for Minari and LeRobot) recorded when they generated it
 * (test/ingest/fixtures/samples.json): those expectations come from the generated episodes, not from
 * the importers.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { ingest } from '../../src/ingest/ingest.ts';
import { decodePng, imageDefect } from '../../src/ingest/images.ts';
import { TASKS } from '../../src/envs/registry.ts';
import { SAMPLES, tableRows, tempDir } from './helpers.ts';

interface Expected { rows: number; episodes: number; reward_sum: number; terminated: number; truncated: number; first_image_sha256: string; image: 'bytes' | 'rgb' }
const EXPECTED = JSON.parse(fs.readFileSync(path.join('test', 'ingest', 'fixtures', 'samples.json'), 'utf8')) as Record<string, Expected>;

const CASES: [string, string, string | undefined][] = [
  ['jsonl', 'jsonl', undefined],
  ['parquet', 'parquet', undefined],
  ['arrow', 'arrow', undefined],
  ['rl4vlm', 'rl4vlm', undefined],
  ['minari-hdf5', 'minari', undefined],
  ['minari-parquet', 'minari', undefined],
  ['minari-arrow', 'minari', undefined],
  ['lerobot', 'lerobot', 'gym_cards/NumberLine-v0'],
];

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** RGB bytes of a PNG (alpha dropped): how raw pixels stored by the source are compared. */
function rgbOf(png: Uint8Array): Uint8Array {
  const { rgba } = decodePng(png);
  const out = new Uint8Array((rgba.length / 4) * 3);
  for (let i = 0, j = 0; i < rgba.length; i += 4) { out[j++] = rgba[i]; out[j++] = rgba[i + 1]; out[j++] = rgba[i + 2]; }
  return out;
}

const COLUMNS = ['episode_id', 'step', 'task', 'source', 'policy_version', 'obs_image', 'obs_text', 'output_text', 'action_text', 'action_valid', 'reward', 'terminated', 'truncated', 'info'];

describe('each sample imports whole into a fresh store', () => {
  for (const [dir, format, task] of CASES) {
    test(dir, async () => {
      const e = EXPECTED[dir];
      const root = tempDir();
      const r = await ingest([path.join(SAMPLES, dir)], { dataset: 'd', root, task, quiet: true });
      expect([...new Set(r.inputs.map((i) => i.format))]).toEqual([format]);
      expect(r.version).toBe(1);
      expect(r.rows).toBe(e.rows);
      expect(r.episodes).toBe(e.episodes);
      const rows = await tableRows(root, 'd', COLUMNS);
      expect(rows.length).toBe(e.rows);
      expect(new Set(rows.map((x) => x.episode_id)).size).toBe(e.episodes);
      expect(rows.reduce((s, x) => s + (x.reward as number), 0)).toBeCloseTo(e.reward_sum, 4);
      expect(rows.filter((x) => x.terminated).length).toBe(e.terminated);
      expect(rows.filter((x) => x.truncated).length).toBe(e.truncated);
      expect(rows.some((x) => x.terminated && x.truncated)).toBe(false);
      // Every episode ends once: its last step is terminated or truncated, no earlier step is.
      const byEp = new Map<string, Record<string, unknown>[]>();
      for (const x of rows) byEp.set(x.episode_id as string, [...(byEp.get(x.episode_id as string) ?? []), x]);
      for (const steps of byEp.values()) {
        steps.sort((a, b) => (a.step as number) - (b.step as number));
        expect(steps.map((s) => s.step)).toEqual(steps.map((_, i) => i));
        expect(steps.slice(0, -1).some((s) => s.terminated || s.truncated)).toBe(false);
        const last = steps[steps.length - 1];
        expect(Boolean(last.terminated) || Boolean(last.truncated)).toBe(true);
      }
      const images = rows.map((x) => x.obs_image as Uint8Array);
      for (const img of images) expect(imageDefect(img)).toBeNull();
      const hashes = new Set(images.map((img) => sha(e.image === 'rgb' ? rgbOf(img) : img)));
      expect(hashes.has(e.first_image_sha256)).toBe(true);
      for (const x of rows) {
        expect(x.policy_version).toBe(-1);
        expect(() => JSON.parse(x.info as string)).not.toThrow();
      }
      const def = TASKS.find((d) => d.id === rows[0].task);
      if (def) for (const x of rows.filter((y) => y.task === def.id)) expect(def.actions).toContain(x.action_text);
    });
  }
});

describe('format semantics', () => {
  test('Minari: step t uses observation t; observation T goes to the last step info (image and text)', async () => {
    const root = tempDir();
    await ingest([path.join(SAMPLES, 'minari-hdf5')], { dataset: 'd', root, quiet: true });
    const rows = await tableRows(root, 'd', ['episode_id', 'step', 'obs_text', 'obs_image', 'info', 'terminated', 'truncated', 'action_text']);
    const ep = rows.filter((x) => x.episode_id === 'gym_cards/numberline-mixed-v0/episode_0').sort((a, b) => (a.step as number) - (b.step as number));
    expect(ep.length).toBeGreaterThan(0);
    for (const x of ep) expect(x.obs_text as string).toMatch(/Target|target|current/i);
    const lastInfo = JSON.parse(ep[ep.length - 1].info as string);
    expect(lastInfo.final_observation.image).toMatch(/^data:image\/png;base64,/);
    expect(typeof lastInfo.final_observation.text).toBe('string');
    expect(lastInfo.final_observation.info).toEqual({ t: ep.length });
    expect(JSON.parse(ep[0].info as string).info).toEqual({ t: 0 });
    // The final image is the 32x32 raw observation T encoded as PNG, like every step's image.
    const png = new Uint8Array(Buffer.from(lastInfo.final_observation.image.split(',')[1], 'base64'));
    expect(decodePng(png).width).toBe(32);
    for (const x of ep) expect(['-', '+']).toContain(x.action_text);
  });

  test('LeRobot: next.reward / next.done belong to the frame; next.truncated keeps time limits apart', async () => {
    const root = tempDir();
    await ingest([path.join(SAMPLES, 'lerobot')], { dataset: 'd', root, task: 'gym_cards/NumberLine-v0', quiet: true });
    const rows = await tableRows(root, 'd', ['episode_id', 'step', 'reward', 'terminated', 'truncated', 'obs_text', 'info']);
    // NumberLine: +1 only on the step that reaches the goal, which terminates the episode.
    for (const x of rows) if (x.reward === 1) expect(x.terminated).toBe(true);
    for (const x of rows) if (x.truncated) expect(x.reward).not.toBe(1);
    expect(rows[0].obs_text).toMatch(/Move the current number/);
    expect(JSON.parse(rows[0].info as string).lerobot).toHaveProperty('timestamp');
  });

  test('RL4VLM: the utterance is parsed with the envs parser; thoughts kept in info', async () => {
    const root = tempDir();
    await ingest([path.join(SAMPLES, 'rl4vlm')], { dataset: 'd', root, quiet: true });
    const rows = await tableRows(root, 'd', ['episode_id', 'step', 'task', 'output_text', 'action_text', 'action_valid', 'info']);
    for (const x of rows) {
      expect(JSON.parse(x.output_text as string).action).toBe(x.action_text);
      expect(x.action_valid).toBe(true);
      expect(typeof JSON.parse(x.info as string).rl4vlm.thoughts).toBe('string');
    }
    expect(new Set(rows.map((x) => x.task))).toEqual(new Set(['gym_cards/NumberLine-v0', 'gym_cards/EZPoints-v0']));
    expect(rows.filter((x) => x.episode_id === 'log.jsonl#0').map((x) => x.step)).toEqual(
      rows.filter((x) => x.episode_id === 'log.jsonl#0').map((_, i) => i));
  });
});
