import { describe, expect, test } from 'vitest';
import { Field, Table } from 'apache-arrow';
import { openTable, rowsToBatch, STEP_FIELDS, validateRow, type StepRow } from '../../src/store/index.ts';
import { makeRows, tempRoot } from './fixtures.ts';

/** A row read back from Arrow as plain values comparable with the input row. */
function plain(table: Table, i: number): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of table.schema.fields as Field[]) {
    const v = table.getChild(f.name)!.get(i);
    out[f.name] = v === null ? null
      : v instanceof Uint8Array ? [...v]
        : typeof v === 'bigint' ? Number(v)
          : typeof v === 'object' && v !== null && 'toArray' in v ? Array.from((v as { toArray(): ArrayLike<number> }).toArray()) : v;
  }
  return out;
}

function expectedRow(r: StepRow): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of STEP_FIELDS) {
    const v = r[f.name];
    out[f.name] = v === null ? null : v instanceof Uint8Array ? [...v] : ArrayBuffer.isView(v) ? [...(v as Int32Array)] : typeof v === 'number' && f.type.toString() === 'Float32' ? Math.fround(v) : v;
  }
  return out;
}

describe('round trip', () => {
  test('every column type, nulls, empty lists and binary come back exactly', async () => {
    const root = tempRoot();
    const rows = makeRows({ episodes: 12, steps: 5 });
    for (const [i, r] of rows.entries()) expect(validateRow(r, 'fixture', i + 1)).toEqual([]);
    const table = await openTable(root, 'rt', { create: true });
    expect(await table.append([])).toEqual({ version: 0, rows: 0 }); // nothing to commit
    const { version, rows: n } = await table.append([rowsToBatch(rows.slice(0, 30)), rowsToBatch([]), rowsToBatch(rows.slice(30))]);
    expect(version).toBe(1);
    expect(n).toBe(rows.length);
    const snap = await table.snapshot();
    expect(snap.numRows).toBe(rows.length);
    const back = await snap.read();
    expect(back.schema.fields.map((f) => `${f.name}:${f.type}:${f.nullable}`)).toEqual(STEP_FIELDS.map((f) => `${f.name}:${f.type}:${f.nullable}`));
    const got = Array.from({ length: back.numRows }, (_, i) => plain(back, i));
    const key = (r: Record<string, unknown>) => `${r.episode_id}/${String(r.step).padStart(4, '0')}`;
    got.sort((a, b) => key(a).localeCompare(key(b)));
    const want = rows.map(expectedRow).sort((a, b) => key(a).localeCompare(key(b)));
    expect(got).toEqual(want);
  });
});
