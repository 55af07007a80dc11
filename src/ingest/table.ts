/**
 * Parquet and Arrow IPC files with the step table's columns (any subset that covers the required fields;
 * the rest take the documented defaults). `--map source=field` renames a source column to a step field.
 * Wider source types are accepted when the value fits (int64 → int32, double → float32, large strings);
 * the validator checks every value. An image column may hold bytes or a `{bytes, path}` struct.
 */
import { STEP_FIELDS } from '../store/schema.ts';
import { REQUIRED_FIELDS } from './complete.ts';
import { jsValue, openArrow, openParquet, type ColumnarFile } from './columnar.ts';
import { problem, type Found, type Importer, type ReadContext } from './types.ts';

const STEP_NAMES = new Set<string>(STEP_FIELDS.map((f) => f.name));

/** Problems of the columns as a whole (row 0 = the file): unknown, unmapped, missing required columns. */
function columnProblems(file: string, have: string[], types: Map<string, string>, ctx: ReadContext): Found[] {
  const out: Found[] = [];
  for (const [from, to] of Object.entries(ctx.map)) {
    if (!have.includes(from)) out.push(problem(file, 0, from, `a column named ${JSON.stringify(from)} (from --map ${from}=${to})`, `no such column; the columns are ${have.join(', ')}`));
    if (!STEP_NAMES.has(to)) out.push(problem(file, 0, to, `a step field as the target of --map ${from}=${to}`, `an unknown field name`));
  }
  const targets = new Set<string>();
  for (const name of have) {
    const target = ctx.map[name] ?? name;
    if (!STEP_NAMES.has(target)) {
      out.push(problem(file, 0, name, `a step-table column (${[...STEP_NAMES].join(', ')}) or --map ${name}=FIELD`, `an unknown column of type ${types.get(name)}`));
    }
    targets.add(target);
  }
  for (const f of REQUIRED_FIELDS) {
    if (f === 'task' && ctx.task !== undefined) continue;
    if (!targets.has(f)) out.push(problem(file, 0, f, `a column ${JSON.stringify(f)}${f === 'task' ? ' (or --task)' : ''}`, 'no such column (a missing column is never filled with zeros)'));
  }
  return out;
}

async function* readColumnar(open: (f: string) => Promise<ColumnarFile>, what: string, input: string, ctx: ReadContext): AsyncGenerator<Found> {
  const file = ctx.display(input);
  let cf: ColumnarFile;
  try {
    cf = await open(input);
  } catch (e) {
    yield problem(file, 0, '(file)', `a readable ${what} file`, `an unreadable file (${(e as Error).message})`);
    return;
  }
  const names = cf.schema.fields.map((f) => f.name);
  const types = new Map(cf.schema.fields.map((f) => [f.name, String(f.type)]));
  const bad = columnProblems(file, names, types, ctx);
  if (bad.length) { yield* bad; return; }
  const targets = names.map((n) => ctx.map[n] ?? n);
  try {
    for await (const { batch, firstRow } of cf.batches()) {
      const cols = names.map((_, c) => batch.getChildAt(c)!);
      for (let i = 0; i < batch.numRows; i++) {
        const values: Record<string, unknown> = {};
        for (let c = 0; c < cols.length; c++) {
          let v = jsValue(cols[c].get(i));
          if (targets[c] === 'obs_image' && v !== null && typeof v === 'object' && 'bytes' in (v as object)) v = (v as { bytes: unknown }).bytes;
          values[targets[c]] = v;
        }
        yield { kind: 'row', file, row: firstRow + i, values };
      }
    }
  } catch (e) {
    yield problem(file, 0, '(file)', `a readable ${what} file`, `a file that broke off while reading (${(e as Error).message})`);
  }
}

export const parquetImporter: Importer = {
  format: 'parquet',
  read: (input, ctx) => readColumnar(openParquet, 'Parquet', input, ctx),
};

export const arrowImporter: Importer = {
  format: 'arrow',
  read: (input, ctx) => readColumnar(openArrow, 'Arrow IPC', input, ctx),
};
