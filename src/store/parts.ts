/**
 * Writing part files for one append: rows are split by task (the partition), gathered into parts of about
 * PART_BYTES, and each part is encoded and written by a worker while the next one is being gathered.
 */
import fs from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { RecordBatch, Schema, Table, tableToIPC } from 'apache-arrow';
import { PARTITION_COLUMN, STEP_SCHEMA } from './schema.ts';
import { gatherColumn } from './columns.ts';
import { batchOf } from './batch.ts';
import { encodePath, partitionDir, type AddAction } from './delta.ts';
import { POOL_SIZE, runInWorker } from './pool.ts';
import type { EncodeResult } from './worker.ts';

/**
 * Target bytes (Arrow, uncompressed) of one part file. A worker's parquet-wasm memory and the part's IPC
 * copy scale with it: the store bench's writer peaked at 950-980 MiB RSS with 32 MiB parts, 760-840 with 16.
 */
export const PART_BYTES = 16 << 20;
/** Rows per Parquet row group: the unit the sampler reads and shuffles. */
export const ROW_GROUP_ROWS = 512;

const TASK_INDEX = STEP_SCHEMA.fields.findIndex((f) => f.name === PARTITION_COLUMN);
/** The schema of a part file: the step schema without the partition column. */
export const PART_SCHEMA = new Schema(STEP_SCHEMA.fields.filter((f) => f.name !== PARTITION_COLUMN), STEP_SCHEMA.metadata);

interface Pending { batches: RecordBatch[]; bytes: number }

export class PartWriter {
  private readonly pending = new Map<string, Pending>();
  private readonly inFlight: Promise<void>[] = [];
  private readonly written: string[] = [];
  readonly adds: AddAction[] = [];

  constructor(private readonly tableDir: string) {}

  /** Queues the rows of a (valid, step-schema) batch; starts part writes when a partition has enough. */
  async push(batch: RecordBatch): Promise<void> {
    if (batch.numRows === 0) return;
    for (const [task, part] of splitByTask(batch)) {
      let p = this.pending.get(task);
      if (!p) this.pending.set(task, (p = { batches: [], bytes: 0 }));
      p.batches.push(part);
      p.bytes += part.data.byteLength;
      if (p.bytes >= PART_BYTES) await this.emit(task);
    }
  }

  /** Writes every queued row and waits for all part writes. */
  async flush(): Promise<void> {
    for (const task of [...this.pending.keys()]) await this.emit(task);
    await Promise.all(this.inFlight);
  }

  /** Removes the part files this append wrote (after a rejection). */
  async discard(): Promise<void> {
    await Promise.allSettled(this.inFlight);
    for (const f of this.written) fs.rmSync(f, { force: true });
  }

  private async emit(task: string): Promise<void> {
    const p = this.pending.get(task)!;
    this.pending.delete(task);
    if (p.batches.length === 0) return;
    // At most one part per worker in flight keeps memory flat: wait for the oldest when all workers are busy.
    while (this.inFlight.length >= POOL_SIZE) await this.inFlight.shift();
    const dir = partitionDir(task);
    const name = `part-${String(this.adds.length + this.inFlight.length).padStart(5, '0')}-${randomUUID()}.c000.zstd.parquet`;
    const rel = `${dir}/${name}`;
    const file = path.join(this.tableDir, dir, name);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const ipc = tableToIPC(new Table(PART_SCHEMA, p.batches), 'stream');
    this.written.push(file);
    const job = runInWorker<EncodeResult>(
      { kind: 'encode', file, ipc, rowGroupRows: ROW_GROUP_ROWS }, [ipc.buffer as ArrayBuffer],
    ).then((r) => {
      this.adds.push({
        path: encodePath(rel), partitionValues: { [PARTITION_COLUMN]: task }, size: r.size,
        modificationTime: Math.floor(fs.statSync(file).mtimeMs), dataChange: true, stats: JSON.stringify(r.stats),
      });
    });
    job.catch(() => undefined);
    this.inFlight.push(job);
  }
}

/** The batch's rows by task, each without the task column (zero-copy when the batch has one task). */
function splitByTask(batch: RecordBatch): Map<string, RecordBatch> {
  const taskVec = batch.getChildAt(TASK_INDEX)!;
  const rows = new Map<string, number[]>();
  const first = taskVec.get(0) as string;
  const data = batch.data.children[TASK_INDEX];
  const off = data.valueOffsets as Int32Array;
  const bytes = data.values as Uint8Array;
  const a0 = off[0]; const len0 = off[1] - off[0];
  let single = true;
  for (let i = 1; i < batch.numRows && single; i++) {
    if (off[i + 1] - off[i] !== len0) { single = false; break; }
    for (let j = 0; j < len0; j++) if (bytes[off[i] + j] !== bytes[a0 + j]) { single = false; break; }
  }
  const children = batch.data.children.filter((_, c) => c !== TASK_INDEX);
  const out = new Map<string, RecordBatch>();
  if (single) {
    out.set(first, batchOf(PART_SCHEMA, children, batch.numRows));
    return out;
  }
  for (let i = 0; i < batch.numRows; i++) {
    const t = taskVec.get(i) as string;
    let list = rows.get(t);
    if (!list) rows.set(t, (list = []));
    list.push(i);
  }
  for (const [t, idx] of rows) {
    const picked = children.map((d) => gatherColumn(d.type, [{ data: d, idx }]));
    out.set(t, batchOf(PART_SCHEMA, picked, idx.length));
  }
  return out;
}
