/**
 * Shuffled minibatches over a snapshot. Whole row groups are decoded (only the requested columns) into a
 * shuffle buffer; each minibatch draws `batchSize` rows uniformly from the buffer without replacement,
 * and the buffer is refilled from the next row group of a seeded permutation. Every row (kept by the
 * filter) is drawn exactly once per epoch; the same seed gives the same minibatches.
 *
 *   for await (const mb of snapshot.sampler({ batchSize: 256, seed: 1, columns: ['reward'] })) { ... }
 */
import { Float32, RecordBatch, Table, makeData, type Schema } from 'apache-arrow';
import { Rng } from '../util/rng.ts';
import type { StepFieldName } from './schema.ts';
import { batchOf, gatherRows } from './batch.ts';
import { fileMayMatch, projectedSchema, projection, readFile, RETURN_TO_GO, type SnapshotFile, type StepFilter } from './read.ts';
import { POOL_SIZE, runInWorker } from './pool.ts';

export interface SamplerOptions {
  /** Rows per minibatch (the last minibatch of an epoch may be smaller). */
  batchSize: number;
  /** Seed of the row-group order and of the draws. */
  seed: number;
  /** Columns to decode (all when absent); leave out obs_image when a stage does not need images. */
  columns?: StepFieldName[];
  filter?: StepFilter;
  /** Passes over the data (default 1). */
  epochs?: number;
  /** Row groups held in the shuffle buffer (default 8): more mixes better, costs memory. */
  bufferRowGroups?: number;
  /** Adds a `return_to_go` column (discounted by gamma, over whole episodes). */
  returnsToGo?: { gamma: number };
}

/** Row positions inside a file: `returnsToGo[fileIndex][row]`. */
export type FileReturns = Float32Array[];

interface Unit { file: number; rowGroup: number; firstRow: number }

const rowGroupCache = new Map<string, number[]>();

/** The row counts of each row group of a file (read once per process; files never change). */
export async function rowGroupsOf(f: SnapshotFile): Promise<number[]> {
  let counts = rowGroupCache.get(f.file);
  if (!counts) {
    counts = await runInWorker<number[]>({ kind: 'rowGroups', file: f.file });
    rowGroupCache.set(f.file, counts);
  }
  return counts;
}

export class Sampler implements AsyncIterable<Table> {
  readonly schema: Schema;
  private readonly columns: StepFieldName[];

  constructor(
    private readonly files: SnapshotFile[],
    private readonly opts: SamplerOptions,
    private readonly returns: (files: SnapshotFile[], gamma: number) => Promise<FileReturns>,
  ) {
    if (!Number.isInteger(opts.batchSize) || opts.batchSize < 1) {
      throw new Error(`sampler: expected batchSize to be an integer >= 1, got ${opts.batchSize}`);
    }
    this.columns = projection(opts.columns);
    this.schema = projectedSchema(this.columns, opts.returnsToGo ? [RETURN_TO_GO] : []);
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Table> {
    const files = this.files.filter((f) => fileMayMatch(f, this.opts.filter));
    const units: Unit[] = [];
    for (let i = 0; i < files.length; i++) {
      let first = 0;
      for (const [g, n] of (await rowGroupsOf(files[i])).entries()) { units.push({ file: i, rowGroup: g, firstRow: first }); first += n; }
    }
    const rtg = this.opts.returnsToGo ? await this.returns(files, this.opts.returnsToGo.gamma) : null;
    const rng = new Rng(this.opts.seed);
    const bufferTarget = (this.opts.bufferRowGroups ?? 8);
    for (let epoch = 0; epoch < (this.opts.epochs ?? 1); epoch++) {
      const order = rng.shuffle(units.map((_, i) => i));
      let next = 0;
      const loads: Promise<RecordBatch>[] = [];
      const startLoads = () => {
        while (loads.length < Math.max(POOL_SIZE, bufferTarget) && next < order.length) loads.push(this.load(files, units[order[next++]], rtg));
      };
      // The buffer: rows (batch index, row) still to draw; swap-remove keeps draws O(1).
      const batches: Array<RecordBatch | undefined> = [];
      const remaining: number[] = [];
      let poolBatch = new Int32Array(0);
      let poolRow = new Int32Array(0);
      let poolLen = 0;
      let buffered = 0;
      const add = (b: RecordBatch) => {
        if (b.numRows === 0) return; // a row group the filter emptied
        const bi = batches.push(b) - 1;
        remaining.push(b.numRows);
        buffered++;
        if (poolLen + b.numRows > poolBatch.length) {
          const cap = Math.max(2 * poolBatch.length, poolLen + b.numRows);
          const nb = new Int32Array(cap); nb.set(poolBatch.subarray(0, poolLen)); poolBatch = nb;
          const nr = new Int32Array(cap); nr.set(poolRow.subarray(0, poolLen)); poolRow = nr;
        }
        for (let r = 0; r < b.numRows; r++) { poolBatch[poolLen] = bi; poolRow[poolLen] = r; poolLen++; }
      };
      startLoads();
      for (;;) {
        while ((buffered < bufferTarget || poolLen < this.opts.batchSize) && loads.length) {
          add(await loads.shift()!);
          startLoads();
        }
        if (poolLen === 0) break;
        const n = Math.min(this.opts.batchSize, poolLen);
        const picks = new Map<number, number[]>();
        for (let k = 0; k < n; k++) {
          const j = rng.int(poolLen);
          const bi = poolBatch[j];
          let l = picks.get(bi);
          if (!l) picks.set(bi, (l = []));
          l.push(poolRow[j]);
          poolLen--;
          poolBatch[j] = poolBatch[poolLen];
          poolRow[j] = poolRow[poolLen];
        }
        const mb = gatherRows(this.schema, [...picks].map(([bi, idx]) => ({ batch: batches[bi]!, idx })));
        for (const [bi, idx] of picks) {
          remaining[bi] -= idx.length;
          if (remaining[bi] === 0) { batches[bi] = undefined; buffered--; }
        }
        yield new Table(mb);
      }
    }
  }

  private async load(files: SnapshotFile[], u: Unit, rtg: FileReturns | null): Promise<RecordBatch> {
    const f = files[u.file];
    const parts = await readFile(f, this.columns, this.opts.filter, [u.rowGroup]);
    const batch = parts.length === 1 ? parts[0].batch : gatherRows(projectedSchema(this.columns), parts.map((p) => ({ batch: p.batch, idx: null })));
    if (!rtg) return batch;
    const rows = parts.flatMap((p) => [...p.rows]);
    const values = new Float32Array(rows.length);
    rows.forEach((r, k) => { values[k] = rtg[u.file][u.firstRow + r]; });
    const col = makeData({ type: new Float32(), length: values.length, nullCount: 0, data: values });
    return batchOf(this.schema, [...batch.data.children, col], batch.numRows);
  }
}
