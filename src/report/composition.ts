/**
 * The dataset's composition for the report: steps, episodes and episode success per (source, policy
 * version), read from one snapshot of the store (only four columns are decoded).
 */
import { openTable } from '../store/index.ts';
import type { CompositionRow } from './html.ts';

export async function datasetComposition(root: string, dataset: string, version?: number): Promise<{ version: number; rows: CompositionRow[] }> {
  const snap = await (await openTable(root, dataset)).snapshot(version);
  const t = await snap.read({ columns: ['episode_id', 'source', 'policy_version', 'reward'] });
  const [ids, sources, versions, rewards] = ['episode_id', 'source', 'policy_version', 'reward'].map((c) => t.getChild(c)!);
  const groups = new Map<string, { source: string; policyVersion: number; steps: number; returns: Map<string, number> }>();
  for (let i = 0; i < t.numRows; i++) {
    const source = String(sources.get(i)), policyVersion = Number(versions.get(i));
    const key = `${source}\u0000${policyVersion}`;
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { source, policyVersion, steps: 0, returns: new Map() }));
    g.steps++;
    const id = ids.get(i) as string;
    g.returns.set(id, (g.returns.get(id) ?? 0) + Number(rewards.get(i)));
  }
  const rows = [...groups.values()]
    .sort((a, b) => a.policyVersion - b.policyVersion || a.source.localeCompare(b.source))
    .map((g) => {
      const rs = [...g.returns.values()];
      return { source: g.source, policyVersion: g.policyVersion, episodes: rs.length, steps: g.steps, success: rs.filter((r) => r > 0).length / rs.length };
    });
  return { version: snap.version, rows };
}
