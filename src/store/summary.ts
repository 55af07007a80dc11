/**
 * What `o2o inspect` shows about a snapshot: sizes, tasks, sources, episode success (return > 0) by source
 * and by task, a histogram of episode returns, policy versions. Reads only the small columns.
 */
import type { Snapshot } from './snapshot.ts';
import type { HistoryEntry } from './table.ts';

export interface GroupStats { rows: number; episodes: number; successes: number }

export interface Summary {
  version: number;
  files: number;
  bytes: number;
  rows: number;
  episodes: number;
  byTask: Record<string, GroupStats>;
  /** An episode counts under the source of its first step. */
  bySource: Record<string, GroupStats>;
  byPolicyVersion: Record<string, number>;
  /** Episode returns: `bins` equal-width bins from `min` to `max`. */
  returns: { min: number; max: number; counts: number[] };
}

export async function summarize(snap: Snapshot, bins = 10): Promise<Summary> {
  const t = await snap.read({ columns: ['episode_id', 'step', 'task', 'source', 'policy_version', 'reward'] });
  const col = (name: string) => t.getChild(name)!;
  const [ids, steps, tasks, sources, versions, rewards] = ['episode_id', 'step', 'task', 'source', 'policy_version', 'reward'].map(col);
  const episodes = new Map<string, { task: string; source: string; firstStep: number; ret: number; rows: number }>();
  const byPolicyVersion: Record<string, number> = {};
  for (let i = 0; i < t.numRows; i++) {
    const id = ids.get(i) as string;
    const step = steps.get(i) as number;
    let e = episodes.get(id);
    if (!e) episodes.set(id, (e = { task: tasks.get(i), source: sources.get(i), firstStep: step, ret: 0, rows: 0 }));
    if (step < e.firstStep) { e.firstStep = step; e.source = sources.get(i); }
    e.ret += rewards.get(i) as number;
    e.rows++;
    const pv = String(versions.get(i));
    byPolicyVersion[pv] = (byPolicyVersion[pv] ?? 0) + 1;
  }
  const byTask: Record<string, GroupStats> = {};
  const bySource: Record<string, GroupStats> = {};
  const add = (m: Record<string, GroupStats>, k: string, rows: number, ok: boolean) => {
    const g = (m[k] ??= { rows: 0, episodes: 0, successes: 0 });
    g.rows += rows; g.episodes++; if (ok) g.successes++;
  };
  let min = Infinity; let max = -Infinity;
  for (const e of episodes.values()) {
    add(byTask, e.task, e.rows, e.ret > 0);
    add(bySource, e.source, e.rows, e.ret > 0);
    min = Math.min(min, e.ret); max = Math.max(max, e.ret);
  }
  const counts = new Array<number>(episodes.size ? bins : 0).fill(0);
  for (const e of episodes.values()) {
    const k = max > min ? Math.min(bins - 1, Math.floor(((e.ret - min) / (max - min)) * bins)) : 0;
    counts[k]++;
  }
  return {
    version: snap.version, files: snap.files.length, bytes: snap.files.reduce((s, f) => s + f.size, 0),
    rows: t.numRows, episodes: episodes.size, byTask, bySource, byPolicyVersion,
    returns: { min: episodes.size ? min : 0, max: episodes.size ? max : 0, counts },
  };
}

const pct = (g: GroupStats) => `${((100 * g.successes) / Math.max(1, g.episodes)).toFixed(1)}%`;

/** The summary and the table history as readable text. */
export function formatSummary(dataset: string, s: Summary, history: HistoryEntry[]): string {
  const lines: string[] = [];
  const latest = history[history.length - 1]?.version ?? s.version;
  lines.push(`dataset ${dataset}: version ${s.version}${s.version !== latest ? ` (latest ${latest})` : ''}, ${s.rows} steps in ${s.episodes} episodes, ${s.files} part files, ${(s.bytes / 1e6).toFixed(1)} MB`);
  const table = (title: string, m: Record<string, GroupStats>) => {
    lines.push('', `${title.padEnd(32)} ${'steps'.padStart(8)} ${'episodes'.padStart(9)} ${'success'.padStart(8)}`);
    for (const [k, g] of Object.entries(m).sort()) lines.push(`  ${k.padEnd(30)} ${String(g.rows).padStart(8)} ${String(g.episodes).padStart(9)} ${pct(g).padStart(8)}`);
  };
  table('by task', s.byTask);
  table('by source (success = return > 0)', s.bySource);
  lines.push('', 'policy versions (steps): ' + Object.entries(s.byPolicyVersion).sort((a, b) => Number(a[0]) - Number(b[0])).map(([v, n]) => `${v}: ${n}`).join(', '));
  if (s.returns.counts.length) {
    lines.push('', 'episode returns:');
    const { min, max, counts } = s.returns;
    const top = Math.max(...counts);
    const w = (max - min) / counts.length;
    counts.forEach((c, k) => {
      const lo = min + k * w;
      lines.push(`  [${lo.toFixed(2).padStart(8)}, ${(k === counts.length - 1 ? max : lo + w).toFixed(2).padStart(8)}${k === counts.length - 1 ? ']' : ')'} ${String(c).padStart(6)} ${'#'.repeat(Math.round((40 * c) / Math.max(1, top)))}`);
    });
  }
  lines.push('', 'history:');
  for (const h of history) {
    const m = h.operationMetrics as Record<string, string> | undefined;
    lines.push(`  v${h.version}  ${new Date(h.timestamp).toISOString()}  ${h.operation}${m?.numOutputRows ? `  +${m.numOutputRows} steps in ${m.numFiles} files` : ''}`);
  }
  return lines.join('\n');
}
