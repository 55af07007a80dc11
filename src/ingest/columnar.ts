/**
 * Reading columnar files batch by batch: Parquet one row group at a time (the file is opened lazily, never
 * read whole), Arrow IPC (file or stream format) one record batch at a time. Plus the conversion of Arrow
 * cell values to the plain JS values a step row holds.
 */
import fs from 'node:fs';
import { RecordBatchReader, StructRow, Vector, type RecordBatch, type Schema } from 'apache-arrow';
import { tableFromIPC } from 'apache-arrow';
import * as parquet from 'parquet-wasm';

/** A batch and the 1-based row number of its first row in the file. */
export interface NumberedBatch {
  batch: RecordBatch;
  firstRow: number;
}

export interface ColumnarFile {
  schema: Schema;
  /** Total rows, when the format says it up front (Parquet), else null. */
  numRows: number | null;
  batches(): AsyncGenerator<NumberedBatch>;
}

/** Opens a Parquet file; throws (with the reader's message) when the footer or schema is unreadable. */
export async function openParquet(file: string): Promise<ColumnarFile> {
  const pf = await parquet.ParquetFile.fromFile(await fs.openAsBlob(file) as never);
  const meta = pf.metadata();
  const groups = meta.numRowGroups();
  const numRows = meta.fileMetadata().numRows();
  const first = groups > 0 ? tableFromIPC((await pf.read({ rowGroups: [0], limit: 0 })).intoIPCStream()) : null;
  const schema = first?.schema ?? tableFromIPC((await pf.read({ limit: 0 })).intoIPCStream()).schema;
  return {
    schema,
    numRows,
    async *batches() {
      let row = 1;
      for (let g = 0; g < groups; g++) {
        const table = tableFromIPC((await pf.read({ rowGroups: [g] })).intoIPCStream());
        for (const batch of table.batches) {
          yield { batch, firstRow: row };
          row += batch.numRows;
        }
      }
    },
  };
}

/** Opens an Arrow IPC file or stream (read front to back, batch by batch); throws when it is not Arrow. */
export async function openArrow(file: string): Promise<ColumnarFile> {
  const reader = await RecordBatchReader.from(fs.createReadStream(file));
  await reader.open();
  return {
    schema: reader.schema,
    numRows: null,
    async *batches() {
      let row = 1;
      for await (const batch of reader) {
        yield { batch, firstRow: row };
        row += batch.numRows;
      }
    },
  };
}

/**
 * An Arrow cell as a plain JS value: int64 → number (exact up to 2^53, else a string saying so is left to
 * the validator as a bigint), lists → arrays, structs → objects, binary stays Uint8Array.
 */
export function jsValue(v: unknown): unknown {
  if (v === null || v === undefined) return null;
  if (typeof v === 'bigint') return Number.isSafeInteger(Number(v)) ? Number(v) : v;
  if (v instanceof Uint8Array) return v;
  if (v instanceof Date) return v.getTime();
  if (v instanceof Vector) return Array.from(v as Iterable<unknown>, jsValue);
  if (v instanceof StructRow) {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries((v as StructRow).toJSON())) out[k] = jsValue(x);
    return out;
  }
  if (ArrayBuffer.isView(v) && !(v instanceof DataView)) return Array.from(v as unknown as ArrayLike<number | bigint>, (x) => jsValue(x));
  return v;
}
