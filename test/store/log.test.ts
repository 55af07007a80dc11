import { describe, expect, test } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { openTable, rowsToBatch, STEP_FIELDS, TableError, type StepTable } from '../../src/store/index.ts';
import { fileStats, type FileStats } from '../../src/store/delta.ts';
import { makeRows, tempRoot } from './fixtures.ts';

async function twoCommits(): Promise<{ table: StepTable; root: string }> {
  const root = tempRoot();
  const table = await openTable(root, 'log', { create: true });
  await table.append([rowsToBatch(makeRows({ episodes: 4, steps: 3, prefix: 'a' }))], { info: { from: 'first' } });
  await table.append([rowsToBatch(makeRows({ episodes: 2, steps: 3, prefix: 'b' }))]);
  return { table, root };
}

const logFile = (table: StepTable, v: number) => path.join(table.dir, '_delta_log', `${String(v).padStart(20, '0')}.json`);
const actions = (table: StepTable, v: number) => fs.readFileSync(logFile(table, v), 'utf8').trim().split('\n').map((l) => JSON.parse(l));

describe('Delta log', () => {
  test('commit 0: protocol 1/2, metaData with the schema string, partition column and schema version', async () => {
    const { table } = await twoCommits();
    const [protocol, meta, info] = actions(table, 0);
    expect(protocol).toEqual({ protocol: { minReaderVersion: 1, minWriterVersion: 2 } });
    expect(meta.metaData.partitionColumns).toEqual(['task']);
    expect(meta.metaData.configuration).toEqual({ 'o2o.schema_version': '1' });
    expect(meta.metaData.format).toEqual({ provider: 'parquet', options: {} });
    const schema = JSON.parse(meta.metaData.schemaString);
    expect(schema.type).toBe('struct');
    expect(schema.fields.map((f: { name: string }) => f.name)).toEqual(STEP_FIELDS.map((f) => f.name));
    const byName = Object.fromEntries(schema.fields.map((f: { name: string; type: unknown; nullable: boolean }) => [f.name, f]));
    expect(byName.source).toEqual({ name: 'source', type: 'string', nullable: false, metadata: {} });
    expect(byName.output_logprobs.type).toEqual({ type: 'array', elementType: 'float', containsNull: false });
    expect(byName.output_tokens.type).toEqual({ type: 'array', elementType: 'integer', containsNull: false });
    expect(byName.created_at.type).toBe('timestamp');
    expect(byName.obs_image).toEqual({ name: 'obs_image', type: 'binary', nullable: true, metadata: {} });
    expect(info.commitInfo.operation).toBe('CREATE TABLE');
  });

  test('add actions: encoded paths, exact sizes, stats that match the data', async () => {
    const { table } = await twoCommits();
    const adds = actions(table, 1).filter((a) => a.add).map((a) => a.add);
    expect(adds.length).toBe(2); // two tasks
    const snap = await table.snapshot(1);
    for (const add of adds) {
      expect(add.dataChange).toBe(true);
      expect(add.path).toMatch(/^task=gym_cards%252F(NumberLine|Blackjack)-v0\/part-\d{5}-[0-9a-f-]{36}\.c000\.zstd\.parquet$/);
      const onDisk = path.join(table.dir, decodeURIComponent(add.path));
      expect(path.basename(path.dirname(onDisk))).toMatch(/^task=gym_cards%2F/);
      expect(fs.statSync(onDisk).size).toBe(add.size);
      expect(add.modificationTime).toBe(Math.floor(fs.statSync(onDisk).mtimeMs));
      const stats = JSON.parse(add.stats) as FileStats;
      const file = snap.files.find((f) => f.path === add.path)!;
      // Stats recomputed from the rows read back through the reader, compared field by field.
      const rows = await snap.read({ filter: { task: file.task } });
      const t = rows.select(STEP_FIELDS.map((f) => f.name).filter((n) => n !== 'task'));
      const fromData = fileStats(t);
      expect(stats.minValues).not.toHaveProperty('task');
      expect(stats).toEqual(fromData);
      expect(stats.numRecords).toBe(6);
      expect(stats.minValues.step).toBe(0);
      expect(stats.maxValues.step).toBe(2);
      expect(stats.nullCount.obs_image).toBe(rows.getChild('obs_image')!.nullCount);
      expect(stats.minValues.created_at).toBe(new Date(Math.min(...Array.from(rows.getChild("created_at")!.toArray() as BigInt64Array, Number))).toISOString());
    }
  });

  test('history, time travel, and the snapshot lists files from the log only', async () => {
    const { table } = await twoCommits();
    const h = await table.history();
    expect(h.map((e) => [e.version, e.operation])).toEqual([[0, 'CREATE TABLE'], [1, 'WRITE'], [2, 'WRITE']]);
    expect(h[1].o2o).toEqual({ from: 'first' });
    expect((await table.snapshot(0)).numRows).toBe(0);
    expect((await table.snapshot(1)).numRows).toBe(12);
    expect((await table.snapshot()).numRows).toBe(18);
    // A half-written part file in a partition folder is not listed (the log does not name it).
    fs.writeFileSync(path.join(table.dir, 'task=gym_cards%2FNumberLine-v0', 'part-99999-half.c000.zstd.parquet'), 'PAR1 not finished');
    expect((await (await table.snapshot()).read()).numRows).toBe(18);
    await expect(table.snapshot(3)).rejects.toThrow(/expected a version in 0\.\.2, got 3/);
  });

  test('a torn log entry is reported with its file and line; earlier versions still read', async () => {
    const { table } = await twoCommits();
    fs.writeFileSync(logFile(table, 3), '{"add":{"path":"x.parquet","partitionVal');
    await expect(table.snapshot()).rejects.toThrow(TableError);
    await expect(table.snapshot()).rejects.toThrow(/00000000000000000003\.json:1: expected a JSON action.*torn.*--version 2/s);
    expect((await table.snapshot(2)).numRows).toBe(18);
  });

  test('a foreign file in the log is reported, not skipped', async () => {
    const { table } = await twoCommits();
    fs.writeFileSync(path.join(table.dir, '_delta_log', 'notes.txt'), 'hello');
    await expect(table.snapshot()).rejects.toThrow(/not Delta log entries: notes\.txt/);
    fs.rmSync(path.join(table.dir, '_delta_log', 'notes.txt'));
    fs.renameSync(logFile(table, 1), path.join(table.dir, '_delta_log', '1.json'));
    await expect(table.snapshot()).rejects.toThrow(/not Delta log entries: 1\.json/);
  });

  test('a gap in the log is reported', async () => {
    const { table } = await twoCommits();
    fs.rmSync(logFile(table, 1));
    await expect(table.snapshot()).rejects.toThrow(/00000000000000000001\.json is missing/);
  });

  test('unknown schema version and unknown protocol versions are refused with a clear error', async () => {
    const { table, root } = await twoCommits();
    const first = fs.readFileSync(logFile(table, 0), 'utf8');
    fs.writeFileSync(logFile(table, 0), first.replace('"o2o.schema_version":"1"', '"o2o.schema_version":"2"'));
    await expect(openTable(root, 'log')).rejects.toThrow(/step schema version "2"; this o2o reads version 1/);
    fs.writeFileSync(logFile(table, 0), first.replace('"minReaderVersion":1', '"minReaderVersion":3'));
    await expect(openTable(root, 'log')).rejects.toThrow(/needs Delta reader version 3; o2o reads version 1 only/);
    fs.writeFileSync(logFile(table, 0), first.replace('"minWriterVersion":2', '"minWriterVersion":7'));
    const t = await openTable(root, 'log');
    expect((await t.snapshot()).numRows).toBe(18);
    await expect(t.append([rowsToBatch(makeRows({ episodes: 1, steps: 1, prefix: 'z' }))])).rejects.toThrow(/writer version 7; o2o writes version 2 only/);
  });

  test('opening a missing dataset says what to do', async () => {
    await expect(openTable(tempRoot(), 'nothing')).rejects.toThrow(/no dataset "nothing" under .*o2o ingest/);
    await expect(openTable(tempRoot(), '../up', { create: true })).rejects.toThrow(/dataset name/);
  });

  test('vacuum removes only part files that no commit references', async () => {
    const { table } = await twoCommits();
    const orphanDir = path.join(table.dir, 'task=gym_cards%2FNumberLine-v0');
    const orphan = path.join(orphanDir, 'part-00000-orphan.c000.zstd.parquet');
    fs.writeFileSync(orphan, 'left by a writer that died');
    const before = (await table.snapshot()).files.map((f) => f.file).sort();
    expect(await table.vacuum({ retentionMs: 60_000 })).toEqual([]); // too young: a writer may still commit it
    expect(await table.vacuum({ retentionMs: 0, dryRun: true })).toEqual(['task=gym_cards%2FNumberLine-v0/part-00000-orphan.c000.zstd.parquet']);
    expect(fs.existsSync(orphan)).toBe(true);
    expect(await table.vacuum({ retentionMs: 0 })).toEqual(['task=gym_cards%2FNumberLine-v0/part-00000-orphan.c000.zstd.parquet']);
    expect(fs.existsSync(orphan)).toBe(false);
    for (const f of before) expect(fs.existsSync(f)).toBe(true);
    expect((await (await table.snapshot()).read()).numRows).toBe(18);
    expect((await (await table.snapshot(1)).read()).numRows).toBe(12);
  });
});
