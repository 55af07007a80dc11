import { beforeAll, describe, expect, test } from 'vitest';
import type { Table } from 'apache-arrow';
import { openTable, rowsToBatch, type Snapshot } from '../../src/store/index.ts';
import { makeRows, tempRoot } from './fixtures.ts';

let snap: Snapshot;
// 2 tasks x ~600 rows per commit, 2 commits: several row groups (512 rows) per part and several parts.
beforeAll(async () => {
  const table = await openTable(tempRoot(), 'sample', { create: true });
  await table.append([rowsToBatch(makeRows({ episodes: 120, steps: 10, prefix: 'a' }))]);
  await table.append([rowsToBatch(makeRows({ episodes: 30, steps: 7, prefix: 'b', seed: 5, source: 'online', policyVersion: 3 }))]);
  snap = await table.snapshot();
});

const keyOf = (t: Table, i: number) => `${t.getChild('episode_id')!.get(i)}/${t.getChild('step')!.get(i)}`;

async function drain(it: AsyncIterable<Table>): Promise<Table[]> {
  const out: Table[] = [];
  for await (const t of it) out.push(t);
  return out;
}

describe('sampler', () => {
  test('each row exactly once per epoch, minibatches of batchSize (last one smaller)', async () => {
    const mbs = await drain(snap.sampler({ batchSize: 64, seed: 1, columns: ['episode_id', 'step'], epochs: 2 }));
    const total = snap.numRows;
    expect(total).toBe(1410);
    const sizes = mbs.map((t) => t.numRows);
    const perEpoch = Math.ceil(total / 64);
    expect(sizes).toHaveLength(2 * perEpoch);
    expect(sizes.slice(0, perEpoch - 1).every((n) => n === 64)).toBe(true);
    for (const epoch of [mbs.slice(0, perEpoch), mbs.slice(perEpoch)]) {
      const seen = new Map<string, number>();
      for (const t of epoch) for (let i = 0; i < t.numRows; i++) seen.set(keyOf(t, i), (seen.get(keyOf(t, i)) ?? 0) + 1);
      expect(seen.size).toBe(total);
      expect([...seen.values()].every((c) => c === 1)).toBe(true);
    }
  });

  test('same seed, same minibatches; another seed, another order; rows are shuffled across row groups', async () => {
    const order = async (seed: number) => (await drain(snap.sampler({ batchSize: 100, seed, columns: ['episode_id', 'step'] })))
      .map((t) => Array.from({ length: t.numRows }, (_, i) => keyOf(t, i)));
    const a = await order(7);
    expect(await order(7)).toEqual(a);
    expect(await order(8)).not.toEqual(a);
    // The first minibatch mixes episodes from more than one row group's worth of ids.
    const episodes = new Set(a[0].map((k) => k.split('/')[0]));
    expect(episodes.size).toBeGreaterThan(30);
  });

  test('projection: only the asked columns, no images', async () => {
    const [first] = await drain(snap.sampler({ batchSize: 32, seed: 0, columns: ['reward', 'obs_text'] }));
    expect(first.schema.fields.map((f) => f.name)).toEqual(['obs_text', 'reward']);
    const withImages = await drain(snap.sampler({ batchSize: 32, seed: 0 }));
    expect(withImages[0].getChild('obs_image')).not.toBeNull();
  });

  test('filters by task, source and policy_version keep exactly the matching rows', async () => {
    const all = await snap.read({ columns: ['episode_id', 'step', 'task', 'source', 'policy_version'] });
    const cases = [
      { task: 'gym_cards/NumberLine-v0' },
      { source: 'online' },
      { policy_version: { min: 0, max: 1 } },
      { task: 'gym_cards/Blackjack-v0', source: ['demo', 'online'], policy_version: [-1, 3] },
    ];
    for (const filter of cases) {
      const want = new Set<string>();
      for (let i = 0; i < all.numRows; i++) {
        const task = all.getChild('task')!.get(i); const source = all.getChild('source')!.get(i); const pv = all.getChild('policy_version')!.get(i);
        const ok = (!('task' in filter) || filter.task === task)
          && (!('source' in filter) || [filter.source].flat().includes(source))
          && (!('policy_version' in filter) || (Array.isArray(filter.policy_version) ? filter.policy_version.includes(pv) : pv >= filter.policy_version!.min && pv <= filter.policy_version!.max));
        if (ok) want.add(keyOf(all, i));
      }
      expect(want.size).toBeGreaterThan(0);
      const got: string[] = [];
      for (const t of await drain(snap.sampler({ batchSize: 50, seed: 3, columns: ['episode_id', 'step'], filter }))) for (let i = 0; i < t.numRows; i++) got.push(keyOf(t, i));
      expect(got.length).toBe(want.size);
      expect(new Set(got)).toEqual(want);
      const read = await snap.read({ columns: ['episode_id', 'step'], filter });
      expect(read.numRows).toBe(want.size);
    }
  });

  test('episodes: whole episodes in step order with returns-to-go; the sampler agrees', async () => {
    const gamma = 0.9;
    const eps = await snap.episodes({ columns: ['reward'], gamma });
    expect(eps).toHaveLength(150);
    const rtgOf = new Map<string, number>();
    for (const e of eps) {
      const steps = Array.from(e.steps.getChild('step')!.toArray() as Int32Array);
      expect(steps).toEqual(Array.from({ length: e.length }, (_, i) => i));
      const r = Array.from(e.steps.getChild('reward')!.toArray() as Float32Array);
      // Oracle: the slow loop from the definition G_t = sum_k gamma^k r_{t+k}.
      const want = r.map((_, t) => r.slice(t).reduce((s, x, k) => s + gamma ** k * x, 0));
      const got = Array.from(e.steps.getChild('return_to_go')!.toArray() as Float32Array);
      got.forEach((g, t) => expect(g).toBeCloseTo(want[t], 5));
      expect(e.return).toBeCloseTo(r.reduce((s, x) => s + x, 0), 6);
      got.forEach((g, t) => rtgOf.set(`${e.episode_id}/${t}`, g));
    }
    for (const t of await drain(snap.sampler({ batchSize: 200, seed: 2, columns: ['episode_id', 'step'], returnsToGo: { gamma } }))) {
      const col = t.getChild('return_to_go')!;
      for (let i = 0; i < t.numRows; i++) expect(col.get(i)).toBeCloseTo(rtgOf.get(keyOf(t, i))!, 5);
    }
  });
});
