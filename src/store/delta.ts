/**
 * The Delta Lake protocol pieces o2o writes and reads (delta-io/delta PROTOCOL.md, reader 1 / writer 2):
 * the schema string, action shapes, partition paths and per-file statistics.
 */
import { DataType, Type, type List, type Table, type Data } from 'apache-arrow';
import { PARTITION_COLUMN, SCHEMA_VERSION, STEP_FIELDS } from './schema.ts';

export const READER_VERSION = 1;
export const WRITER_VERSION = 2;
export const SCHEMA_VERSION_KEY = 'o2o.schema_version';

export interface ProtocolAction { minReaderVersion: number; minWriterVersion: number; readerFeatures?: string[]; writerFeatures?: string[] }
export interface MetaDataAction {
  id: string;
  name?: string;
  format: { provider: string; options: Record<string, string> };
  schemaString: string;
  partitionColumns: string[];
  configuration: Record<string, string>;
  createdTime?: number;
}
/** A data file of the table (`path` relative and URL-encoded; `stats` a JSON string of `FileStats`). */
export interface AddAction {
  path: string;
  partitionValues: Record<string, string | null>;
  size: number;
  modificationTime: number;
  dataChange: boolean;
  stats?: string;
}
export interface RemoveAction { path: string; deletionTimestamp?: number; dataChange: boolean }
export interface CommitInfo { timestamp: number; operation: string; operationParameters?: Record<string, string>; [key: string]: unknown }
export type Action =
  | { protocol: ProtocolAction } | { metaData: MetaDataAction } | { add: AddAction } | { remove: RemoveAction }
  | { commitInfo: CommitInfo };

/** Per-file statistics, as Delta stores them (JSON in `add.stats`). */
export interface FileStats {
  numRecords: number;
  minValues: Record<string, number | string>;
  maxValues: Record<string, number | string>;
  nullCount: Record<string, number>;
}

/** The Delta type name of an Arrow type (dictionary-encoded strings are still "string"). */
export function deltaType(type: DataType): unknown {
  switch (type.typeId) {
    case Type.Utf8: case Type.Dictionary: return 'string';
    case Type.Int: return 'integer';
    case Type.Float: return 'float';
    case Type.Bool: return 'boolean';
    case Type.Binary: return 'binary';
    case Type.Timestamp: return 'timestamp';
    case Type.List: return { type: 'array', elementType: deltaType((type as List).valueType), containsNull: false };
    default: throw new Error(`deltaType: no Delta type for ${type}`);
  }
}

/** The table schema in the protocol's JSON format (includes the partition column). */
export function schemaString(): string {
  return JSON.stringify({
    type: 'struct',
    fields: STEP_FIELDS.map((f) => ({ name: f.name, type: deltaType(f.type), nullable: f.nullable, metadata: {} })),
  });
}

/** The actions of commit 0. */
export function createActions(id: string, now: number): Action[] {
  return [
    { protocol: { minReaderVersion: READER_VERSION, minWriterVersion: WRITER_VERSION } },
    {
      metaData: {
        id, format: { provider: 'parquet', options: {} }, schemaString: schemaString(),
        partitionColumns: [PARTITION_COLUMN], configuration: { [SCHEMA_VERSION_KEY]: String(SCHEMA_VERSION) }, createdTime: now,
      },
    },
    { commitInfo: { timestamp: now, operation: 'CREATE TABLE', operationParameters: { partitionBy: JSON.stringify([PARTITION_COLUMN]) }, engineInfo: 'o2o' } },
  ];
}

/** `_delta_log/00000000000000000007.json` for version 7. */
export function logName(version: number): string {
  return `${String(version).padStart(20, '0')}.json`;
}

// Characters Hive-style partition directories escape (as Spark's escapePathName does).
const ESCAPE = /["#%'*/:=?\\\x7f{}[\]^\x00-\x1f]/g;

/** The directory of a partition on disk: `task=gym_cards%2FNumberLine-v0`. */
export function partitionDir(value: string): string {
  return `${PARTITION_COLUMN}=${value.replace(ESCAPE, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`)}`;
}

/** The `add.path` of a file: the relative path as a URI, so the escaped directory's `%` is encoded again. */
export function encodePath(relative: string): string {
  return relative.split('/').map((seg) => encodeURIComponent(seg).replace(/%3D/g, '=')).join('/');
}

/** The relative path on disk of an `add.path`. */
export function decodePath(uriPath: string): string {
  return decodeURIComponent(uriPath);
}

const MAX_STRING_STAT = 32;

/** A string statistic cut to 32 characters: a prefix is still a lower bound; an upper bound gets a high tail. */
function cutString(s: string, upper: boolean): string {
  const chars = [...s];
  if (chars.length <= MAX_STRING_STAT) return s;
  const prefix = chars.slice(0, MAX_STRING_STAT).join('');
  return upper ? `${prefix}\u{10FFFF}` : prefix;
}

function compareBytes(a: Uint8Array, a0: number, a1: number, b: Uint8Array, b0: number, b1: number): number {
  const n = Math.min(a1 - a0, b1 - b0);
  for (let i = 0; i < n; i++) {
    const d = a[a0 + i] - b[b0 + i];
    if (d) return d;
  }
  return (a1 - a0) - (b1 - b0);
}

const decoder = new TextDecoder();

/** min/max of one column chunk, or null when it has no valid value or no Delta statistic (bool, binary, lists). */
function columnMinMax(d: Data): [number | string, number | string] | null {
  const valid = (i: number) => d.nullCount === 0 || d.getValid(i);
  switch (d.typeId) {
    case Type.Int: case Type.Float: {
      const v = d.values as Int32Array | Float32Array;
      let lo = Infinity; let hi = -Infinity;
      for (let i = 0; i < d.length; i++) if (valid(i)) { if (v[i] < lo) lo = v[i]; if (v[i] > hi) hi = v[i]; }
      return lo <= hi ? [lo, hi] : null;
    }
    case Type.Timestamp: {
      const v = d.values as BigInt64Array;
      let lo: bigint | null = null; let hi: bigint | null = null;
      for (let i = 0; i < d.length; i++) if (valid(i)) { if (lo === null || v[i] < lo) lo = v[i]; if (hi === null || v[i] > hi) hi = v[i]; }
      return lo === null ? null : [new Date(Number(lo)).toISOString(), new Date(Number(hi)).toISOString()];
    }
    case Type.Utf8: {
      const off = d.valueOffsets as Int32Array;
      const bytes = d.values as Uint8Array;
      let lo = -1; let hi = -1;
      for (let i = 0; i < d.length; i++) {
        if (!valid(i)) continue;
        if (lo < 0 || compareBytes(bytes, off[i], off[i + 1], bytes, off[lo], off[lo + 1]) < 0) lo = i;
        if (hi < 0 || compareBytes(bytes, off[i], off[i + 1], bytes, off[hi], off[hi + 1]) > 0) hi = i;
      }
      if (lo < 0) return null;
      return [decoder.decode(bytes.subarray(off[lo], off[lo + 1])), decoder.decode(bytes.subarray(off[hi], off[hi + 1]))];
    }
    case Type.Dictionary: {
      const idx = d.values as Int32Array;
      const used = new Set<number>();
      for (let i = 0; i < d.length; i++) if (valid(i)) used.add(idx[i]);
      const words = [...used].map((k) => d.dictionary!.get(k) as string).sort(compareUtf8);
      return words.length ? [words[0], words[words.length - 1]] : null;
    }
    default: return null;
  }
}

/** Orders strings by their UTF-8 bytes (= by code point), as Delta/Spark compare strings. */
export function compareUtf8(a: string, b: string): number {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return Buffer.compare(x, y);
}

/**
 * Delta statistics of one part file's rows (`table` holds the file's columns, i.e. without the partition
 * column). min/max for numbers, strings and timestamps; nullCount for every column.
 */
export function fileStats(table: Table): FileStats {
  const stats: FileStats = { numRecords: table.numRows, minValues: {}, maxValues: {}, nullCount: {} };
  for (const f of STEP_FIELDS) {
    if (f.name === PARTITION_COLUMN) continue; // not in the data file: its value is in partitionValues
    const col = table.getChild(f.name);
    if (!col) throw new Error(`fileStats: the part has no column ${f.name}`);
    let nulls = 0;
    let lo: number | string | undefined;
    let hi: number | string | undefined;
    for (const d of col.data) {
      nulls += d.nullCount;
      const mm = columnMinMax(d);
      if (!mm) continue;
      const less = (a: number | string, b: number | string) => (typeof a === 'string' ? compareUtf8(a, b as string) < 0 : a < (b as number));
      if (lo === undefined || less(mm[0], lo)) lo = mm[0];
      if (hi === undefined || less(hi, mm[1])) hi = mm[1];
    }
    stats.nullCount[f.name] = nulls;
    if (lo !== undefined && hi !== undefined) {
      const isTime = DataType.isTimestamp(f.type);
      stats.minValues[f.name] = typeof lo === 'string' && !isTime ? cutString(lo, false) : lo;
      stats.maxValues[f.name] = typeof hi === 'string' && !isTime ? cutString(hi, true) : hi;
    }
  }
  return stats;
}
