/**
 * `npm run bench -- ingest [--quick]`: import throughput (rows/s, both passes: check everything, then one
 * append) of each shipped sample into a fresh store, and of a large canonical JSONL file built from the
 * JSONL sample (its episodes repeated under new ids, images inline as data URIs) with the process's peak
 * RSS; and the PNG check every imported image goes through against a full pngjs decode of the same
 * images. Medians of 3 runs (quick: 1 run, a small file).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PNG } from 'pngjs';
import { figure, median, timeRuns, type BenchArgs } from './report.ts';
import { imageDefect } from '../src/ingest/images.ts';
import { ingest } from '../src/ingest/ingest.ts';

const SAMPLES = path.join('datasets', 'samples');
const CASES: [string, string | undefined][] = [
  ['jsonl', undefined], ['parquet', undefined], ['arrow', undefined], ['rl4vlm', undefined],
  ['minari-hdf5', undefined], ['minari-parquet', undefined], ['minari-arrow', undefined], ['lerobot', 'gym_cards/NumberLine-v0'],
];

async function timeImport(input: string, task: string | undefined): Promise<{ ms: number; rows: number }> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'o2o-bench-'));
  try {
    const t0 = performance.now();
    const r = await ingest([input], { dataset: 'b', root, task, quiet: true });
    return { ms: performance.now() - t0, rows: r.rows };
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
}

/** A JSONL file of at least `rows` rows: the sample's lines repeated, episode ids suffixed, images inline. */
function bigJsonl(rows: number, dir: string): string {
  const sampleDir = path.join(SAMPLES, 'jsonl');
  const lines = fs.readFileSync(path.join(sampleDir, 'steps.jsonl'), 'utf8').trim().split('\n').map((l) => {
    const o = JSON.parse(l) as Record<string, unknown>;
    const img = o.obs_image as string;
    if (!img.startsWith('data:')) o.obs_image = `data:image/png;base64,${fs.readFileSync(path.join(sampleDir, img)).toString('base64')}`;
    return o;
  });
  const file = path.join(dir, 'big.jsonl');
  const fd = fs.openSync(file, 'w');
  let n = 0;
  for (let copy = 0; n < rows; copy++) {
    const chunk = lines.map((o) => JSON.stringify({ ...o, episode_id: `${o.episode_id as string}#${copy}` }));
    fs.writeSync(fd, `${chunk.join('\n')}\n`);
    n += chunk.length;
  }
  fs.closeSync(fd);
  return file;
}

/** The import's PNG check (chunks, CRCs, inflated pixel rows) against a full pngjs decode, same images. */
async function pngCheck(runs: number): Promise<void> {
  const dir = path.join(SAMPLES, 'jsonl', 'images');
  const images = fs.readdirSync(dir).map((f) => fs.readFileSync(path.join(dir, f)));
  const check = median(await timeRuns(() => { for (const b of images) imageDefect(new Uint8Array(b)); }, runs)) / images.length;
  const full = median(await timeRuns(() => { for (const b of images) PNG.sync.read(b); }, runs)) / images.length;
  figure({ bench: 'ingest', figure: 'png_check_ms', impl: 'o2o check', images: images.length, value: Math.round(check * 1000) / 1000, unit: 'ms/image' });
  figure({ bench: 'ingest', figure: 'png_check_ms', impl: 'pngjs full decode', images: images.length, value: Math.round(full * 1000) / 1000, unit: 'ms/image' });
  figure({ bench: 'ingest', figure: 'ratio/png_check', value: Math.round((full / check) * 10) / 10, unit: 'x' });
}

export async function run(args: BenchArgs): Promise<void> {
  const runs = args.quick ? 1 : 3;
  await pngCheck(args.quick ? 1 : 5);
  console.log(`ingest: rows/s of a whole import (check + one append), median of ${runs} run(s)`);
  for (const [name, task] of CASES) {
    const times: number[] = [];
    let rows = 0;
    for (let i = 0; i < runs; i++) ({ ms: times[i], rows } = await timeImport(path.join(SAMPLES, name), task));
    const ms = median(times);
    figure({ bench: 'ingest', figure: 'rows_per_s', case: name, rows, value: Math.round(rows / (ms / 1000)), unit: 'rows/s' });
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'o2o-bench-'));
  try {
    const file = bigJsonl(args.quick ? 400 : 20_000, dir);
    const mb = fs.statSync(file).size / 1e6;
    const rssBefore = process.memoryUsage().rss;
    let peak = rssBefore;
    const timer = setInterval(() => { peak = Math.max(peak, process.memoryUsage().rss); }, 50);
    const { ms, rows } = await timeImport(file, undefined);
    clearInterval(timer);
    figure({ bench: 'ingest', figure: 'rows_per_s', case: 'big-jsonl', rows, mb: Math.round(mb), value: Math.round(rows / (ms / 1000)), unit: 'rows/s' });
    figure({ bench: 'ingest', figure: 'mb_per_s', case: 'big-jsonl', rows, value: Math.round((mb / (ms / 1000)) * 10) / 10, unit: 'MB/s' });
    figure({ bench: 'ingest', figure: 'peak_rss_growth', case: 'big-jsonl', rows, mb: Math.round(mb), value: Math.round((peak - rssBefore) / 1e6), unit: 'MB' });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
