import { describe, expect, it } from 'vitest';
import { datasetComposition } from '../../src/report/composition.ts';
import { openTable, rowsToBatch, type StepRow } from '../../src/store/index.ts';
import { makeRows, tempRoot } from '../store/fixtures.ts';

/** The oracle: group rows by (source, policy_version) with plain loops. */
function expected(rows: StepRow[]) {
  const m = new Map<string, { steps: number; ret: Map<string, number> }>();
  for (const r of rows) {
    const k = `${r.source}|${r.policy_version}`;
    const g = m.get(k) ?? { steps: 0, ret: new Map() };
    m.set(k, g);
    g.steps++;
    g.ret.set(r.episode_id, (g.ret.get(r.episode_id) ?? 0) + r.reward);
  }
  return Object.fromEntries([...m].map(([k, g]) => [k, { steps: g.steps, episodes: g.ret.size, success: [...g.ret.values()].filter((x) => x > 0).length / g.ret.size }]));
}

describe('dataset composition', () => {
  it('counts steps, episodes and success per source and policy version, at a snapshot version', async () => {
    const root = tempRoot();
    const table = await openTable(root, 'mix', { create: true });
    const imported = makeRows({ episodes: 12, steps: 3, prefix: 'imp', task: 'gym_cards/NumberLine-v0' });
    const online = makeRows({ episodes: 5, steps: 4, prefix: 'onl', task: 'gym_cards/NumberLine-v0', source: 'online', policyVersion: 2, seed: 2 });
    const v1 = (await table.append([rowsToBatch(imported)])).version;
    await table.append([rowsToBatch(online)]);

    const all = await datasetComposition(root, 'mix');
    const got = Object.fromEntries(all.rows.map((r) => [`${r.source}|${r.policyVersion}`, { steps: r.steps, episodes: r.episodes, success: r.success }]));
    expect(got).toEqual(expected([...imported, ...online]));
    expect(all.rows.at(-1)).toMatchObject({ source: 'online', policyVersion: 2, steps: 20, episodes: 5 });

    const before = await datasetComposition(root, 'mix', v1);
    expect(before.version).toBe(v1);
    expect(before.rows.some((r) => r.source === 'online')).toBe(false);
    expect(before.rows.reduce((s, r) => s + r.steps, 0)).toBe(36);
  });
});
