/**
 * A corpus of bad inputs: each is rejected with every problem located (file, row, field, expected, got),
 * and the table is unchanged afterwards (same version, same file list, same files on disk); a rejected
 * import into a new dataset creates nothing.
 */
import fs from 'node:fs';
import path from 'node:path';
import { tableFromIPC, tableToIPC, Table, RecordBatch, makeData, Float32, vectorFromArray } from 'apache-arrow';
import * as parquet from 'parquet-wasm';
import { beforeAll, describe, expect, test } from 'vitest';
import { ingest } from '../../src/ingest/ingest.ts';
import { encodePng } from '../../src/ingest/images.ts';
import { formatProblem, RejectedError, type Problem } from '../../src/store/index.ts';
import { SAMPLES, tableState, tempDir } from './helpers.ts';

const PNG = encodePng(new Uint8Array(8 * 8 * 3).fill(200), 8, 8, 3);

function step(episode: string, t: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    episode_id: episode, step: t, task: 'gym_cards/NumberLine-v0', obs_text: 'prompt', output_text: '{"action": "+"}',
    action_text: '+', reward: 0, terminated: false, truncated: false,
    obs_image: `data:image/png;base64,${Buffer.from(PNG).toString('base64')}`, ...extra,
  };
}

/** Runs an import that must fail; returns its problems as formatted lines. */
async function rejected(paths: string[], root: string, opts: { task?: string; format?: 'parquet' } = {}): Promise<string[]> {
  let err: unknown;
  try {
    await ingest(paths, { dataset: 'd', root, quiet: true, ...opts });
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(RejectedError);
  return (err as RejectedError).problems.map((p: Problem) => formatProblem(p));
}

function parquetOf(table: Table): Uint8Array {
  return parquet.writeParquet(parquet.Table.fromIPCStream(tableToIPC(table, 'stream')));
}

function readParquet(file: string): Table {
  return tableFromIPC(parquet.readParquet(new Uint8Array(fs.readFileSync(file))).intoIPCStream());
}

describe('bad inputs are rejected with their location and change nothing', () => {
  let dir: string;
  let root: string;
  let before: Awaited<ReturnType<typeof tableState>>;

  beforeAll(async () => {
    dir = tempDir();
    root = path.join(dir, 'store');
    await ingest([path.join(SAMPLES, 'jsonl')], { dataset: 'd', root, quiet: true });
    before = await tableState(root, 'd');
    expect(before.version).toBe(1);
  });

  async function unchanged(): Promise<void> {
    expect(await tableState(root, 'd')).toEqual(before);
  }

  test('JSONL: every bad line at once (wrong types, NaN reward, not JSON, unreadable image, missing step, duplicate step)', async () => {
    const torn = PNG.subarray(0, PNG.length - 30);
    const lines = [
      step('a', 0),
      step('a', 1, { reward: 'NaN' }),
      step('a', 2, { terminated: 'yes', step: 2 }),
      '{"episode_id": "a", "step": 3,',
      step('a', 3, { obs_image: `data:image/png;base64,${Buffer.from(torn).toString('base64')}` }),
      step('b', 0), step('b', 2, { terminated: true }),
      step('c', 0), step('c', 0, { terminated: true }),
      step('e', 0, { reward: 1.5, step: 0.5 }),
    ].map((l) => (typeof l === 'string' ? l : JSON.stringify(l)));
    const file = path.join(dir, 'bad.jsonl');
    fs.writeFileSync(file, `${lines.join('\n')}\n`);
    const shown = path.relative(process.cwd(), file).startsWith('..') ? file : path.relative(process.cwd(), file);
    const got = await rejected([file], root);
    expect(got).toEqual(expect.arrayContaining([
      `${shown}:2: reward: expected a finite number, got "NaN"`,
      `${shown}:3: terminated: expected true or false, got "yes"`,
      expect.stringMatching(new RegExp(`^${shown.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:4: \\(line\\): expected one JSON object per line, got text that is not JSON`)),
      expect.stringMatching(/:5: obs_image: expected PNG or JPEG bytes that decode, got \d+ bytes of PNG that do not decode/),
      expect.stringMatching(/:7: step: expected episode "b" to hold steps 0\.\.2 without gaps, got missing step 1/),
      expect.stringMatching(/:9: step: expected a step not already in episode "c", got 0 \(also at .*bad\.jsonl:8\)/),
      `${shown}:10: step: expected an integer in int32 range, got 0.5`,
    ]));
    expect(got).toHaveLength(7);
    await unchanged();
  });

  test('a new dataset is not even created by a rejected import', async () => {
    const file = path.join(dir, 'nan.jsonl');
    fs.writeFileSync(file, `${JSON.stringify(step('z', 0, { reward: 'NaN', terminated: true }))}\n`);
    const fresh = path.join(dir, 'fresh');
    await rejected([file], fresh);
    expect(fs.existsSync(path.join(fresh, 'd'))).toBe(false);
  });

  test('duplicate episode/step against the table: the same log imported twice', async () => {
    const got = await rejected([path.join(SAMPLES, 'jsonl')], root);
    expect(got[0]).toMatch(/^datasets\/samples\/jsonl\/steps\.jsonl:1: step: expected a step not already in episode "numberline-000", got 0 \(already in the table\)$/);
    expect(got.length).toBe(146);
    await unchanged();
  });

  test('truncated Parquet', async () => {
    const whole = fs.readFileSync(path.join(SAMPLES, 'parquet', 'steps.parquet'));
    const file = path.join(dir, 'torn.parquet');
    fs.writeFileSync(file, whole.subarray(0, Math.floor(whole.length * 0.6)));
    const got = await rejected([file], root, { format: 'parquet' });
    expect(got).toEqual([expect.stringMatching(/torn\.parquet:0: \(file\): expected a readable Parquet file, got an unreadable file \(.+\)/)]);
    await unchanged();
  });

  test('Parquet with a missing column, and with NaN rewards', async () => {
    const t = readParquet(path.join(SAMPLES, 'parquet', 'steps.parquet'));
    const noReward = t.select(t.schema.fields.map((f) => f.name).filter((n) => n !== 'reward'));
    const missing = path.join(dir, 'missing.parquet');
    fs.writeFileSync(missing, parquetOf(noReward));
    expect(await rejected([missing], root)).toEqual([
      expect.stringMatching(/missing\.parquet:0: reward: expected a column "reward", got no such column/),
    ]);
    await unchanged();

    const batch = t.batches[0];
    const rewards = new Float32Array(batch.numRows).fill(0);
    rewards[3] = NaN;
    rewards[7] = Infinity;
    const i = t.schema.fields.findIndex((f) => f.name === 'reward');
    const children = batch.data.children.map((c, k) => (k === i ? makeData({ type: new Float32(), length: batch.numRows, data: rewards }) : c));
    const nanBatch = new RecordBatch(t.schema, makeData({ type: batch.data.type, length: batch.numRows, children }));
    const nan = path.join(dir, 'nan.parquet');
    fs.writeFileSync(nan, parquetOf(new Table([nanBatch])));
    expect(await rejected([nan], root)).toEqual([
      expect.stringMatching(/nan\.parquet:4: reward: expected a finite number, got NaN$/),
      expect.stringMatching(/nan\.parquet:8: reward: expected a finite number, got Infinity$/),
    ]);
    await unchanged();
  });

  test('Parquet with a column of the wrong type (text where the step number belongs)', async () => {
    const t = readParquet(path.join(SAMPLES, 'parquet', 'steps.parquet'));
    const names = t.schema.fields.map((f) => f.name);
    const stepAsText = vectorFromArray(Array.from(t.getChild('step')!, (v) => `s${v}`));
    const table = new Table({ ...Object.fromEntries(names.map((n) => [n, t.getChild(n)!])), step: stepAsText });
    const file = path.join(dir, 'types.parquet');
    fs.writeFileSync(file, parquetOf(table));
    const got = await rejected([file], root);
    expect(got.length).toBe(t.numRows);
    expect(got[0]).toMatch(/types\.parquet:1: step: expected an integer in int32 range, got "s0"$/);
    await unchanged();
  });

  test('LeRobot with a video feature: out of scope, named', async () => {
    const copy = path.join(dir, 'lerobot-video');
    fs.cpSync(path.join(SAMPLES, 'lerobot'), copy, { recursive: true });
    const infoFile = path.join(copy, 'meta', 'info.json');
    const info = JSON.parse(fs.readFileSync(infoFile, 'utf8'));
    info.features['observation.images.wrist'] = { dtype: 'video', shape: [96, 96, 3], names: ['height', 'width', 'channels'] };
    fs.writeFileSync(infoFile, JSON.stringify(info, null, 4));
    const got = await rejected([copy], root, { task: 'gym_cards/NumberLine-v0' });
    expect(got).toEqual([expect.stringMatching(/lerobot-video\/meta\/info\.json:0: observation\.images\.wrist: expected image features embedded in Parquet \(dtype "image"\): video import \(MP4\) is out of scope for o2o.*, got the video feature "observation\.images\.wrist"$/)]);
    await unchanged();
  });

  test('Minari episode whose observations are not T+1', async () => {
    const copy = path.join(dir, 'minari-short');
    fs.cpSync(path.join(SAMPLES, 'minari-parquet'), copy, { recursive: true });
    // Episode 0 loses its padded last row: T rows of observations for T rewards.
    const part = path.join(copy, 'data', '0', 'part-0.parquet');
    const t = readParquet(part);
    fs.writeFileSync(part, parquetOf(t.slice(0, t.numRows - 1)));
    const got = await rejected([copy], root);
    expect(got).toEqual(expect.arrayContaining([expect.stringMatching(/minari-short\/data\/0\/part-0\.parquet:0: observations: expected (\d+) rows \(T\+1, with T = \d+ steps in the episode's metadata\.json\), got \d+$/)]));
    await unchanged();
  });

  test('Minari HDF5: observations that are not T+1, and a Dict member missing', async () => {
    const h5 = (await import('h5wasm/node')).default;
    await h5.ready;
    const data = path.join(dir, 'minari-bad', 'data');
    fs.mkdirSync(data, { recursive: true });
    fs.copyFileSync(path.join(SAMPLES, 'minari-hdf5', 'data', 'metadata.json'), path.join(data, 'metadata.json'));
    const f = new h5.File(path.join(data, 'main_data.hdf5'), 'w');
    const T = 3;
    const episode = (name: string, obsCount: number, withPrompt: boolean) => {
      const g = f.create_group(name);
      const o = g.create_group('observations');
      o.create_dataset({ name: 'image', data: new Uint8Array(obsCount * 32 * 32 * 3), shape: [obsCount, 32, 32, 3], dtype: '<B' });
      if (withPrompt) o.create_dataset({ name: 'prompt', data: Array.from({ length: obsCount }, (_, i) => `prompt ${i}`) });
      g.create_dataset({ name: 'actions', data: new BigInt64Array(T).fill(1n) });
      g.create_dataset({ name: 'rewards', data: new Float64Array([0, 0, 1]) });
      g.create_dataset({ name: 'terminations', data: new Int8Array([0, 0, 1]) });
      g.create_dataset({ name: 'truncations', data: new Int8Array([0, 0, 0]) });
    };
    episode('episode_0', T, true);
    episode('episode_1', T + 1, false);
    f.close();
    const got = await rejected([path.join(dir, 'minari-bad')], root);
    expect(got).toEqual([
      expect.stringMatching(/minari-bad\/data\/main_data\.hdf5\/episode_0:0: observations: expected 4 entries \(T\+1, with T = 3 rewards\), got 3$/),
      expect.stringMatching(/minari-bad\/data\/main_data\.hdf5\/episode_1:0: observations: expected members laid out as the spaces in metadata\.json say .*, got an episode group that does not fit them/),
    ]);
    await unchanged();
  });
});
