/**
 * Row validation, derived from STEP_FIELDS: every field's Arrow type gives the type check (integers in
 * int32 range, finite floats, strings, bytes, lists of the element type) and its nullability; RULES add
 * the few constraints a type cannot say (step >= 0, ids non-empty, token and log-prob lists of equal
 * length, action_start inside the tokens, info is JSON).
 *
 * `validateRow` checks one JS row (importers, before building batches); `validateBatch` checks an Arrow
 * batch column by column with the same rules (the store, on every append).
 */
import { DataType, RecordBatch, Type, type Data, type List } from 'apache-arrow';
import { STEP_FIELDS, STEP_SCHEMA } from './schema.ts';
import { describeValue, type Problem } from './problems.ts';

const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;
const FLOAT32_MAX = 3.4028234663852886e38;

/** Fields that must not be empty strings. */
const NON_EMPTY = new Set(['episode_id', 'task', 'source']);
/** Integer fields with a lower bound. */
const MINIMUM: Record<string, number> = { step: 0 };

/** What a field of this type must hold, as words for a problem's `expected`. */
function expectedOf(type: DataType, nullable: boolean): string {
  const base = (() => {
    switch (type.typeId) {
      case Type.Int: return 'an integer in int32 range';
      case Type.Float: return 'a finite number';
      case Type.Bool: return 'true or false';
      case Type.Utf8: case Type.Dictionary: return 'a string';
      case Type.Binary: return 'bytes (Uint8Array)';
      case Type.Timestamp: return 'a time in epoch milliseconds (integer)';
      case Type.List: return `a list of ${expectedOf((type as List).valueType, false).replace(/^an? /, '')}s`;
      default: return String(type);
    }
  })();
  return nullable ? `${base} or null` : base;
}

/** Whether a JS value fits an Arrow type (nulls handled by the caller). */
function fitsType(type: DataType, v: unknown): boolean {
  switch (type.typeId) {
    case Type.Int: return Number.isInteger(v) && (v as number) >= INT32_MIN && (v as number) <= INT32_MAX;
    case Type.Float: return typeof v === 'number' && Number.isFinite(v) && Math.abs(v) <= FLOAT32_MAX;
    case Type.Bool: return typeof v === 'boolean';
    case Type.Utf8: case Type.Dictionary: return typeof v === 'string';
    case Type.Binary: return v instanceof Uint8Array;
    case Type.Timestamp: return Number.isSafeInteger(v);
    case Type.List: {
      if (!Array.isArray(v) && !(ArrayBuffer.isView(v) && !(v instanceof DataView))) return false;
      const elem = (type as List).valueType;
      const a = v as ArrayLike<unknown>;
      for (let i = 0; i < a.length; i++) if (!fitsType(elem, a[i])) return false;
      return true;
    }
    default: return false;
  }
}

/** The row-level rules beyond types, on already type-checked values. `len` is a list's length or null. */
function crossFieldProblems(
  get: (name: string) => unknown, len: (name: string) => number | null, file: string, row: number,
): Problem[] {
  const out: Problem[] = [];
  for (const name of NON_EMPTY) if (get(name) === '') out.push({ file, row, field: name, expected: 'a non-empty string', got: '""' });
  for (const [name, min] of Object.entries(MINIMUM)) {
    const v = get(name) as number;
    if (v < min) out.push({ file, row, field: name, expected: `an integer >= ${min}`, got: String(v) });
  }
  const nTok = len('output_tokens');
  const nLp = len('output_logprobs');
  if (nTok !== null && nLp !== null && nTok !== nLp) {
    out.push({ file, row, field: 'output_logprobs', expected: `one log-prob per output token (${nTok})`, got: `${nLp} log-probs` });
  }
  const start = get('action_start') as number | null;
  if (start !== null && (nTok === null || start < 0 || start > nTok)) {
    out.push({ file, row, field: 'action_start', expected: nTok === null ? 'null when output_tokens is null' : `an index in [0, ${nTok}] (output_tokens has ${nTok})`, got: String(start) });
  }
  const info = get('info') as string | null;
  if (info !== null) {
    try { JSON.parse(info); } catch { out.push({ file, row, field: 'info', expected: 'a JSON text or null', got: describeValue(info) }); }
  }
  return out;
}

/** Every problem of one JS row (a `StepRow` to be). `rowNumber` is the 1-based line/row in `file`. */
export function validateRow(row: unknown, file: string, rowNumber: number): Problem[] {
  if (typeof row !== 'object' || row === null || Array.isArray(row)) {
    return [{ file, row: rowNumber, field: '(row)', expected: 'an object with the step fields', got: describeValue(row) }];
  }
  const r = row as Record<string, unknown>;
  const out: Problem[] = [];
  for (const key of Object.keys(r)) {
    if (!STEP_FIELDS.some((f) => f.name === key)) {
      out.push({ file, row: rowNumber, field: key, expected: `no such field (the step fields are ${STEP_FIELDS.map((f) => f.name).join(', ')})`, got: describeValue(r[key]) });
    }
  }
  for (const f of STEP_FIELDS) {
    const v = r[f.name];
    const ok = v === null ? f.nullable : fitsType(f.type, v);
    if (!ok) out.push({ file, row: rowNumber, field: f.name, expected: expectedOf(f.type, f.nullable), got: describeValue(v) });
  }
  if (out.length) return out;
  const len = (name: string) => (r[name] === null ? null : (r[name] as ArrayLike<unknown>).length);
  return crossFieldProblems((name) => r[name], len, file, rowNumber);
}

/**
 * Every problem of an Arrow batch: its schema must be the step schema (same names, types, order); then
 * each row is checked with the same rules as `validateRow`. `firstRow` is the 1-based row number of the
 * batch's first row in `file`.
 */
export function validateBatch(batch: RecordBatch, file: string, firstRow: number): Problem[] {
  const schemaProblems = compareSchema(batch, file, firstRow);
  if (schemaProblems.length) return schemaProblems;
  const out: Problem[] = [];
  const cols = STEP_FIELDS.map((f, c) => batch.data.children[c]);
  const bad = new Set<number>();
  STEP_FIELDS.forEach((f, c) => {
    const d = cols[c];
    for (const i of badRows(f.type, f.nullable, d)) {
      bad.add(i);
      out.push({ file, row: firstRow + i, field: f.name, expected: expectedOf(f.type, f.nullable), got: describeValue(d.getValid(i) ? batch.getChildAt(c)!.get(i) : null) });
    }
  });
  const byName = new Map(STEP_FIELDS.map((f, c) => [f.name as string, c]));
  const vectors = STEP_FIELDS.map((f, c) => batch.getChildAt(c)!);
  const mayBreak = rowRuleFilter(cols, byName);
  for (let i = 0; i < batch.numRows; i++) {
    if (bad.has(i) || !mayBreak(i)) continue;
    const get = (name: string) => {
      const c = byName.get(name)!;
      return cols[c].getValid(i) ? vectors[c].get(i) : null;
    };
    const len = (name: string) => {
      const d = cols[byName.get(name)!];
      if (!d.getValid(i)) return null;
      const off = d.valueOffsets as Int32Array;
      return off[i + 1] - off[i];
    };
    out.push(...crossFieldProblems(get, len, file, firstRow + i));
  }
  return out;
}

/**
 * A cheap per-row test so the per-row rules (which read strings through the vectors) run only on rows that
 * might break one.
 */
function rowRuleFilter(cols: Data[], byName: Map<string, number>): (i: number) => boolean {
  const emptyTests = [...NON_EMPTY].map((name) => {
    const d = cols[byName.get(name)!];
    if (d.typeId === Type.Dictionary) {
      const dict = d.dictionary!;
      const empty = new Set<number>();
      for (let k = 0; k < dict.length; k++) if (dict.get(k) === '') empty.add(k);
      const idx = d.values as Int32Array;
      return (i: number) => empty.size > 0 && empty.has(idx[i]);
    }
    const o = d.valueOffsets as Int32Array;
    return (i: number) => o[i + 1] === o[i];
  });
  const step = cols[byName.get('step')!].values as Int32Array;
  const tok = cols[byName.get('output_tokens')!];
  const lp = cols[byName.get('output_logprobs')!];
  const a = tok.valueOffsets as Int32Array;
  const b = lp.valueOffsets as Int32Array;
  const start = cols[byName.get('action_start')!];
  const startAt = start.values as Int32Array;
  const info = cols[byName.get('info')!];
  return (i) => {
    if (emptyTests.some((t) => t(i)) || step[i] < MINIMUM.step) return true;
    const tv = tok.getValid(i);
    if (tv !== lp.getValid(i)) return true;
    if (tv && a[i + 1] - a[i] !== b[i + 1] - b[i]) return true;
    if (start.getValid(i) && (!tv || startAt[i] < 0 || startAt[i] > a[i + 1] - a[i])) return true;
    return info.getValid(i);
  };
}

/** Rows of one column whose values break the type (null in a non-null column, non-finite float). */
function badRows(type: DataType, nullable: boolean, d: Data): number[] {
  const out: number[] = [];
  if (!nullable && d.nullCount > 0) for (let i = 0; i < d.length; i++) if (!d.getValid(i)) out.push(i);
  const finite = (values: Float32Array, from: number, to: number) => {
    for (let j = from; j < to; j++) if (!Number.isFinite(values[j])) return false;
    return true;
  };
  if (type.typeId === Type.Float) {
    const v = d.values as Float32Array;
    for (let i = 0; i < d.length; i++) if (d.getValid(i) && !Number.isFinite(v[i])) out.push(i);
  }
  if (type.typeId === Type.List && (type as List).valueType.typeId === Type.Float) {
    const off = d.valueOffsets as Int32Array;
    const v = d.children[0].values as Float32Array;
    if (!finite(v, off[0], off[d.length])) {
      for (let i = 0; i < d.length; i++) if (d.getValid(i) && !finite(v, off[i], off[i + 1])) out.push(i);
    }
  }
  return out;
}

/** The batch's schema must equal the step schema: every field, in order, with the same type. */
function compareSchema(batch: RecordBatch, file: string, row: number): Problem[] {
  const out: Problem[] = [];
  const have = batch.schema.fields;
  for (const f of STEP_SCHEMA.fields) {
    const h = have.find((x) => x.name === f.name);
    if (!h) out.push({ file, row, field: f.name, expected: `a column of type ${f.type}`, got: 'no such column' });
    else if (!sameType(h.type, f.type)) out.push({ file, row, field: f.name, expected: `a column of type ${f.type}`, got: `a column of type ${h.type}` });
  }
  for (const h of have) {
    if (!STEP_SCHEMA.fields.some((f) => f.name === h.name)) out.push({ file, row, field: h.name, expected: 'no such column (not in the step schema)', got: `a column of type ${h.type}` });
  }
  if (!out.length && have.some((h, i) => h.name !== STEP_SCHEMA.fields[i].name)) {
    out.push({ file, row, field: '(columns)', expected: `the step schema's column order (${STEP_SCHEMA.fields.map((f) => f.name).join(', ')})`, got: have.map((h) => h.name).join(', ') });
  }
  return out;
}

/** Type equality that ignores child field names and nullability of list elements. */
export function sameType(a: DataType, b: DataType): boolean {
  return String(a) === String(b) && a.typeId === b.typeId;
}

/** One row's episode key, as the store sees it during an append. `row` is 1-based in `file`. */
export interface StepKey {
  episode_id: string;
  step: number;
  task: string;
  file: string;
  row: number;
}

/**
 * Episode-level integrity of new rows against rows already in the table (`existing`: episode id → its
 * task and the steps it has). Problems: a (episode_id, step) that appears twice (in the new rows or
 * already in the table), an episode whose steps (old and new together) are not 0..n-1 without gaps, an
 * episode that changes task.
 */
export function episodeProblems(keys: StepKey[], existing: Map<string, { task: string; steps: Set<number> }>): Problem[] {
  const out: Problem[] = [];
  const byEpisode = new Map<string, StepKey[]>();
  for (const k of keys) {
    let list = byEpisode.get(k.episode_id);
    if (!list) byEpisode.set(k.episode_id, (list = []));
    list.push(k);
  }
  for (const [id, list] of byEpisode) {
    const old = existing.get(id);
    const seen = new Map<number, StepKey>();
    for (const k of list) {
      const task = old?.task ?? list[0].task;
      if (k.task !== task) {
        out.push({ file: k.file, row: k.row, field: 'task', expected: `the task of the rest of episode ${JSON.stringify(id)} (${JSON.stringify(task)})`, got: JSON.stringify(k.task) });
      }
      const first = seen.get(k.step);
      if (first) {
        out.push({ file: k.file, row: k.row, field: 'step', expected: `a step not already in episode ${JSON.stringify(id)}`, got: `${k.step} (also at ${first.file}:${first.row})` });
      } else if (old?.steps.has(k.step)) {
        out.push({ file: k.file, row: k.row, field: 'step', expected: `a step not already in episode ${JSON.stringify(id)}`, got: `${k.step} (already in the table)` });
      } else seen.set(k.step, k);
    }
    const all = new Set<number>([...(old?.steps ?? []), ...seen.keys()]);
    let max = -1;
    for (const s of all) max = Math.max(max, s);
    if (all.size !== max + 1) {
      const missing: number[] = [];
      for (let s = 0; s <= max && missing.length < 5; s++) if (!all.has(s)) missing.push(s);
      const last = list[list.length - 1];
      out.push({ file: last.file, row: last.row, field: 'step', expected: `episode ${JSON.stringify(id)} to hold steps 0..${max} without gaps`, got: `missing step${missing.length > 1 ? 's' : ''} ${missing.join(', ')}${all.size + missing.length < max + 1 ? ', ...' : ''}` });
    }
  }
  return out;
}
