/**
 * Reading part files of a snapshot: projection (a column not asked for is never decoded), the partition
 * column re-added from the log, and row filters by task / source / policy_version.
 */
import path from 'node:path';
import { MessageChannel, receiveMessageOnPort } from 'node:worker_threads';
import { Field, Float32, RecordBatch, Schema, Type, makeData, tableFromIPC, type Data } from 'apache-arrow';
import { PARTITION_COLUMN, STEP_FIELDS, STEP_SCHEMA, type StepFieldName } from './schema.ts';
import { batchOf, gatherRows } from './batch.ts';
import { compareUtf8, decodePath, type AddAction, type FileStats } from './delta.ts';
import { runInWorker } from './pool.ts';
import { toData, type ColumnBuffers, type DecodedColumns } from './decode.ts';
import type { DecodeResult, FileResult } from './worker.ts';
import { sameType } from './validate.ts';
import { TableError } from './problems.ts';

/** Rows to keep; each key is one value or a list of accepted values (policy_version also a range). */
export interface StepFilter {
  task?: string | string[];
  source?: string | string[];
  policy_version?: number | number[] | { min?: number; max?: number };
}

/** One data file of a snapshot. */
export interface SnapshotFile {
  /** `add.path` as in the log (URL-encoded). */
  path: string;
  /** Absolute path on disk. */
  file: string;
  task: string;
  size: number;
  numRecords: number;
  stats: FileStats;
}

export function snapshotFile(tableDir: string, add: AddAction): SnapshotFile {
  if (!add.stats) throw new TableError(`${tableDir}: add ${add.path} has no stats (o2o needs numRecords)`);
  const stats = JSON.parse(add.stats) as FileStats;
  return {
    path: add.path, file: path.join(tableDir, decodePath(add.path)), task: add.partitionValues[PARTITION_COLUMN] ?? '',
    size: add.size, numRecords: stats.numRecords, stats,
  };
}

const list = <T>(v: T | T[] | undefined): T[] | undefined => (v === undefined ? undefined : Array.isArray(v) ? v : [v]);

function acceptsVersion(f: StepFilter, v: number): boolean {
  const pv = f.policy_version;
  if (pv === undefined) return true;
  if (typeof pv === 'number') return v === pv;
  if (Array.isArray(pv)) return pv.includes(v);
  return (pv.min === undefined || v >= pv.min) && (pv.max === undefined || v <= pv.max);
}

/** Whether a file may hold rows the filter keeps (by partition value and min/max stats). */
export function fileMayMatch(file: SnapshotFile, filter: StepFilter | undefined): boolean {
  if (!filter) return true;
  const tasks = list(filter.task);
  if (tasks && !tasks.includes(file.task)) return false;
  const sources = list(filter.source);
  const { minValues: lo, maxValues: hi } = file.stats;
  if (sources && typeof lo.source === 'string' && typeof hi.source === 'string') {
    if (!sources.some((s) => compareUtf8(s, lo.source as string) >= 0 && compareUtf8(s, hi.source as string) <= 0)) return false;
  }
  const pv = filter.policy_version;
  if (pv !== undefined && typeof lo.policy_version === 'number' && typeof hi.policy_version === 'number') {
    const a = lo.policy_version; const b = hi.policy_version;
    if (typeof pv === 'number' && (pv < a || pv > b)) return false;
    if (Array.isArray(pv) && !pv.some((v) => v >= a && v <= b)) return false;
    if (!Array.isArray(pv) && typeof pv === 'object' && ((pv.min !== undefined && pv.min > b) || (pv.max !== undefined && pv.max < a))) return false;
  }
  return true;
}

/** Checks and orders the requested columns (all step columns when absent). */
export function projection(columns?: readonly string[]): StepFieldName[] {
  if (!columns) return STEP_FIELDS.map((f) => f.name);
  for (const c of columns) {
    if (!STEP_FIELDS.some((f) => f.name === c)) {
      throw new Error(`read: expected step columns (${STEP_FIELDS.map((f) => f.name).join(', ')}), got ${JSON.stringify(c)}`);
    }
  }
  return STEP_FIELDS.map((f) => f.name).filter((n) => columns.includes(n));
}

/** The schema of a read of `columns` (in step-schema order), plus extra fields appended. */
export function projectedSchema(columns: readonly string[], extra: Field[] = []): Schema {
  return new Schema([...STEP_SCHEMA.fields.filter((f) => columns.includes(f.name)), ...extra], STEP_SCHEMA.metadata);
}

/** A utf8 column holding `value` n times. */
function constantUtf8(type: Field['type'], value: string, n: number): Data {
  const bytes = new TextEncoder().encode(value);
  const offsets = new Int32Array(n + 1);
  const data = new Uint8Array(bytes.length * n);
  for (let i = 0; i < n; i++) offsets[i + 1] = offsets[i] + bytes.length;
  // The value once, then the filled part copied onto the rest (doubling).
  if (n) data.set(bytes);
  for (let filled = bytes.length; filled < data.length; filled *= 2) data.copyWithin(filled, 0, Math.min(filled, data.length - filled));
  return makeData({ type, length: n, nullCount: 0, valueOffsets: offsets, data } as never);
}

/** The columns the filter needs to see beyond the projection. */
function filterColumns(filter: StepFilter | undefined): StepFieldName[] {
  const out: StepFieldName[] = [];
  if (filter?.source !== undefined) out.push('source');
  if (filter?.policy_version !== undefined) out.push('policy_version');
  return out;
}

/** Row indices of a batch the filter keeps, or null when it keeps all rows. */
function keptRows(batch: RecordBatch, filter: StepFilter | undefined): Int32Array | null {
  const sources = list(filter?.source);
  const checkVersion = filter?.policy_version !== undefined;
  if (!sources && !checkVersion) return null;
  const src = sources ? batch.getChild('source')! : null;
  const pv = checkVersion ? (batch.getChild('policy_version')!.data[0].values as Int32Array) : null;
  let okSource: boolean[] | null = null;
  let idxs: Int32Array | null = null;
  if (src) {
    const d = src.data[0];
    okSource = [];
    for (let k = 0; k < d.dictionary!.length; k++) okSource.push(sources!.includes(d.dictionary!.get(k) as string));
    idxs = d.values as Int32Array;
  }
  const keep: number[] = [];
  for (let i = 0; i < batch.numRows; i++) {
    if (okSource && !okSource[idxs![i]]) continue;
    if (pv && !acceptsVersion(filter!, pv[i])) continue;
    keep.push(i);
  }
  return keep.length === batch.numRows ? null : Int32Array.from(keep);
}

/** base, base + 1, ..., base + n - 1. */
function identity(n: number, base = 0): Int32Array {
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) out[i] = base + i;
  return out;
}

/** Decoded rows: a batch and, for each of its rows, its position among the decoded rows (before filtering). */
export interface DecodedPart { batch: RecordBatch; rows: Int32Array }

/** Decodes `columns` of one file (some row groups, or all) into batches of the projected schema, filtered. */
export async function readFile(
  f: SnapshotFile, columns: readonly StepFieldName[], filter: StepFilter | undefined, rowGroups?: number[],
): Promise<DecodedPart[]> {
  const need = [...new Set([...columns, ...filterColumns(filter)])].filter((c) => c !== PARTITION_COLUMN);
  const result = await runInWorker<DecodeResult>({ kind: 'decode', file: f.file, columns: need, rowGroups });
  const schema = projectedSchema(columns);
  if ('columns' in result) {
    const { batch, rows } = decodedBatch(result.columns, need, columns, f.task, filter);
    return [{ batch, rows }];
  }
  const decoded = tableFromIPC(result.ipc);
  const out: DecodedPart[] = [];
  let base = 0;
  for (const b of decoded.batches) {
    const keep = keptRows(b, filter);
    const children = schema.fields.map((field) => {
      if (field.name === PARTITION_COLUMN) return constantUtf8(field.type, f.task, b.numRows);
      const col = b.getChild(field.name);
      if (!col) throw new TableError(`${f.file}: expected column ${field.name}, got none (columns: ${b.schema.fields.map((x) => x.name).join(', ')})`);
      if (!sameType(col.type, field.type) && !(col.type.typeId === Type.Timestamp && field.type.typeId === Type.Timestamp)) {
        throw new TableError(`${f.file}: column ${field.name}: expected ${field.type}, got ${col.type}`);
      }
      return col.data[0].clone(field.type);
    });
    const full = batchOf(schema, children, b.numRows);
    const rows = keep ? keep.map((i) => i + base) : identity(b.numRows, base);
    out.push({ batch: keep ? gatherRows(schema, [{ batch: full, idx: keep }]) : full, rows });
    base += b.numRows;
  }
  return out;
}

/** The projected, filtered batch of one file's decoded buffers of the `need` columns, with its `task`. */
function decodedBatch(
  d: DecodedColumns, need: readonly string[], columns: readonly StepFieldName[], task: string, filter: StepFilter | undefined,
): DecodedPart {
  const { numRows, columns: decoded } = d;
  const byName = new Map<string, ColumnBuffers>(need.map((c, i) => [c, decoded[i]]));
  const schema = projectedSchema(columns);
  const needSchema = projectedSchema(need);
  const keep = filter ? keptRows(batchOf(needSchema, needSchema.fields.map((x) => toData(x.type, byName.get(x.name)!)), numRows), filter) : null;
  const children = schema.fields.map((field) => (field.name === PARTITION_COLUMN
    ? constantUtf8(field.type, task, numRows) : toData(field.type, byName.get(field.name)!)));
  const full = batchOf(schema, children, numRows);
  return { batch: keep ? gatherRows(schema, [{ batch: full, idx: keep }]) : full, rows: keep ?? identity(numRows) };
}

/**
 * Decodes `columns` of runs of files, each run in one worker task, into one batch per file (in order),
 * filtered; a file the JavaScript decoder does not read (another layout, or damaged) is read alone (readFile).
 *
 * A worker posts each file's buffers to a port of its run as soon as it has decoded it, and they are taken
 * from the port once the run is done: V8 accounts a transferred buffer to the heap that receives it, and
 * buffers arriving one file at a time set off a major GC of this heap every few tens of MB (5-9 in a read of
 * 185 MB), where buffers arriving at once set off about one per 64 MB (3).
 */
export async function readRuns(runs: ReadonlyArray<readonly SnapshotFile[]>, columns: readonly StepFieldName[], filter: StepFilter | undefined): Promise<RecordBatch[]> {
  const need = [...new Set([...columns, ...filterColumns(filter)])].filter((c) => c !== PARTITION_COLUMN);
  const perRun = await Promise.all(runs.map((files) => readRun(files, need, columns, filter)));
  return perRun.flat();
}

async function readRun(files: readonly SnapshotFile[], need: string[], columns: readonly StepFieldName[], filter: StepFilter | undefined): Promise<RecordBatch[]> {
  const { port1, port2 } = new MessageChannel();
  try {
    await runInWorker<number>({ kind: 'decodeFiles', files: files.map((f) => f.file), columns: need, port: port2 }, [port2]);
    const results: FileResult[] = [];
    for (let m = receiveMessageOnPort(port1); m; m = receiveMessageOnPort(port1)) results.push(m.message as FileResult);
    if (results.length !== files.length) throw new TableError(`${files[0].file}: a worker decoded ${results.length} of ${files.length} files`);
    const out: RecordBatch[] = [];
    for (const r of results) {
      const f = files[r.index];
      if ('failed' in r) out.push(...(await readFile(f, columns, filter)).map((p) => p.batch));
      else out.push(decodedBatch(r.columns, need, columns, f.task, filter).batch);
    }
    return out;
  } finally {
    port1.close();
  }
}

/** The `return_to_go` field added by episode-aware reads. */
export const RETURN_TO_GO = new Field('return_to_go', new Float32(), false);
