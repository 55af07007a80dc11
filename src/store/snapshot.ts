/**
 * A snapshot: the table as of one version, i.e. the files named by log entries 0..version (never a folder
 * listing). Reads decode only the requested columns, several files at once.
 */
import { RecordBatch, Table, makeData, Float32 } from 'apache-arrow';
import type { StepFieldName } from './schema.ts';
import { batchOf, gatherRows } from './batch.ts';
import { fileMayMatch, projectedSchema, projection, readFile, readRuns, RETURN_TO_GO, type DecodedPart, type SnapshotFile, type StepFilter } from './read.ts';
import { POOL_SIZE } from './pool.ts';
import { Sampler, type FileReturns, type SamplerOptions } from './sampler.ts';

export interface ReadOptions {
  /** Columns to decode, returned in step-schema order (all when absent). */
  columns?: StepFieldName[];
  filter?: StepFilter;
}

/** One whole episode: its rows ordered by step, with a `return_to_go` column. */
export interface Episode {
  episode_id: string;
  task: string;
  /** Sum of rewards (undiscounted). Success = return > 0. */
  return: number;
  length: number;
  /** The episode's rows (requested columns + return_to_go), step 0 first. */
  steps: Table;
}

/** `files` in POOL_SIZE consecutive runs of about equal size on disk (one per worker). */
function runsOf(files: SnapshotFile[]): SnapshotFile[][] {
  const total = files.reduce((s, f) => s + f.size, 0);
  const out: SnapshotFile[][] = [];
  let acc = 0;
  for (const f of files) {
    // The run whose share of the bytes holds this file's middle.
    const r = Math.min(POOL_SIZE - 1, Math.floor(((acc + f.size / 2) / Math.max(1, total)) * POOL_SIZE));
    while (out.length <= r) out.push([]);
    out[r].push(f);
    acc += f.size;
  }
  return out.filter((r) => r.length);
}

export class Snapshot {
  constructor(
    readonly tableDir: string,
    /** The table version this snapshot shows. */
    readonly version: number,
    /** Its data files, in commit order, with Delta stats. */
    readonly files: SnapshotFile[],
  ) {}

  /** Rows in the snapshot (from the stats, no file is opened). */
  get numRows(): number {
    return this.files.reduce((s, f) => s + f.numRecords, 0);
  }

  /** The snapshot's rows, file by file (several files decoded at once, yielded in commit order). */
  async *batches(opts: ReadOptions = {}): AsyncGenerator<RecordBatch> {
    const columns = projection(opts.columns);
    const files = this.files.filter((f) => fileMayMatch(f, opts.filter));
    const ahead = 2 * POOL_SIZE;
    const loads: Array<Promise<DecodedPart[]> | undefined> = files.slice(0, ahead).map((f) => readFile(f, columns, opts.filter));
    for (let i = 0; i < files.length; i++) {
      const parts = await loads[i]!;
      loads[i] = undefined; // let a streaming consumer's memory go
      if (i + ahead < files.length) loads.push(readFile(files[i + ahead], columns, opts.filter));
      for (const p of parts) if (p.batch.numRows) yield p.batch;
    }
  }

  /**
   * The snapshot's rows as one Arrow table (columns in step-schema order, one batch per file): the files in
   * one run per worker (see readRuns).
   */
  async read(opts: ReadOptions = {}): Promise<Table> {
    const columns = projection(opts.columns);
    const files = this.files.filter((f) => fileMayMatch(f, opts.filter));
    const out = (await readRuns(runsOf(files), columns, opts.filter)).filter((b) => b.numRows);
    return out.length ? new Table(out) : new Table(projectedSchema(columns));
  }

  /**
   * Whole episodes (rows ordered by step) with returns-to-go discounted by `gamma` (default 1):
   * G_t = r_t + gamma * G_{t+1}; nothing is bootstrapped after the last step (truncated or not).
   * The filter applies to whole episodes' rows as stored; pick columns to keep memory small.
   */
  async episodes(opts: ReadOptions & { gamma?: number } = {}): Promise<Episode[]> {
    const columns = projection([...new Set([...(opts.columns ?? projection()), 'episode_id', 'task', 'step', 'reward'] as StepFieldName[])]);
    const table = await this.read({ columns, filter: opts.filter });
    const schema = projectedSchema(columns, [RETURN_TO_GO]);
    const ids = table.getChild('episode_id')!;
    const steps = table.getChild('step')!;
    const rewards = table.getChild('reward')!;
    const byEpisode = new Map<string, number[]>();
    for (let i = 0; i < table.numRows; i++) {
      const id = ids.get(i) as string;
      let l = byEpisode.get(id);
      if (!l) byEpisode.set(id, (l = []));
      l.push(i);
    }
    // Global row i → (batch, row in batch)
    const starts: number[] = [];
    let acc = 0;
    for (const b of table.batches) { starts.push(acc); acc += b.numRows; }
    const locate = (i: number) => {
      let lo = 0; let hi = starts.length - 1;
      while (lo < hi) { const m = (lo + hi + 1) >> 1; if (starts[m] <= i) lo = m; else hi = m - 1; }
      return [lo, i - starts[lo]] as const;
    };
    const gamma = opts.gamma ?? 1;
    const out: Episode[] = [];
    for (const [id, rows] of byEpisode) {
      rows.sort((a, b) => (steps.get(a) as number) - (steps.get(b) as number));
      const rtg = new Float32Array(rows.length);
      let g = 0;
      for (let k = rows.length - 1; k >= 0; k--) { g = (rewards.get(rows[k]) as number) + gamma * g; rtg[k] = g; }
      let ret = 0;
      for (const r of rows) ret += rewards.get(r) as number;
      const picks = rows.map((i) => locate(i));
      const body = gatherRows(projectedSchema(columns), picks.map(([b, r]) => ({ batch: table.batches[b], idx: [r] })));
      const col = makeData({ type: new Float32(), length: rtg.length, nullCount: 0, data: rtg });
      const batch = batchOf(schema, [...body.data.children, col], rows.length);
      out.push({ episode_id: id, task: table.getChild('task')!.get(rows[0]) as string, return: ret, length: rows.length, steps: new Table(batch) });
    }
    return out;
  }

  /** Shuffled minibatches (see Sampler). */
  sampler(opts: SamplerOptions): Sampler {
    return new Sampler(this.files, opts, (files, gamma) => this.fileReturns(files, gamma));
  }

  /** Returns-to-go of every row of `files`, by file and row position (episodes may span files). */
  private async fileReturns(files: SnapshotFile[], gamma: number): Promise<FileReturns> {
    const cols: StepFieldName[] = ['episode_id', 'step', 'reward'];
    const decoded = await Promise.all(files.map((f) => readFile(f, cols, undefined)));
    const out = files.map((f) => new Float32Array(f.numRecords));
    const byEpisode = new Map<string, Array<[number, number, number, number]>>(); // [step, reward, file, row]
    decoded.forEach((parts, fi) => {
      for (const { batch, rows } of parts) {
        const id = batch.getChild('episode_id')!;
        const step = batch.getChild('step')!.data[0].values as Int32Array;
        const rew = batch.getChild('reward')!.data[0].values as Float32Array;
        for (let i = 0; i < batch.numRows; i++) {
          const key = id.get(i) as string;
          let l = byEpisode.get(key);
          if (!l) byEpisode.set(key, (l = []));
          l.push([step[i], rew[i], fi, rows[i]]);
        }
      }
    });
    for (const l of byEpisode.values()) {
      l.sort((a, b) => a[0] - b[0]);
      let g = 0;
      for (let k = l.length - 1; k >= 0; k--) { g = l[k][1] + gamma * g; out[l[k][2]][l[k][3]] = g; }
    }
    return out;
  }
}
