/** `o2o generate`: scripted episodes written into a real store on disk, with images; resumable. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import { command } from '../../src/cli/generate.ts';
import { UsageError } from '../../src/cli/command.ts';
import { generateToTable, playEpisode, type GenerateOptions } from '../../src/envs/generate.ts';
import { openTable } from '../../src/store/index.ts';

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'o2o-'));

describe('generate', () => {
  it('writes whole episodes with PNG images, demo/failure sources and policy_version -1; a re-run resumes', async () => {
    const root = tmp();
    const table = await openTable(root, 'bj', { create: true });
    const o: GenerateOptions = { task: 'blackjack', policy: 'noisy', episodes: 24, seed: 3, noise: 0.3, batch: 10, quiet: true };
    const first = await generateToTable(table, o);
    expect(first).toMatchObject({ run: 'gen-blackjack-noisy-n0.3-s3', episodes: 24, skipped: 0, commits: 3 });

    const eps = await (await table.snapshot()).episodes();
    expect(eps.length).toBe(24);
    for (const ep of eps) {
      const rows = ep.steps.toArray();
      expect(ep.task).toBe('gym_cards/Blackjack-v0');
      expect(rows.map((r) => r.step)).toEqual(rows.map((_, i) => i));
      expect(new Set(rows.map((r) => r.source))).toEqual(new Set([ep.return > 0 ? 'demo' : 'failure']));
      expect(rows.every((r) => r.policy_version === -1)).toBe(true);
      const last = rows.at(-1)!;
      expect(last.terminated).toBe(true); // Blackjack always terminates
      const img = PNG.sync.read(Buffer.from(rows[0].obs_image as Uint8Array));
      expect([img.width, img.height]).toEqual([300, 300]);
      const info = JSON.parse(rows[0].info as string);
      expect(rows[0].output_text.slice(info.action_char_start)).toMatch(/^"action": "(hit|stand)"}$/);
      expect(rows[0].obs_text).toMatch(/blackjack player/);
    }
    expect(eps.some((e) => e.return > 0) && eps.some((e) => e.return <= 0)).toBe(true);

    // episode k is a pure function of the options and k
    const k5 = eps.find((e) => e.episode_id === 'gen-blackjack-noisy-n0.3-s3/5')!.steps.toArray();
    expect(k5.map((r) => r.output_text)).toEqual(playEpisode(o, 5).map((r) => r.output_text));

    const again = await generateToTable(table, { ...o, episodes: 30 });
    expect(again).toMatchObject({ skipped: 24, episodes: 6, commits: 1 });
    expect((await (await table.snapshot()).episodes({ columns: ['episode_id'] })).length).toBe(30);
    expect((await table.history()).length).toBe(1 + 3 + 1);
  });

  it('an explicit source tags every episode; the command checks its options', async () => {
    const root = tmp();
    const code = await command.run({ values: { task: 'numberline', policy: 'random', episodes: '6', dataset: 'nl', root, seed: '1', noise: '0.1', batch: '500', source: 'eval', quiet: true }, positionals: [] });
    expect(code).toBe(0);
    const snap = await (await openTable(root, 'nl')).snapshot();
    const t = await snap.read({ columns: ['source', 'task'] });
    expect(new Set(t.getChild('source')!.toArray())).toEqual(new Set(['eval']));
    const bad = (v: Record<string, string>) => command.run({ values: { task: 'numberline', policy: 'expert', episodes: '5', dataset: 'x', root, seed: '0', noise: '0.1', batch: '500', ...v }, positionals: [] });
    await expect(bad({ policy: 'genius' })).rejects.toThrow(/--policy: expected one of expert, noisy, random, got "genius"/);
    await expect(bad({ task: 'chess' })).rejects.toThrow(/--task: unknown task "chess"/);
    await expect(bad({ noise: '2' })).rejects.toThrow(UsageError);
    await expect(bad({ episodes: '0' })).rejects.toThrow(/--episodes and --batch: expected integers >= 1/);
    expect(fs.existsSync(path.join(root, 'x'))).toBe(false); // nothing written on bad options
  });
});
