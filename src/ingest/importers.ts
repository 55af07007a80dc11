/** Every importer by format name. */
import { jsonlImporter } from './jsonl.ts';
import { lerobotImporter } from './lerobot.ts';
import { minariImporter } from './minari.ts';
import { rl4vlmImporter } from './rl4vlm.ts';
import { arrowImporter, parquetImporter } from './table.ts';
import type { FormatName, Importer } from './types.ts';

export const IMPORTERS: Record<FormatName, Importer> = {
  jsonl: jsonlImporter,
  parquet: parquetImporter,
  arrow: arrowImporter,
  minari: minariImporter,
  lerobot: lerobotImporter,
  rl4vlm: rl4vlmImporter,
};
