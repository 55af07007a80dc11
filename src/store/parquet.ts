/**
 * Parquet encoding of part files with parquet-wasm (arrow-rs compiled to WebAssembly): zstd, row groups of
 * `rowGroupRows`, no dictionary and no Parquet statistics for the bulk columns (images, token lists),
 * whose values are unique or already compressed.
 */
import * as pq from 'parquet-wasm/node';
import { PARTITION_COLUMN, STEP_FIELDS } from './schema.ts';

const BULK_COLUMNS = ['obs_image', 'output_tokens', 'output_logprobs'];

function writerProperties(rowGroupRows: number): pq.WriterProperties {
  // Per-column settings name top-level columns only (a list's leaf, `output_tokens.list.element`, cannot be
  // named), so dictionaries are off by default and turned on for each column that is not bulk.
  let b = new pq.WriterPropertiesBuilder()
    .setCompression(pq.Compression.ZSTD)
    .setMaxRowGroupSize(rowGroupRows)
    .setCreatedBy('o2o')
    .setDictionaryEnabled(false);
  for (const f of STEP_FIELDS) {
    if (f.name !== PARTITION_COLUMN && !BULK_COLUMNS.includes(f.name)) b = b.setColumnDictionaryEnabled(f.name, true);
  }
  for (const c of BULK_COLUMNS) b = b.setColumnStatisticsEnabled(c, pq.EnabledStatistics.None);
  return b.build();
}

/** Parquet file bytes of an Arrow IPC stream (the part's rows, without the partition column). */
export function encodeParquet(ipc: Uint8Array, rowGroupRows: number): Uint8Array {
  return pq.writeParquet(pq.Table.fromIPCStream(ipc), writerProperties(rowGroupRows));
}
