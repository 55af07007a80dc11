/**
 * A store worker thread: encodes part files (Arrow IPC → Parquet, written to disk) and decodes them
 * (Parquet → Arrow IPC), so that several parts are encoded or decoded at once, off the main thread.
 * Messages: `WorkerTask` in, `{ id, result }` or `{ id, error }` out.
 */
import fs from 'node:fs';
import { parentPort, type MessagePort } from 'node:worker_threads';
import { tableFromIPC } from 'apache-arrow';
import * as pq from 'parquet-wasm/node';
import { fileStats, type FileStats } from './delta.ts';
import { encodeParquet } from './parquet.ts';
import { buffersOf, decodeColumns, type DecodedColumns } from './decode.ts';

export type WorkerTask =
  /** Write `ipc` (the part's rows without the partition column) as Parquet at `file` (created exclusively). */
  | { kind: 'encode'; file: string; ipc: Uint8Array; rowGroupRows: number }
  /** Read `columns` (all when absent) of the given row groups (all when absent) of `file`. */
  | { kind: 'decode'; file: string; columns?: string[]; rowGroups?: number[] }
  /**
   * Read `columns` of each of `files` in turn, each file's buffers posted to `port` as soon as it is decoded
   * (`FileResult`); the task's result, the number of files, comes after the last.
   */
  | { kind: 'decodeFiles'; files: string[]; columns: string[]; port: MessagePort }
  /** The row counts of the row groups of `file`. */
  | { kind: 'rowGroups'; file: string };

export interface EncodeResult { size: number; stats: FileStats }

/** Decoded rows: column buffers (o2o's own part files) or an Arrow IPC stream (from parquet-wasm). */
export type DecodeResult = { columns: DecodedColumns } | { ipc: Uint8Array };

/** One file of a `decodeFiles` task: its columns, or why the JavaScript decoder did not decode it. */
export type FileResult = { index: number } & ({ columns: DecodedColumns } | { failed: string });

// Open files kept for repeated row-group reads (the sampler reads one file many times).
const open = new Map<string, pq.ParquetFile>();
async function parquetFile(file: string): Promise<pq.ParquetFile> {
  let f = open.get(file);
  if (!f) {
    f = await pq.ParquetFile.fromFile(await fs.openAsBlob(file));
    if (open.size >= 64) {
      const [oldest, handle] = open.entries().next().value!;
      handle.free();
      open.delete(oldest);
    }
    open.set(file, f);
  }
  return f;
}

async function handle(task: WorkerTask): Promise<{ result: unknown; transfer: ArrayBuffer[] }> {
  switch (task.kind) {
    case 'encode': {
      const stats = fileStats(tableFromIPC(task.ipc));
      const bytes = encodeParquet(task.ipc, task.rowGroupRows);
      const fd = fs.openSync(task.file, 'wx');
      try {
        fs.writeSync(fd, bytes);
        fs.fdatasyncSync(fd);
      } finally {
        fs.closeSync(fd);
      }
      return { result: { size: bytes.length, stats } satisfies EncodeResult, transfer: [] };
    }
    case 'decode': {
      if (task.columns) {
        try {
          const columns = decodeColumns(task.file, task.columns, task.rowGroups);
          return { result: { columns } satisfies DecodeResult, transfer: buffersOf(columns) };
        } catch {
          // Another layout, or a damaged file: parquet-wasm decodes it or says what is wrong.
        }
      }
      const f = await parquetFile(task.file);
      const t = await f.read({ columns: task.columns, rowGroups: task.rowGroups, batchSize: 1 << 16 });
      const ipc = t.intoIPCStream();
      return { result: { ipc } satisfies DecodeResult, transfer: [ipc.buffer as ArrayBuffer] };
    }
    case 'decodeFiles': {
      // Each file's buffers leave this thread at once: its own memory stays at one file's.
      for (let index = 0; index < task.files.length; index++) {
        let msg: FileResult;
        try {
          msg = { index, columns: decodeColumns(task.files[index], task.columns) };
        } catch (e) {
          msg = { index, failed: e instanceof Error ? e.message : String(e) };
        }
        task.port.postMessage(msg, 'columns' in msg ? buffersOf(msg.columns) : []);
      }
      return { result: task.files.length, transfer: [] };
    }
    case 'rowGroups': {
      const meta = (await parquetFile(task.file)).metadata();
      const counts: number[] = [];
      for (let i = 0; i < meta.numRowGroups(); i++) counts.push(meta.rowGroup(i).numRows());
      return { result: counts, transfer: [] };
    }
  }
}

parentPort!.on('message', async (msg: { id: number; task: WorkerTask }) => {
  try {
    const { result, transfer } = await handle(msg.task);
    parentPort!.postMessage({ id: msg.id, result }, transfer);
  } catch (e) {
    parentPort!.postMessage({ id: msg.id, error: e instanceof Error ? e.message : String(e) });
  }
});
