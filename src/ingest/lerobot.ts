/**
 * LeRobot v3 datasets (huggingface/lerobot, `CODEBASE_VERSION = "v3.0"`): `meta/info.json` (features, fps,
 * data_path), `meta/tasks.parquet` (task text → task_index), and `data/chunk-XXX/file-XXX.parquet`
 * holding one row per frame of several episodes (`episode_index`, `frame_index`, `index`, `timestamp`,
 * `task_index`, the `observation.*` features, `action`, `next.reward`, `next.done`).
 *
 * Semantics kept: `next.*` belongs to the frame's action, so the reward of step t is `next.reward` of frame
 * t and `next.done` of frame t says the episode ended after that action. LeRobot has no truncation flag of
 * its own: with a `next.truncated` column (a user feature) truncated = next.truncated and terminated =
 * next.done && !next.truncated; without one, terminated = next.done, and a last frame whose `next.done` is
 * false was cut short: truncated. Image features (dtype "image") are embedded PNG structs
 * `{bytes, path}`, kept byte for byte; the first image feature (info.json order) becomes `obs_image`.
 * Video features (dtype "video", MP4 files) are out of scope: the import stops with a message that names
 * the feature. The frame's task text becomes `obs_text` and, without `--task`, the step's task.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describeValue } from '../store/problems.ts';
import { actionText } from './actions.ts';
import { jsValue, openParquet } from './columnar.ts';
import { problem, type Found, type Importer, type ReadContext } from './types.ts';

interface Feature { dtype: string; shape: number[]; names?: unknown }
interface Info { codebase_version: string; fps: number; features: Record<string, Feature> }

function listParquet(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  const out: string[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...listParquet(full));
    else if (e.name.endsWith('.parquet')) out.push(full);
  }
  return out;
}

/** task_index → task text, from meta/tasks.parquet (pandas writes the index as a column named "task"). */
async function readTasks(root: string): Promise<Map<number, string>> {
  const out = new Map<number, string>();
  const file = path.join(root, 'meta', 'tasks.parquet');
  if (!fs.existsSync(file)) return out;
  const cf = await openParquet(file);
  const textCol = cf.schema.fields.find((f) => f.name === 'task' || f.name === '__index_level_0__')?.name;
  if (!textCol) return out;
  for await (const { batch } of cf.batches()) {
    const idx = batch.getChild('task_index')!;
    const txt = batch.getChild(textCol)!;
    for (let i = 0; i < batch.numRows; i++) out.set(Number(jsValue(idx.get(i))), String(txt.get(i)));
  }
  return out;
}

const REQUIRED = ['episode_index', 'frame_index', 'action', 'next.reward', 'next.done'];
/** Columns that become step fields; the others (index, timestamp, task_index, observation.state, …) go to info. */
const SPENT = new Set(['episode_index', 'frame_index', 'next.reward', 'next.done', 'next.truncated']);

export const lerobotImporter: Importer = {
  format: 'lerobot',
  async *read(root: string, ctx: ReadContext): AsyncIterable<Found> {
    const infoFile = ctx.display(path.join(root, 'meta', 'info.json'));
    let info: Info;
    try {
      info = JSON.parse(fs.readFileSync(path.join(root, 'meta', 'info.json'), 'utf8')) as Info;
    } catch (e) {
      yield problem(infoFile, 0, '(file)', 'meta/info.json of a LeRobot dataset', `an unreadable file (${(e as Error).message})`);
      return;
    }
    if (!/^v3\./.test(String(info.codebase_version))) {
      yield problem(infoFile, 0, 'codebase_version', 'a LeRobot v3 dataset ("v3.0"); convert older ones with lerobot\'s v2.1 → v3.0 converter first', JSON.stringify(info.codebase_version));
      return;
    }
    const features = Object.entries(info.features ?? {});
    const videos = features.filter(([, f]) => f.dtype === 'video');
    for (const [name] of videos) {
      yield problem(infoFile, 0, name, 'image features embedded in Parquet (dtype "image"): video import (MP4) is out of scope for o2o; re-record without video (use_videos=False) or decode the frames into an image feature',
        `the video feature ${JSON.stringify(name)}`);
    }
    if (videos.length) return;
    const imageKey = features.find(([k, f]) => f.dtype === 'image' && k.startsWith('observation.'))?.[0];
    let tasks: Map<number, string>;
    try {
      tasks = await readTasks(root);
    } catch (e) {
      yield problem(ctx.display(path.join(root, 'meta', 'tasks.parquet')), 0, '(file)', 'a readable Parquet file', `an unreadable file (${(e as Error).message})`);
      return;
    }
    const files = listParquet(path.join(root, 'data'));
    if (!files.length) { yield problem(ctx.display(path.join(root, 'data')), 0, '(files)', 'data/chunk-XXX/file-XXX.parquet files', 'none'); return; }
    const name = path.basename(path.resolve(root));
    // A frame is emitted once the next one is seen: whether it is its episode's last decides `truncated`.
    let held: { found: Found & { kind: 'row' }; episode: unknown; done: unknown; truncated: unknown } | null = null;
    const release = (last: boolean): Found => {
      const h = held!;
      if (h.truncated !== undefined) {
        h.found.values.truncated = h.truncated;
        // non-booleans pass through so that the validator reports them
        h.found.values.terminated = typeof h.done === 'boolean' && typeof h.truncated === 'boolean' ? h.done && !h.truncated : h.done;
      } else h.found.values.truncated = last && h.done === false;
      return h.found;
    };
    for (const full of files) {
      const file = ctx.display(full);
      let cf;
      try {
        cf = await openParquet(full);
      } catch (e) {
        yield problem(file, 0, '(file)', 'a readable Parquet file', `an unreadable file (${(e as Error).message})`);
        continue;
      }
      const cols = cf.schema.fields.map((f) => f.name);
      const missing = REQUIRED.filter((c) => !cols.includes(c));
      if (missing.length) {
        for (const c of missing) yield problem(file, 0, c, `a column ${JSON.stringify(c)} (LeRobot ${c.startsWith('next.') ? "per-frame outcome of the frame's action" : 'frame index'})`, 'no such column');
        continue;
      }
      try {
        for await (const { batch, firstRow } of cf.batches()) {
          const get = (c: string, i: number) => { const v = batch.getChild(c); return v ? jsValue(v.get(i)) : undefined; };
          for (let i = 0; i < batch.numRows; i++) {
            const row = firstRow + i;
            const episode = get('episode_index', i);
            if (held && held.episode !== episode) yield release(true);
            else if (held) yield release(false);
            held = null;
            const taskIndex = get('task_index', i);
            const taskText = taskIndex === undefined ? undefined : tasks.get(Number(taskIndex));
            const task = ctx.task ?? taskText;
            const action = get('action', i);
            const text = actionText(task, action);
            let image: unknown = null;
            if (imageKey) {
              const cell = get(imageKey, i) as { bytes?: unknown } | null;
              image = cell && typeof cell === 'object' && 'bytes' in cell ? cell.bytes : cell;
              if (image === null || image === undefined) { yield problem(file, row, imageKey, 'an embedded image {bytes, path} with bytes', describeValue(cell)); continue; }
            }
            const extra: Record<string, unknown> = {};
            for (const c of cols) {
              if (info.features[c]?.dtype === 'image' || SPENT.has(c)) continue;
              extra[c] = get(c, i);
            }
            const done = get('next.done', i);
            const truncated = get('next.truncated', i);
            const found: Found & { kind: 'row' } = {
              kind: 'row', file, row,
              values: {
                episode_id: `${name}/episode_${episode}`, step: get('frame_index', i), task,
                obs_image: image, obs_text: taskText ?? '',
                output_text: text, action_text: text,
                reward: get('next.reward', i), terminated: done, truncated: false,
                info: JSON.stringify({ lerobot: extra }),
              },
            };
            held = { found, episode, done, truncated };
          }
        }
      } catch (e) {
        yield problem(file, 0, '(file)', 'a readable Parquet file', `a file that broke off while reading (${(e as Error).message})`);
      }
    }
    if (held) yield release(true);
  },
};
