/**
 * The ingest driver: find the inputs and their formats, read every candidate row, validate all of them
 * (schema types, image bytes that decode, episodes whose steps are 0..n-1 without duplicates), and only
 * when nothing is wrong append the rows to the table in ONE commit. Any problem rejects the whole import
 * with every problem listed (file, row, field, expected, got); the table is not touched.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { RecordBatch } from 'apache-arrow';
import { RejectedError, type Problem } from '../store/problems.ts';
import { episodeProblems, validateRow, type StepKey } from '../store/validate.ts';
import type { StepRow } from '../store/schema.ts';
import { Progress } from '../util/progress.ts';
import { completeRow } from './complete.ts';
import { detectFormat, minariDataDir } from './detect.ts';
import { imageDefect } from './images.ts';
import { IMPORTERS } from './importers.ts';
import { FORMATS, type FormatName, type ReadContext } from './types.ts';

export interface IngestOptions {
  dataset: string;
  /** Force a format instead of detecting it. */
  format?: FormatName;
  /** `--source`: the source tag of rows that do not carry one (default "import"). */
  source?: string;
  task?: string;
  /** `--map source_column=step_field` (Parquet / Arrow). */
  map?: Record<string, string>;
  quiet?: boolean;
}

/** One input and the format it will be read as. */
export interface PlannedInput {
  input: string;
  format: FormatName;
}

/** What was read and checked: rows grouped into Arrow batches (empty when there are problems). */
export interface Collected {
  batches: RecordBatch[];
  rows: number;
  episodes: number;
  problems: Problem[];
  inputs: PlannedInput[];
}

/** Converts validated rows to one Arrow batch of the step schema (the store's `rowsToBatch`). */
export type ToBatch = (rows: StepRow[]) => RecordBatch;

const BATCH_ROWS = 2048;

/** How a path is named in problems: relative to the working directory when inside it. */
export function displayPath(p: string): string {
  const rel = path.relative(process.cwd(), p);
  return rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : p;
}

function listFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    if (e.name.startsWith('.')) continue;
    const full = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...listFiles(full));
    else if (e.isFile()) out.push(full);
  }
  return out;
}

/**
 * The inputs to read: dataset folders (Minari, LeRobot) as one input each; other folders file by file
 * (PNG/JPEG files are skipped: logs reference them). An input whose format cannot be told is a problem.
 */
export function planInputs(paths: string[], forced?: FormatName): { inputs: PlannedInput[]; problems: Problem[] } {
  const inputs: PlannedInput[] = [];
  const problems: Problem[] = [];
  const unknown = (p: string, got: string) => problems.push({
    file: displayPath(p), row: 0, field: '(format)',
    expected: `a file or folder in one of the import formats (${FORMATS.join(', ')}); name it with --format if detection fails`, got,
  });
  for (const p of paths) {
    if (!fs.existsSync(p)) { unknown(p, 'no such file or folder'); continue; }
    const isDir = fs.statSync(p).isDirectory();
    if (forced) {
      if (!isDir || forced === 'minari' || forced === 'lerobot') inputs.push({ input: p, format: forced });
      else for (const f of listFiles(p)) if (detectFormat(f) !== 'image') inputs.push({ input: f, format: forced });
      continue;
    }
    const fmt = detectFormat(p);
    if (fmt === 'minari' && isDir) { inputs.push({ input: minariDataDir(p)!, format: 'minari' }); continue; }
    if (fmt !== null && fmt !== 'image') { inputs.push({ input: p, format: fmt }); continue; }
    if (!isDir) { unknown(p, fmt === 'image' ? 'an image file (images are imported through the log that names them)' : 'content of no known format'); continue; }
    for (const f of listFiles(p)) {
      const ff = detectFormat(f);
      if (ff === 'image') continue;
      if (ff === null) unknown(f, 'content of no known format');
      else inputs.push({ input: f, format: ff });
    }
  }
  return { inputs, problems };
}

/** Reads and validates every input; builds batches only while no problem has been found. */
export async function collect(paths: string[], opts: IngestOptions, toBatch: ToBatch, createdAt = Date.now()): Promise<Collected> {
  const { inputs, problems } = planInputs(paths, opts.format);
  const ctx: ReadContext = { task: opts.task, map: opts.map ?? {}, display: displayPath };
  const defaults = { task: opts.task, source: opts.source ?? 'import', createdAt };
  const keys: StepKey[] = [];
  const batches: RecordBatch[] = [];
  let pending: StepRow[] = [];
  const progress = new Progress({ label: `ingest ${opts.dataset}`, unit: 'rows', quiet: opts.quiet });
  let rows = 0;
  for (const { input, format } of inputs) {
    for await (const found of IMPORTERS[format].read(input, ctx)) {
      if (found.kind === 'problem') { problems.push(found.problem); continue; }
      const row = completeRow(found.values, defaults);
      const rowProblems = validateRow(row, found.file, found.row);
      if (!rowProblems.length && row.obs_image !== null) {
        const defect = imageDefect(row.obs_image as Uint8Array);
        if (defect) rowProblems.push({ file: found.file, row: found.row, field: 'obs_image', expected: 'PNG or JPEG bytes that decode', got: defect });
      }
      rows++;
      progress.tick(1);
      if (rowProblems.length) { problems.push(...rowProblems); continue; }
      keys.push({ episode_id: row.episode_id as string, step: row.step as number, task: row.task as string, file: found.file, row: found.row });
      if (problems.length) { pending = []; batches.length = 0; continue; }
      pending.push(row as StepRow);
      if (pending.length >= BATCH_ROWS) { batches.push(toBatch(pending)); pending = []; }
    }
  }
  progress.finish(problems.length ? `${problems.length} problems` : 'checked');
  problems.push(...episodeProblems(keys, new Map()));
  if (rows === 0 && !problems.length) {
    problems.push({ file: paths.map(displayPath).join(', '), row: 0, field: '(rows)', expected: 'at least one step row', got: 'no rows' });
  }
  if (problems.length) return { batches: [], rows, episodes: 0, problems, inputs };
  if (pending.length) batches.push(toBatch(pending));
  return { batches, rows, episodes: new Set(keys.map((k) => k.episode_id)).size, problems, inputs };
}

/** Throws the import's rejection when anything was wrong. */
export function rejectIfProblems(c: Collected): void {
  if (c.problems.length) throw new RejectedError(c.problems, 'the import');
}
