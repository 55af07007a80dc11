/**
 * `npm run bench -- store [--quick]`: write and read synthetic steps (10 KB incompressible images,
 * 200-token lists and log-probs) through the store, and read the same part files with DuckDB as the
 * reference, in the same run. Figures: write MB/s and peak RSS, full read MB/s (o2o vs DuckDB), projected
 * read without images (o2o vs DuckDB), the CPU seconds of the write and of both reads (all threads), and
 * the mean time (and CPU time) of a seeded shuffled 256-step minibatch with images.
 * MB = 10^6 bytes of Arrow data (uncompressed column buffers).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomFillSync } from 'node:crypto';
import { Binary, Field, Float32, Int32, List, RecordBatch, Table, makeData, tableToIPC } from 'apache-arrow';
import { DuckDBInstance } from '@duckdb/node-api';
import { openTable, STEP_FIELDS, STEP_SCHEMA, type StepFieldName } from '../src/store/index.ts';
import { batchOf } from '../src/store/batch.ts';
import { buildColumn } from '../src/store/columns.ts';
import { encodeParquet } from '../src/store/parquet.ts';
import { PART_BYTES, PART_SCHEMA, ROW_GROUP_ROWS } from '../src/store/parts.ts';
import { figure, median, type BenchArgs } from './report.ts';

const IMAGE_BYTES = 10_240;
const TOKENS = 200;
const STEPS_PER_EPISODE = 20;
const TASKS = ['gym_cards/NumberLine-v0', 'gym_cards/Blackjack-v0'];
const PROMPT = 'You are playing NumberLine. The current position is {p}, the target is {t}. Legal actions: "+", "-". '
  + 'Think step by step and answer in JSON with "thoughts" and "action". ';

// Random bytes drawn once; each batch views a different window, so images stay incompressible and
// distinct within a part (zstd's window is far smaller than the pool) without paying for fresh random
// bytes in the timed loop.
const POOL_BYTES = 96 << 20;
let pool: Uint8Array | null = null;

/** One synthetic batch of `n` steps starting at global step `first`, built column by column. */
export function syntheticBatch(first: number, n: number, task: string): RecordBatch {
  pool ??= randomFillSync(new Uint8Array(POOL_BYTES));
  const start = (first * 7919 * 64) % (POOL_BYTES - n * IMAGE_BYTES);
  const img = pool.subarray(start, start + n * IMAGE_BYTES);
  const imgOffsets = Int32Array.from({ length: n + 1 }, (_, i) => i * IMAGE_BYTES);
  const tokOffsets = Int32Array.from({ length: n + 1 }, (_, i) => i * TOKENS);
  const tokens = new Int32Array(pool.buffer, (start >> 2) << 2, n * TOKENS).map((v) => v & 0x7fff);
  const logprobs = new Float32Array(n * TOKENS);
  for (let i = 0; i < logprobs.length; i++) logprobs[i] = -((tokens[i] % 97) / 17);
  const col = (name: StepFieldName, values: unknown[]) => buildColumn(STEP_FIELDS.find((f) => f.name === name)!.type, values);
  const idx = Array.from({ length: n }, (_, i) => first + i);
  const step = (g: number) => g % STEPS_PER_EPISODE;
  const columns: Record<string, ReturnType<typeof col>> = {
    episode_id: col('episode_id', idx.map((g) => `bench-${String(Math.floor(g / STEPS_PER_EPISODE)).padStart(7, '0')}`)),
    step: col('step', idx.map(step)),
    task: col('task', idx.map(() => task)),
    source: col('source', idx.map((g) => (Math.floor(g / STEPS_PER_EPISODE) % 3 ? 'demo' : 'failure'))),
    policy_version: col('policy_version', idx.map(() => -1)),
    obs_image: makeData({ type: new Binary(), length: n, nullCount: 0, valueOffsets: imgOffsets, data: img }),
    obs_text: col('obs_text', idx.map((g) => PROMPT.replace('{p}', String(g % 13)).replace('{t}', String(g % 7)))),
    output_text: col('output_text', idx.map((g) => `{"thoughts": "move toward ${g % 7}", "action": "${g % 2 ? '+' : '-'}"}`)),
    output_tokens: makeData({ type: new List(new Field('element', new Int32(), false)), length: n, nullCount: 0, valueOffsets: tokOffsets, child: makeData({ type: new Int32(), length: tokens.length, data: tokens }) }),
    output_logprobs: makeData({ type: new List(new Field('element', new Float32(), false)), length: n, nullCount: 0, valueOffsets: tokOffsets, child: makeData({ type: new Float32(), length: logprobs.length, data: logprobs }) }),
    action_start: col('action_start', idx.map((g) => 150 + (g % 50))),
    tokenizer: col('tokenizer', idx.map(() => 'o2o-bpe-v1')),
    action_text: col('action_text', idx.map((g) => (g % 2 ? '+' : '-'))),
    action_valid: col('action_valid', idx.map((g) => g % 10 !== 0)),
    reward: col('reward', idx.map((g) => (step(g) === STEPS_PER_EPISODE - 1 ? (Math.floor(g / STEPS_PER_EPISODE) % 3 ? 1 : 0) : 0))),
    terminated: col('terminated', idx.map((g) => step(g) === STEPS_PER_EPISODE - 1)),
    truncated: col('truncated', idx.map(() => false)),
    value: col('value', idx.map((g) => (g % 5) / 5)),
    info: col('info', idx.map(() => null)),
    created_at: col('created_at', idx.map((g) => 1_700_000_000_000 + g)),
  };
  return batchOf(STEP_SCHEMA, STEP_FIELDS.map((f) => columns[f.name]), n);
}

export async function run(args: BenchArgs): Promise<void> {
  const total = args.quick ? 2_000 : 100_000;
  const batchRows = 1024;
  const runs = args.quick ? 1 : 3;
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'o2o-bench-'));
  try {
    console.log(`store bench: ${total} steps (${IMAGE_BYTES} B images, ${TOKENS}-token lists), ${os.availableParallelism()} cores, load average ${os.loadavg()[0].toFixed(1)}, root ${root}`);
    const table = await openTable(root, 'bench', { create: true });
    let bytes = 0;
    let peakRss = process.memoryUsage().rss;
    const sampler = setInterval(() => { peakRss = Math.max(peakRss, process.memoryUsage().rss); }, 20);
    async function* input() {
      for (let first = 0, b = 0; first < total; first += batchRows, b++) {
        // Each batch ends on an episode boundary so its episodes stay in one task.
        const n = Math.min(batchRows - (batchRows % STEPS_PER_EPISODE), total - first);
        const batch = syntheticBatch(first, n, TASKS[b % TASKS.length]);
        bytes += batch.data.byteLength;
        yield batch;
        first += n - batchRows;
      }
    }
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    await table.append(input());
    const writeS = (performance.now() - t0) / 1000;
    const writeCpu = process.cpuUsage(c0);
    clearInterval(sampler);
    const mb = bytes / 1e6;
    console.log(`write: ${mb.toFixed(0)} MB in ${writeS.toFixed(2)} s (${((writeCpu.user + writeCpu.system) / 1e6).toFixed(1)} CPU s, all threads), peak RSS ${(peakRss / 2 ** 20).toFixed(0)} MiB = ${(peakRss / 1e6).toFixed(0)} MB`);
    figure({ bench: 'store', figure: 'write_mb_s', value: +(mb / writeS).toFixed(1), unit: 'MB/s', steps: total });
    figure({ bench: 'store', figure: 'write_cpu_s', value: +((writeCpu.user + writeCpu.system) / 1e6).toFixed(1), unit: 'CPU s', steps: total });
    figure({ bench: 'store', figure: 'write_peak_rss', value: Math.round(peakRss / 2 ** 20), unit: 'MiB', steps: total });

    // Reference in the same run: parquet-wasm encoding the same kind of parts on this thread alone
    // (no validation, no stats, no disk), over the first quarter of the steps.
    const refSteps = Math.max(batchRows, Math.floor(total / 4));
    let refBytes = 0;
    let refMs = 0;
    let pending: RecordBatch[] = [];
    let pendingBytes = 0;
    const encodePending = () => {
      const t = performance.now();
      encodeParquet(tableToIPC(new Table(PART_SCHEMA, pending), 'stream'), ROW_GROUP_ROWS);
      refMs += performance.now() - t;
      pending = []; pendingBytes = 0;
    };
    for (let first = 0; first < refSteps; first += batchRows) {
      const b = syntheticBatch(first, batchRows, TASKS[0]);
      refBytes += b.data.byteLength;
      const part = batchOf(PART_SCHEMA, b.data.children.filter((_, c) => STEP_FIELDS[c].name !== 'task'), b.numRows);
      pending.push(part);
      pendingBytes += part.data.byteLength;
      if (pendingBytes >= PART_BYTES) encodePending();
    }
    if (pending.length) encodePending();
    const refMbS = refBytes / 1e6 / (refMs / 1000);
    console.log(`reference: parquet-wasm alone, 1 thread, encode only: ${(refBytes / 1e6).toFixed(0)} MB in ${(refMs / 1000).toFixed(2)} s`);
    figure({ bench: 'store', figure: 'write_mb_s', impl: 'parquet-wasm 1 thread encode only', value: +refMbS.toFixed(1), unit: 'MB/s', steps: refSteps });
    figure({ bench: 'store', figure: 'ratio', case: 'write', value: +((mb / writeS) / refMbS).toFixed(2), unit: 'o2o speed/parquet-wasm speed' });

    const snap = await table.snapshot();
    const files = snap.files.map((f) => f.file);
    const diskMb = snap.files.reduce((s, f) => s + f.size, 0) / 1e6;
    console.log(`${files.length} part files, ${diskMb.toFixed(0)} MB on disk`);
    const noImages = STEP_FIELDS.map((f) => f.name).filter((n) => n !== 'obs_image');

    const instance = await DuckDBInstance.create(':memory:');
    const conn = await instance.connect();
    const list = `[${files.map((f) => `'${f.replaceAll("'", "''")}'`).join(', ')}]`;
    const check = await conn.runAndReadAll(`SELECT count(*)::BIGINT, sum(reward)::DOUBLE FROM read_parquet(${list})`);
    const [dCount, dSum] = check.getRows()[0] as [bigint, number];

    // Wall seconds, and CPU seconds of the whole process (every thread: o2o's workers, DuckDB's threads),
    // which a loaded machine disturbs far less than wall time.
    const cpu: Record<string, number> = {};
    const time = async (label: string, fn: () => Promise<unknown>) => {
      const out: number[] = [];
      const cpus: number[] = [];
      const warmup = args.quick ? 0 : 1;
      for (let i = 0; i < runs + warmup; i++) {
        const c = process.cpuUsage();
        const t = performance.now();
        await fn();
        const used = process.cpuUsage(c);
        if (i >= warmup) { out.push(performance.now() - t); cpus.push((used.user + used.system) / 1e6); }
      }
      cpu[label] = median(cpus);
      return median(out) / 1000;
    };
    let full = 0;
    const readS = await time('o2o full', async () => { full = (await snap.read()).numRows; });
    const duckS = await time('duckdb full', () => conn.run(`SELECT * FROM read_parquet(${list})`));
    let projRows = 0;
    const projS = await time('o2o no images', async () => { projRows = (await snap.read({ columns: noImages as StepFieldName[] })).numRows; });
    const duckProjS = await time('duckdb no images', () => conn.run(`SELECT ${noImages.join(', ')} FROM read_parquet(${list})`));
    console.log(`CPU seconds (all threads, median): ${Object.entries(cpu).map(([k, v]) => `${k} ${v.toFixed(2)}`).join(', ')}`);
    const ours = await snap.read({ columns: ['reward'] });
    let sum = 0;
    for (const v of ours.getChild('reward')!.toArray() as Float32Array) sum += v;
    console.log(`rows: o2o ${full} / ${projRows}, DuckDB ${dCount}; reward sum o2o ${sum.toFixed(1)}, DuckDB ${dSum.toFixed(1)} (runs: median of ${runs}${args.quick ? '' : ' after 1 warm-up'})`);
    if (full !== Number(dCount) || Math.abs(sum - dSum) > 1e-3 * Math.max(1, Math.abs(dSum))) throw new Error('store bench: o2o and DuckDB disagree on rows or reward sum');
    figure({ bench: 'store', figure: 'read_full_mb_s', value: +(mb / readS).toFixed(1), unit: 'MB/s', steps: total });
    figure({ bench: 'store', figure: 'read_full_mb_s', impl: 'duckdb', value: +(mb / duckS).toFixed(1), unit: 'MB/s', steps: total });
    figure({ bench: 'store', figure: 'ratio', case: 'read_full', value: +(duckS / readS).toFixed(2), unit: 'o2o speed/duckdb speed' });
    figure({ bench: 'store', figure: 'read_no_images_s', value: +projS.toFixed(3), unit: 's', steps: total });
    figure({ bench: 'store', figure: 'read_no_images_s', impl: 'duckdb', value: +duckProjS.toFixed(3), unit: 's', steps: total });
    figure({ bench: 'store', figure: 'ratio', case: 'read_no_images', value: +(duckProjS / projS).toFixed(2), unit: 'o2o speed/duckdb speed' });
    for (const [c, o2o, duck] of [['read_full', 'o2o full', 'duckdb full'], ['read_no_images', 'o2o no images', 'duckdb no images']]) {
      figure({ bench: 'store', figure: `${c}_cpu_s`, value: +cpu[o2o].toFixed(2), unit: 'CPU s', steps: total });
      figure({ bench: 'store', figure: `${c}_cpu_s`, impl: 'duckdb', value: +cpu[duck].toFixed(2), unit: 'CPU s', steps: total });
    }
    conn.closeSync();
    instance.closeSync();

    const batches = args.quick ? 10 : 100;
    const times: number[] = [];
    let t = performance.now();
    let afterFirst = process.cpuUsage();
    for await (const mbatch of snap.sampler({ batchSize: 256, seed: 7 })) {
      const now = performance.now();
      times.push(now - t);
      if (times.length === 1) afterFirst = process.cpuUsage();
      if (mbatch.getChild('obs_image')!.data.length === 0) throw new Error('no images');
      if (times.length >= batches + 1) break;
      t = performance.now();
    }
    const sampled = process.cpuUsage(afterFirst);
    const mean = times.slice(1).reduce((a, b) => a + b, 0) / Math.max(1, times.length - 1);
    const cpuMs = (sampled.user + sampled.system) / 1e3 / Math.max(1, times.length - 1);
    console.log(`load average at the end: ${os.loadavg()[0].toFixed(1)} (figures are only comparable within one run when the machine is shared)`);
    console.log(`sampler: first minibatch ${times[0].toFixed(1)} ms, then mean ${mean.toFixed(1)} ms (${cpuMs.toFixed(1)} CPU ms) over ${times.length - 1}`);
    figure({ bench: 'store', figure: 'minibatch_256_images_ms', value: +mean.toFixed(2), unit: 'ms', batches: times.length - 1 });
    figure({ bench: 'store', figure: 'minibatch_256_images_cpu_ms', value: +cpuMs.toFixed(2), unit: 'CPU ms', batches: times.length - 1 });
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
}
