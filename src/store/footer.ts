/**
 * A Parquet file's footer (https://github.com/apache/parquet-format, FileMetaData in parquet.thrift): its leaf
 * columns with their definition and repetition levels, where each column chunk lies, and the Arrow schema
 * the writer stored under `ARROW:schema`.
 */
import fs from 'node:fs';
import { tableFromIPC, type Schema } from 'apache-arrow';
import { ThriftReader, type ThriftStruct } from './thrift.ts';

/** Parquet physical types (parquet.thrift `Type`). */
export const PhysicalType = { BOOLEAN: 0, INT32: 1, INT64: 2, FLOAT: 4, BYTE_ARRAY: 6 } as const;
/** Parquet codecs (parquet.thrift `CompressionCodec`). */
export const Codec = { UNCOMPRESSED: 0, ZSTD: 6 } as const;

export interface Leaf {
  /** Path from the root, e.g. ['output_tokens', 'list', 'element']. */
  path: string[];
  physical: number;
  /** Repetition of each path element: 0 required, 1 optional, 2 repeated. */
  repetitions: number[];
  maxDef: number;
  maxRep: number;
}

export interface ColumnChunk {
  /** Byte range of the chunk's pages in the file. */
  offset: number;
  size: number;
  codec: number;
  numValues: number;
  /** Bytes of its pages once decompressed. */
  uncompressedSize: number;
}

export interface RowGroup { numRows: number; chunks: ColumnChunk[] }

export interface Footer {
  leaves: Leaf[];
  rowGroups: RowGroup[];
  /** The Arrow schema the writer stored (null when it stored none). */
  arrowSchema: Schema | null;
}

const text = new TextDecoder();

function leaves(schema: ThriftStruct[]): Leaf[] {
  const out: Leaf[] = [];
  let i = 1;
  const walk = (path: string[], reps: number[], def: number, rep: number): void => {
    const e = schema[i++];
    if (!e) throw new Error('parquet footer: schema ends early');
    const repetition = e[3] as number | undefined;
    const d = def + (repetition === 1 || repetition === 2 ? 1 : 0);
    const r = rep + (repetition === 2 ? 1 : 0);
    const p = [...path, text.decode(e[4] as Uint8Array)];
    const rs = [...reps, repetition ?? 0];
    const children = (e[5] as number | undefined) ?? 0;
    if (children === 0) out.push({ path: p, physical: e[1] as number, repetitions: rs, maxDef: d, maxRep: r });
    for (let c = 0; c < children; c++) walk(p, rs, d, r);
  };
  const top = (schema[0][5] as number | undefined) ?? 0;
  for (let c = 0; c < top; c++) walk([], [], 0, 0);
  return out;
}

function arrowSchemaOf(kv: ThriftStruct[] | undefined): Schema | null {
  const entry = kv?.find((e) => text.decode(e[1] as Uint8Array) === 'ARROW:schema');
  if (!entry || !(entry[2] instanceof Uint8Array)) return null;
  return tableFromIPC(Buffer.from(text.decode(entry[2]), 'base64')).schema;
}

/** Parses the footer of the Parquet file open at `fd` (`size` bytes). */
export function readFooter(fd: number, size: number): Footer {
  const tail = Buffer.alloc(8);
  if (size < 12 || fs.readSync(fd, tail, 0, 8, size - 8) !== 8 || tail.toString('latin1', 4) !== 'PAR1') {
    throw new Error('parquet footer: not a Parquet file (no PAR1 at the end)');
  }
  const len = tail.readUInt32LE(0);
  if (len > size - 12) throw new Error(`parquet footer: length ${len} exceeds the file (${size} bytes)`);
  const buf = Buffer.alloc(len);
  fs.readSync(fd, buf, 0, len, size - 8 - len);
  const meta = new ThriftReader(buf).struct();
  const rowGroups = (meta[4] as ThriftStruct[]).map((rg): RowGroup => ({
    numRows: rg[3] as number,
    chunks: (rg[1] as ThriftStruct[]).map((c): ColumnChunk => {
      const m = c[3] as ThriftStruct;
      const data = m[9] as number;
      const dict = m[11] as number | undefined;
      return { offset: dict !== undefined && dict > 0 && dict < data ? dict : data, size: m[7] as number, codec: m[4] as number, numValues: m[5] as number, uncompressedSize: m[6] as number };
    }),
  }));
  return { leaves: leaves(meta[2] as ThriftStruct[]), rowGroups, arrowSchema: arrowSchemaOf(meta[5] as ThriftStruct[] | undefined) };
}
