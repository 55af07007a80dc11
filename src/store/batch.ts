/**
 * Building and reshaping Arrow batches of step rows, with every column derived from STEP_FIELDS.
 */
import { Field, RecordBatch, Schema, Struct, Table, makeData, type Data } from 'apache-arrow';
import { STEP_FIELDS, STEP_SCHEMA, type StepRow } from './schema.ts';
import { buildColumn, gatherColumn, type Pick } from './columns.ts';

/** A batch of the step schema from rows (validate them first with `validateRow`). */
export function rowsToBatch(rows: StepRow[]): RecordBatch {
  const children = STEP_FIELDS.map((f) => buildColumn(f.type, rows.map((r) => r[f.name])));
  return batchOf(STEP_SCHEMA, children, rows.length);
}

/** A record batch of `schema` from its column data. */
export function batchOf(schema: Schema, children: Data[], length: number): RecordBatch {
  const struct = makeData({ type: new Struct(schema.fields as Field[]), length, nullCount: 0, children });
  return new RecordBatch(schema, struct);
}

/**
 * One batch holding the picked rows of several batches of the same schema, in order
 * (`picks[k].idx` null = all rows of `picks[k].batch`).
 */
export function gatherRows(schema: Schema, picks: Array<{ batch: RecordBatch; idx: ArrayLike<number> | null }>): RecordBatch {
  const length = picks.reduce((s, p) => s + (p.idx ? p.idx.length : p.batch.numRows), 0);
  const children = schema.fields.map((f, c) => gatherColumn(f.type, picks.map((p): Pick => ({ data: p.batch.data.children[c], idx: p.idx }))));
  return batchOf(schema, children, length);
}

/** The rows of a table as one batch (concatenated when the table has several). */
export function tableToBatch(table: Table): RecordBatch {
  if (table.batches.length === 1) return table.batches[0];
  return gatherRows(table.schema, table.batches.map((batch) => ({ batch, idx: null })));
}
