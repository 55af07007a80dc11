/**
 * The ingest driver: find the inputs and their formats, then two streaming passes over them.
 * Pass 1 (`check`) reads every candidate row and checks all of them (schema types, image bytes that
 * decode, episodes whose steps are 0..n-1 without duplicates, also against the rows already in the
 * table), keeping only episode keys. Any problem rejects the whole import with every problem listed
 * (file, row, field, expected, got) and nothing written, not even an empty table. Pass 2 reads the inputs
 * again and streams Arrow batches into ONE append (one commit).
 */
import fs from 'node:fs';
import path from 'node:path';
import type { RecordBatch } from 'apache-arrow';
import { episodeProblems, formatProblem, openTable, rowsToBatch, RejectedError, storeRoot, TableError, validateRow, type Problem, type StepKey, type StepRow } from '../store/index.ts';
import { Progress } from '../util/progress.ts';
import { completeRow } from './complete.ts';
import { detectFormat, minariDataDir } from './detect.ts';
import { imageDefect } from './images.ts';
import { IMPORTERS } from './importers.ts';
import { FORMATS, type Found, type FormatName, type ReadContext } from './types.ts';

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

/** What an import did. */
export interface IngestResult {
  version: number;
  rows: number;
  episodes: number;
  inputs: PlannedInput[];
}

const BATCH_ROWS = 2048;
const KEY_FIELDS = new Set(['(row)', 'episode_id', 'step', 'task']);

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

type Existing = Map<string, { task: string; steps: Set<number> }>;

/** (episode_id → task, steps) of the rows already in the table, or an empty map for a new dataset. */
async function existingKeys(root: string, dataset: string): Promise<Existing> {
  const out: Existing = new Map();
  let table;
  try {
    table = await openTable(root, dataset);
  } catch (e) {
    if (e instanceof TableError && /^no dataset/.test(e.message)) return out;
    throw e;
  }
  const snap = await table.snapshot();
  for await (const b of snap.batches({ columns: ['episode_id', 'step', 'task'] })) {
    const ids = b.getChild('episode_id')!;
    const steps = b.getChild('step')!;
    const tasks = b.getChild('task')!;
    for (let i = 0; i < b.numRows; i++) {
      const id = ids.get(i) as string;
      let e = out.get(id);
      if (!e) out.set(id, (e = { task: tasks.get(i) as string, steps: new Set() }));
      e.steps.add(steps.get(i) as number);
    }
  }
  return out;
}

/** Every candidate row of the inputs with the documented defaults filled in, and every reading problem. */
async function* candidates(inputs: PlannedInput[], opts: IngestOptions, createdAt: number): AsyncGenerator<Found> {
  const ctx: ReadContext = { task: opts.task, map: opts.map ?? {}, display: displayPath };
  const defaults = { task: opts.task, source: opts.source ?? 'import', createdAt };
  for (const { input, format } of inputs) {
    for await (const found of IMPORTERS[format].read(input, ctx)) {
      yield found.kind === 'row' ? { ...found, values: completeRow(found.values, defaults) } : found;
    }
  }
}

/**
 * Pass 1: reads every input and checks every row (types, image bytes, episodes against each other and
 * against `existing`). Nothing is kept but the episode keys.
 */
export async function check(inputs: PlannedInput[], opts: IngestOptions, existing: Existing, createdAt: number): Promise<{ problems: Problem[]; rows: number; episodes: number }> {
  const problems: Problem[] = [];
  const keys: StepKey[] = [];
  const progress = new Progress({ label: `ingest ${opts.dataset}: checking`, unit: 'rows', quiet: opts.quiet });
  let rows = 0;
  for await (const found of candidates(inputs, opts, createdAt)) {
    if (found.kind === 'problem') { problems.push(found.problem); continue; }
    const row = found.values;
    const rowProblems = validateRow(row, found.file, found.row);
    if (!rowProblems.length && row.obs_image !== null) {
      const defect = imageDefect(row.obs_image as Uint8Array);
      if (defect) rowProblems.push({ file: found.file, row: found.row, field: 'obs_image', expected: 'PNG or JPEG bytes that decode', got: defect });
    }
    rows++;
    progress.tick(1);
    problems.push(...rowProblems);
    // A row with a usable key still counts for its episode, so that one bad reward does not also read as a gap.
    if (!rowProblems.some((p) => KEY_FIELDS.has(p.field))) keys.push({ episode_id: row.episode_id as string, step: row.step as number, task: row.task as string, file: found.file, row: found.row });
  }
  progress.finish(problems.length ? `${problems.length} problems` : 'ok');
  problems.push(...episodeProblems(keys, existing));
  if (rows === 0 && !problems.length) {
    problems.push({ file: inputs.map((i) => displayPath(i.input)).join(', ') || '(no input)', row: 0, field: '(rows)', expected: 'at least one step row', got: 'no rows' });
  }
  return { problems, rows, episodes: new Set(keys.map((k) => k.episode_id)).size };
}

/** Pass 2: the checked rows again, as Arrow batches of the step schema, streamed into the append. */
async function* batches(inputs: PlannedInput[], opts: IngestOptions, createdAt: number, total: number): AsyncGenerator<RecordBatch> {
  const progress = new Progress({ label: `ingest ${opts.dataset}: writing`, total, unit: 'rows', quiet: opts.quiet });
  let pending: StepRow[] = [];
  for await (const found of candidates(inputs, opts, createdAt)) {
    if (found.kind === 'problem') throw new Error(`${formatProblem(found.problem)} (the input changed while it was imported)`);
    pending.push(found.values as StepRow);
    if (pending.length >= BATCH_ROWS) { progress.tick(pending.length); yield rowsToBatch(pending); pending = []; }
  }
  if (pending.length) { progress.tick(pending.length); yield rowsToBatch(pending); }
  progress.finish();
}

/**
 * Imports `paths` into `<root>/<dataset>`: every row is checked first; with any problem nothing is
 * written (not even an empty table) and a RejectedError lists them all; else ONE commit appends all rows.
 */
export async function ingest(paths: string[], opts: IngestOptions & { root?: string }): Promise<IngestResult> {
  const root = storeRoot(opts.root);
  const createdAt = Date.now();
  const planned = planInputs(paths, opts.format);
  const existing = await existingKeys(root, opts.dataset);
  const checked = await check(planned.inputs, opts, existing, createdAt);
  const problems = [...planned.problems, ...checked.problems];
  if (problems.length) throw new RejectedError(problems, 'the import');
  const table = await openTable(root, opts.dataset, { create: true });
  const formats = [...new Set(planned.inputs.map((i) => i.format))];
  const { version } = await table.append(batches(planned.inputs, opts, createdAt, checked.rows), {
    operation: 'INGEST',
    label: 'ingest',
    info: { formats, inputs: planned.inputs.map((i) => displayPath(i.input)), rows: checked.rows, episodes: checked.episodes },
  });
  return { version, rows: checked.rows, episodes: checked.episodes, inputs: planned.inputs };
}
