/**
 * The JavaScript decoder of o2o's part files (src/store/decode.ts) against parquet-wasm (arrow-rs) reading
 * the same files: every column, every row, every row-group selection, bit for bit; and reads through the
 * snapshot and the sampler return exactly the rows and columns asked for.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { randomFillSync } from 'node:crypto';
import * as pq from 'parquet-wasm/node';
import { makeVector, tableFromIPC, tableToIPC, Table, type DataType, type Vector } from 'apache-arrow';
import { openTable, rowsToBatch, STEP_FIELDS, type StepFieldName, type StepRow } from '../../src/store/index.ts';
import { decodeColumns, toData, Unsupported } from '../../src/store/decode.ts';
import { readFile } from '../../src/store/read.ts';
import { makeRows, tempRoot } from './fixtures.ts';

const COLUMNS = STEP_FIELDS.map((f) => f.name).filter((n) => n !== 'task');
const typeOf = (c: string) => STEP_FIELDS.find((f) => f.name === c)!.type as DataType;

/** A value as a comparable string (bytes, lists and bigints spelled out; null distinct from empty). */
function canon(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'bigint') return `${v}n`;
  if (typeof v === 'object' && 'toArray' in (v as object)) return `[${Array.from((v as Vector).toArray() as ArrayLike<number>).join(',')}]`;
  if (ArrayBuffer.isView(v)) return `<${Array.from(v as Uint8Array).join(',')}>`;
  return JSON.stringify(v);
}

function column(v: Vector): string[] {
  return Array.from({ length: v.length }, (_, i) => canon(v.get(i)));
}

/** parquet-wasm's decoding of `columns` of some row groups of `file`, by column. */
async function reference(file: string, columns: string[], rowGroups?: number[]): Promise<Map<string, string[]>> {
  const f = await pq.ParquetFile.fromFile(await fs.openAsBlob(file));
  try {
    const t = tableFromIPC((await f.read({ columns, rowGroups, batchSize: 1 << 30 })).intoIPCStream());
    return new Map(columns.map((c) => [c, column(t.getChild(c)!)]));
  } finally {
    f.free();
  }
}

function decoded(file: string, columns: string[], rowGroups?: number[]): Map<string, string[]> {
  const d = decodeColumns(file, columns, rowGroups);
  return new Map(columns.map((c, i) => [c, column(makeVector(toData(typeOf(c), d.columns[i])))]));
}

function partFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => { for (const e of fs.readdirSync(d, { withFileTypes: true })) { if (e.isDirectory()) walk(path.join(d, e.name)); else if (e.name.endsWith('.parquet')) out.push(path.join(d, e.name)); } };
  walk(dir);
  return out.sort();
}

/** Rows with images of every kind the decoder meets: none, a few bytes, compressible, and incompressible over 128 KiB (several zstd blocks). */
function rowsWithImages(): StepRow[] {
  const rows = makeRows({ episodes: 50, steps: 24, seed: 3 });
  rows.forEach((r, i) => {
    if (i % 97 === 5) r.obs_image = randomFillSync(new Uint8Array(200_000 + i));
    else if (i % 31 === 7) r.obs_image = new Uint8Array(3000).fill(i & 0xff);
  });
  return rows;
}

/** Rows whose token lists are all present and long (600 values: a list chunk spans several pages). */
function denseRows(): StepRow[] {
  return makeRows({ episodes: 30, steps: 20, seed: 5, prefix: 'dense' }).map((r, i) => ({
    ...r,
    output_tokens: Int32Array.from({ length: 600 }, (_, k) => (i * 7919 + k * 31) % 50000),
    output_logprobs: Float32Array.from({ length: 600 }, (_, k) => -((i + k) % 101) / 13),
    action_start: 3,
    tokenizer: 'o2o-bpe-v1',
  }));
}

/** Rows whose images are all incompressible (pages zstd stores as raw blocks, read in place), some over a block (128 KiB). */
function rawImageRows(): StepRow[] {
  return makeRows({ episodes: 3, steps: 12, seed: 6, prefix: 'raw' }).map((r, i) => ({
    ...r, obs_image: i % 7 === 3 ? null : randomFillSync(new Uint8Array(i % 2 ? 150_000 + i : 9_000 + i)),
  }));
}

/** The same rows written by parquet-wasm with its defaults (dictionary pages for every column, lists too). */
async function withDefaults(file: string, out: string, props?: pq.WriterProperties): Promise<string> {
  const f = await pq.ParquetFile.fromFile(await fs.openAsBlob(file));
  const t = tableFromIPC((await f.read({ batchSize: 1 << 30 })).intoIPCStream());
  f.free();
  fs.writeFileSync(out, pq.writeParquet(pq.Table.fromIPCStream(tableToIPC(new Table(t.batches), 'stream')), props));
  return out;
}

describe('part file decoder', async () => {
  const root = tempRoot();
  const table = await openTable(root, 'dec', { create: true });
  const rows = rowsWithImages();
  await table.append([rowsToBatch(rows.slice(0, 700)), rowsToBatch(rows.slice(700))]);
  const dense = denseRows();
  await table.append([rowsToBatch(dense)]);
  const raw = rawImageRows();
  await table.append([rowsToBatch(raw)]);
  rows.push(...dense, ...raw);
  const files = partFiles(table.dir);
  const zstdProps = () => new pq.WriterPropertiesBuilder().setCompression(pq.Compression.ZSTD).setMaxRowGroupSize(256).build();
  const dictFiles = await Promise.all(files.map((f, i) => withDefaults(f, path.join(root, `dict-${i}.parquet`), zstdProps())));

  test('every column of every part file decodes as parquet-wasm decodes it (also with dictionary pages everywhere)', async () => {
    expect(files.length).toBeGreaterThan(0);
    for (const file of [...files, ...dictFiles]) {
      const want = await reference(file, COLUMNS);
      const got = decoded(file, COLUMNS);
      for (const c of COLUMNS) expect(got.get(c), `${path.basename(file)} ${c}`).toEqual(want.get(c));
    }
  });

  test('row-group selections, in the order given, and column subsets', async () => {
    let file = '';
    for (const f of files) if ((await reference(f, ['step'])).get('step')!.length > 512) file = f;
    expect(file, 'a part file of several row groups').not.toBe('');
    for (const g of [[1], [1, 0], [0]]) {
      const cols = ['obs_image', 'output_tokens', 'source', 'created_at', 'action_valid'];
      expect(decoded(file, cols, g)).toEqual(await reference(file, cols, g));
    }
  });

  test('a file laid out otherwise is refused as unsupported, and reads still succeed through parquet-wasm', async () => {
    const file = files[0];
    const snappyProps = () => new pq.WriterPropertiesBuilder().setCompression(pq.Compression.SNAPPY).build();
    const snappy = await withDefaults(file, path.join(root, 'snappy.parquet'), snappyProps());
    expect(() => decodeColumns(snappy, COLUMNS)).toThrow(Unsupported);
    // A table whose part files are then rewritten with another codec (its own table: workers keep files open).
    const other = await openTable(root, 'dec-snappy', { create: true });
    await other.append([rowsToBatch(rows.slice(0, 300))]);
    const snap = await other.snapshot();
    const before = await snap.read();
    for (const f of snap.files) fs.copyFileSync(await withDefaults(f.file, `${f.file}.snappy`, snappyProps()), f.file);
    const after = await snap.read();
    expect(after.numRows).toBe(300);
    for (const c of STEP_FIELDS.map((f) => f.name)) expect(column(after.getChild(c)!), c).toEqual(column(before.getChild(c)!));
    expect(() => decodeColumns(file, ['no_such_column'])).toThrow(Unsupported);
    const torn = path.join(root, 'torn.parquet');
    fs.writeFileSync(torn, fs.readFileSync(file).subarray(0, 5000));
    expect(() => decodeColumns(torn, COLUMNS)).toThrow(/parquet/);
  });

  test('a read decodes runs of files in the workers: the same rows as the files read one by one, a file laid out otherwise among them', async () => {
    const many = await openTable(root, 'dec-many', { create: true });
    // Six appends over two tasks: twelve part files.
    for (let k = 0; k < 6; k++) await many.append([rowsToBatch(makeRows({ episodes: 6, steps: 5, seed: 20 + k, prefix: `m${k}` }))]);
    const snap = await many.snapshot();
    expect(snap.files.length).toBeGreaterThanOrEqual(6);
    const odd = snap.files[Math.floor(snap.files.length / 2)].file;
    fs.copyFileSync(await withDefaults(odd, `${odd}.snappy`, new pq.WriterPropertiesBuilder().setCompression(pq.Compression.SNAPPY).build()), odd);
    const cols: StepFieldName[] = ['episode_id', 'step', 'task', 'source', 'output_tokens', 'reward'];
    const got = await snap.read({ columns: cols, filter: { source: 'demo' } });
    const want: Vector[][] = [];
    for (const f of snap.files) for (const { batch } of await readFile(f, cols, { source: 'demo' })) want.push(cols.map((c) => batch.getChild(c)!));
    expect(got.numRows).toBe(want.reduce((s, b) => s + b[0].length, 0));
    expect(got.numRows).toBeGreaterThan(0);
    cols.forEach((c, k) => expect(column(got.getChild(c)!), c).toEqual(want.flatMap((b) => column(b[k]))));
  });

  test('snapshot reads and the sampler return exactly the rows and columns asked for', async () => {
    const snap = await table.snapshot();
    const cols: StepFieldName[] = ['episode_id', 'step', 'obs_image', 'output_logprobs'];
    const t = await snap.read({ columns: cols, filter: { source: 'demo' } });
    expect(t.schema.fields.map((f) => f.name)).toEqual(cols);
    const key = (e: string, s: number) => `${e}/${s}`;
    const want = new Map(rows.filter((r) => r.source === 'demo').map((r) => [key(r.episode_id, r.step), r]));
    expect(t.numRows).toBe(want.size);
    for (let i = 0; i < t.numRows; i++) {
      const r = want.get(key(t.getChild('episode_id')!.get(i), t.getChild('step')!.get(i)))!;
      expect(canon(t.getChild('obs_image')!.get(i))).toBe(canon(r.obs_image));
      expect(canon(t.getChild('output_logprobs')!.get(i))).toBe(r.output_logprobs ? `[${Array.from(r.output_logprobs).join(',')}]` : 'null');
    }
    const seen = new Set<string>();
    for await (const mb of snap.sampler({ batchSize: 100, seed: 4, columns: ['episode_id', 'step', 'obs_image'] })) {
      expect(mb.schema.fields.map((f) => f.name)).toEqual(['episode_id', 'step', 'obs_image']);
      for (let i = 0; i < mb.numRows; i++) {
        const k = key(mb.getChild('episode_id')!.get(i), mb.getChild('step')!.get(i));
        expect(seen.has(k)).toBe(false);
        seen.add(k);
        expect(canon(mb.getChild('obs_image')!.get(i))).toBe(canon(rows.find((r) => key(r.episode_id, r.step) === k)!.obs_image));
      }
    }
    expect(seen.size).toBe(rows.length);
  });
});
