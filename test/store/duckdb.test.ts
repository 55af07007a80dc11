import { describe, expect, test } from 'vitest';
import { DuckDBInstance } from '@duckdb/node-api';
import { openTable, rowsToBatch, STEP_FIELDS } from '../../src/store/index.ts';
import { makeRows, tempRoot } from './fixtures.ts';

describe('an independent reader (DuckDB) on the part files', () => {
  test('row count, reward sum and column types match; no partition column inside parts', async () => {
    const root = tempRoot();
    const table = await openTable(root, 'duck', { create: true });
    const rows = [...makeRows({ episodes: 6, steps: 5, prefix: 'a' }), ...makeRows({ episodes: 3, steps: 7, prefix: 'b', seed: 3 })];
    await table.append([rowsToBatch(rows.slice(0, 30))]);
    await table.append([rowsToBatch(rows.slice(30))]);
    const snap = await table.snapshot();
    const files = snap.files.map((f) => `'${f.file.replaceAll("'", "''")}'`).join(', ');
    const instance = await DuckDBInstance.create(':memory:');
    const conn = await instance.connect();
    try {
      const r = await conn.runAndReadAll(`SELECT count(*)::BIGINT, sum(reward)::DOUBLE, count(obs_image)::BIGINT, sum(len(output_tokens))::BIGINT FROM read_parquet([${files}])`);
      const [count, rewardSum, images, tokens] = r.getRows()[0] as [bigint, number, bigint, bigint];
      expect(Number(count)).toBe(rows.length);
      expect(rewardSum).toBeCloseTo(rows.reduce((s, x) => s + x.reward, 0), 5);
      expect(Number(images)).toBe(rows.filter((x) => x.obs_image !== null).length);
      expect(Number(tokens)).toBe(rows.reduce((s, x) => s + (x.output_tokens?.length ?? 0), 0));
      // Physical types per the Delta schema: no unsigned ints, UTC-adjusted millisecond timestamps.
      const schema = await conn.runAndReadAll(`SELECT name, type, logical_type, repetition_type FROM parquet_schema(${files.split(', ')[0]})`);
      const byName = new Map((schema.getRowObjectsJson() as Array<Record<string, string>>).map((x) => [x.name, x]));
      expect(byName.has('task')).toBe(false);
      expect([...byName.keys()].filter((n) => STEP_FIELDS.some((f) => f.name === n))).toEqual(STEP_FIELDS.map((f) => f.name).filter((n) => n !== 'task'));
      expect(byName.get('created_at')!.type).toBe('INT64');
      expect(byName.get('created_at')!.logical_type).toMatch(/isAdjustedToUTC=1.*MILLIS|MILLIS.*isAdjustedToUTC=1/);
      expect(byName.get('step')).toMatchObject({ type: 'INT32', repetition_type: 'REQUIRED' });
      expect(byName.get('action_start')).toMatchObject({ type: 'INT32', repetition_type: 'OPTIONAL' });
      expect(byName.get('reward')!.type).toBe('FLOAT');
      expect(byName.get('obs_image')!.type).toBe('BYTE_ARRAY');
      for (const x of byName.values()) expect(String(x.logical_type ?? '')).not.toMatch(/isSigned=0/);
      const codecs = await conn.runAndReadAll(`SELECT DISTINCT compression FROM parquet_metadata(${files.split(', ')[0]})`);
      expect(codecs.getRows().map((x) => x[0])).toEqual(['ZSTD']);
    } finally {
      conn.closeSync();
      instance.closeSync();
    }
  });
});
