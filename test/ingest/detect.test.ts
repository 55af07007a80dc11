/** Format detection reads the content, never the file name; --format overrides it; the CLI end to end. */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { Table, tableToIPC } from 'apache-arrow';
import { describe, expect, test } from 'vitest';
import { detectFormat } from '../../src/ingest/detect.ts';
import { ingest, planInputs } from '../../src/ingest/ingest.ts';
import { SAMPLES, tableRows, tableState, tempDir } from './helpers.ts';

describe('format detection', () => {
  test('each sample folder or file is recognised', () => {
    expect(detectFormat(path.join(SAMPLES, 'jsonl', 'steps.jsonl'))).toBe('jsonl');
    expect(detectFormat(path.join(SAMPLES, 'jsonl', 'images', fs.readdirSync(path.join(SAMPLES, 'jsonl', 'images'))[0]))).toBe('image');
    expect(detectFormat(path.join(SAMPLES, 'parquet', 'steps.parquet'))).toBe('parquet');
    expect(detectFormat(path.join(SAMPLES, 'arrow', 'steps.arrow'))).toBe('arrow');
    expect(detectFormat(path.join(SAMPLES, 'rl4vlm', 'log.jsonl'))).toBe('rl4vlm');
    expect(detectFormat(path.join(SAMPLES, 'minari-hdf5'))).toBe('minari');
    expect(detectFormat(path.join(SAMPLES, 'minari-hdf5', 'data', 'main_data.hdf5'))).toBe('minari');
    expect(detectFormat(path.join(SAMPLES, 'minari-parquet'))).toBe('minari');
    expect(detectFormat(path.join(SAMPLES, 'minari-arrow'))).toBe('minari');
    expect(detectFormat(path.join(SAMPLES, 'lerobot'))).toBe('lerobot');
  });

  test('the content wins over the extension', async () => {
    const dir = tempDir();
    const parquetNamedJsonl = path.join(dir, 'steps.jsonl');
    fs.copyFileSync(path.join(SAMPLES, 'parquet', 'steps.parquet'), parquetNamedJsonl);
    const jsonlNamedParquet = path.join(dir, 'steps.parquet');
    fs.copyFileSync(path.join(SAMPLES, 'rl4vlm', 'log.jsonl'), jsonlNamedParquet);
    expect(detectFormat(parquetNamedJsonl)).toBe('parquet');
    expect(detectFormat(jsonlNamedParquet)).toBe('rl4vlm');
    // The Arrow IPC stream format (not only the file format) is recognised and imported.
    const arrowTable = (await import('apache-arrow')).tableFromIPC(fs.readFileSync(path.join(SAMPLES, 'arrow', 'steps.arrow')));
    const stream = path.join(dir, 'steps.bin');
    fs.writeFileSync(stream, tableToIPC(new Table(arrowTable.batches), 'stream'));
    expect(detectFormat(stream)).toBe('arrow');
    const root = path.join(dir, 'store');
    const r = await ingest([stream], { dataset: 'd', root, quiet: true });
    expect(r.rows).toBe(arrowTable.numRows);
  });

  test('unknown content is a problem naming the file and --format', () => {
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, 'notes.txt'), 'hello\n');
    fs.writeFileSync(path.join(dir, 'other.json'), '{"a": 1}\n');
    const { inputs, problems } = planInputs([dir]);
    expect(inputs).toEqual([]);
    expect(problems.map((p) => `${path.basename(p.file)}:${p.field}`)).toEqual(['notes.txt:(format)', 'other.json:(format)']);
    expect(problems[0].expected).toMatch(/--format/);
  });

  test('--format forces the reader: an RL4VLM log read as canonical JSONL fails on its fields', async () => {
    const dir = tempDir();
    let message = '';
    try {
      await ingest([path.join(SAMPLES, 'rl4vlm', 'log.jsonl')], { dataset: 'd', root: dir, format: 'jsonl', quiet: true });
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toMatch(/log\.jsonl:1: prompt: expected no such field/);
    expect((await tableState(dir, 'd')).exists).toBe(false);
  });

  test('--map renames source columns; --source and --task fill rows that have none', async () => {
    const dir = tempDir();
    const src = (await import('apache-arrow')).tableFromIPC(fs.readFileSync(path.join(SAMPLES, 'arrow', 'steps.arrow')));
    const keep = src.schema.fields.map((f) => f.name).filter((n) => !['task', 'source', 'created_at', 'policy_version'].includes(n));
    const renamed = new Table(Object.fromEntries(keep.map((n) => [n === 'reward' ? 'r' : n, src.getChild(n)!])));
    const file = path.join(dir, 'renamed.arrow');
    fs.writeFileSync(file, tableToIPC(renamed, 'file'));
    const root = path.join(dir, 'store');
    await ingest([file], { dataset: 'd', root, quiet: true, map: { r: 'reward' }, source: 'teacher', task: 'gym_cards/Blackjack-v0' });
    const rows = await tableRows(root, 'd', ['reward', 'source', 'task', 'policy_version']);
    expect(rows.map((x) => x.reward)).toEqual(Array.from(src.getChild('reward')!));
    expect(new Set(rows.map((x) => x.source))).toEqual(new Set(['teacher']));
    expect(new Set(rows.map((x) => x.task))).toEqual(new Set(['gym_cards/Blackjack-v0']));
    expect(new Set(rows.map((x) => x.policy_version))).toEqual(new Set([-1]));
  });
});

describe('o2o ingest (CLI, end to end)', () => {
  const cli = (args: string[]) => spawnSync(process.execPath, ['bin/o2o.mjs', 'ingest', ...args], { encoding: 'utf8' });

  test('imports a shipped sample, then refuses the same rows again with every duplicate named', async () => {
    const root = tempDir();
    const ok = cli([path.join(SAMPLES, 'minari-parquet'), '--dataset', 'demo', '--root', root, '--quiet']);
    expect(ok.stderr).toBe('');
    expect(ok.status).toBe(0);
    expect(ok.stdout).toMatch(/^imported 63 steps in 12 episodes \(minari\) into demo: version 1$/m);
    const again = cli([path.join(SAMPLES, 'minari-parquet'), '--dataset', 'demo', '--root', root, '--quiet']);
    expect(again.status).toBe(1);
    expect(again.stderr).toMatch(/the import was rejected \(63 problems\); nothing was committed/);
    expect(again.stderr).toMatch(/datasets\/samples\/minari-parquet\/data\/0\/part-0\.parquet:1: step: expected a step not already in episode "gym_cards\/numberline-mixed-jpeg-v0\/episode_0", got 0 \(already in the table\)/);
    expect((await tableState(root, 'demo')).version).toBe(1);
  });

  test('usage errors: a missing --dataset, an unknown --format', () => {
    expect(cli([path.join(SAMPLES, 'jsonl')]).stderr).toMatch(/--dataset NAME is required/);
    const bad = cli([path.join(SAMPLES, 'jsonl'), '--dataset', 'x', '--format', 'csv']);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/--format: expected one of jsonl, parquet, arrow, minari, lerobot, rl4vlm, got "csv"/);
  });
});
