/**
 * Minari datasets (Farama), read as Minari's own storages write them (minari/dataset/_storages/):
 *
 * - HDF5 (`data_format: "hdf5"`): `main_data.hdf5` with a group `episode_{id}` per episode holding
 *   `observations` (T+1; a Dict space is a group with one member per key, a Tuple space members
 *   `_index_{i}`, a Text space vlen UTF-8 strings), `actions`, `rewards`, `terminations`, `truncations`
 *   (T each) and `infos` (one JSON text per entry).
 * - Arrow / Parquet (`"arrow"` / `"parquet"`): one folder per episode id with `.arrow` / `.parquet` parts of
 *   T+1 rows; actions, rewards and flags are padded by one row. Dict/Tuple spaces are structs; Box spaces
 *   fixed-size lists (flattened; reshaped by the space), except image spaces in the Parquet layout, which
 *   are JPEG bytes. `infos` is a JSON text per row (arrow) or a struct (parquet).
 *
 * Step t of the step table uses observation t, action t, reward t and flags t. Observation T (the state
 * after the last action) belongs to no step: it is kept in the last step's `info.final_observation`
 * (image as a PNG/JPEG data URI), so that a truncated episode can still be bootstrapped from it.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describeValue } from '../store/problems.ts';
import { actionText } from './actions.ts';
import { jsValue, openArrow, openParquet, type ColumnarFile } from './columnar.ts';
import { encodePng, imageKind } from './images.ts';
import { imageShape, isImageSpace, obsLayout, parseSpace, type ObsLayout, type Space } from './minari_spaces.ts';
import { problem, type Found, type Importer, type ReadContext } from './types.ts';

interface Metadata {
  data_format: string;
  observation_space: Space;
  action_space: Space;
  dataset_id?: string;
  envId?: string;
}

/** One episode as both storages present it: T steps, T+1 observations. */
interface Episode {
  id: number;
  /** How the episode is named in problems. */
  file: string;
  /** Steps (rewards) in the episode. */
  T: number;
  /** Observation t (0..T) decoded by the space, images as raw arrays or encoded bytes. */
  obs(t: number): unknown;
  obsCount: number;
  action(t: number): unknown;
  actionCount: number;
  rewards: ArrayLike<number>;
  terminations: ArrayLike<unknown>;
  truncations: ArrayLike<unknown>;
  info(t: number): unknown;
}

function readMetadata(dataDir: string): Metadata {
  const file = path.join(dataDir, 'metadata.json');
  const raw = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
  let envId: string | undefined;
  if (typeof raw.env_spec === 'string') {
    try { envId = (JSON.parse(raw.env_spec) as { id?: string }).id; } catch { /* an env_spec o2o cannot read names no task */ }
  }
  return {
    data_format: String(raw.data_format),
    observation_space: parseSpace(raw.observation_space, `${file}: observation_space`),
    action_space: parseSpace(raw.action_space, `${file}: action_space`),
    dataset_id: typeof raw.dataset_id === 'string' ? raw.dataset_id : undefined,
    envId,
  };
}

/** An info entry: Minari writes one JSON text per entry; text that is not JSON is kept as text. */
function infoValue(s: string): unknown {
  try {
    return JSON.parse(s);
  } catch {
    return s;
  }
}

/** A value at `keys` inside a decoded observation. */
function at(v: unknown, keys: string[]): unknown {
  return keys.reduce((o, k) => (o as Record<string, unknown>)[k], v);
}

/** Observation minus its image and text parts (what goes to `info.observation`), or undefined if nothing is left. */
function otherParts(obs: unknown, layout: ObsLayout): unknown {
  if (layout.image?.length === 0 || layout.text?.length === 0) return undefined;
  if (typeof obs !== 'object' || obs === null || Array.isArray(obs)) return obs;
  const rest = { ...(obs as Record<string, unknown>) };
  if (layout.image) delete rest[layout.image[0]];
  if (layout.text) delete rest[layout.text[0]];
  return Object.keys(rest).length ? rest : undefined;
}

/** Image bytes of an observation's image part: encoded bytes kept as they are, raw arrays as PNG. */
function imageBytes(v: unknown, space: Extract<Space, { type: 'Box' }>): Uint8Array | { expected: string; got: string } {
  if (v instanceof Uint8Array && imageKind(v) !== null) return v;
  const [h, w, c] = imageShape(space);
  const arr = v as ArrayLike<number>;
  if (!arr || typeof arr.length !== 'number' || arr.length !== h * w * c) {
    return { expected: `a ${h}x${w}x${c} uint8 image (raw) or JPEG/PNG bytes`, got: describeValue(v) };
  }
  return encodePng(arr, h, w, c);
}

function subspaceAt(space: Space, keys: string[]): Space {
  return keys.reduce((s, k) => (s as Extract<Space, { type: 'Dict' }>).subspaces[k], space);
}

function flag(v: unknown): boolean | unknown {
  if (typeof v === 'boolean') return v;
  if (v === 0 || v === 1) return v === 1;
  return v;
}

function dataUri(bytes: Uint8Array): string {
  return `data:image/${imageKind(bytes) === 'jpeg' ? 'jpeg' : 'png'};base64,${Buffer.from(bytes).toString('base64')}`;
}

/** The step rows of one episode (or the problems that stop it). */
function* episodeRows(ep: Episode, meta: Metadata, task: string | undefined): Generator<Found> {
  const { file, T } = ep;
  const counts: [string, number, number][] = [
    ['observations', ep.obsCount, T + 1], ['actions', ep.actionCount, T],
    ['terminations', ep.terminations.length, T], ['truncations', ep.truncations.length, T],
  ];
  let bad = false;
  for (const [name, got, want] of counts) {
    if (got !== want) { yield problem(file, 0, name, `${want} entries (${name === 'observations' ? 'T+1' : 'T'}, with T = ${T} rewards)`, `${got}`); bad = true; }
  }
  if (bad) return;
  const layout = obsLayout(meta.observation_space);
  const imageSpace = layout.image ? subspaceAt(meta.observation_space, layout.image) as Extract<Space, { type: 'Box' }> : null;
  const episodeId = meta.dataset_id ? `${meta.dataset_id}/episode_${ep.id}` : `episode_${ep.id}`;
  const imageOf = (obs: unknown, t: number): Uint8Array | null | Found => {
    if (!layout.image || !imageSpace) return null;
    const b = imageBytes(at(obs, layout.image), imageSpace);
    return b instanceof Uint8Array ? b : problem(file, t + 1, 'obs_image', b.expected, b.got);
  };
  for (let t = 0; t < T; t++) {
    const obs = ep.obs(t);
    const image = imageOf(obs, t);
    if (image !== null && !(image instanceof Uint8Array)) { yield image; continue; }
    const action = ep.action(t);
    const text = actionText(task, action);
    const info: Record<string, unknown> = { minari: { episode: ep.id, action } };
    const stepInfo = ep.info(t);
    if (stepInfo !== undefined) info.info = stepInfo;
    const other = otherParts(obs, layout);
    if (other !== undefined) info.observation = other;
    if (t === T - 1) {
      const last = ep.obs(T);
      const finalImage = imageOf(last, T);
      const final: Record<string, unknown> = {};
      if (finalImage instanceof Uint8Array) final.image = dataUri(finalImage);
      if (layout.text) final.text = at(last, layout.text);
      const rest = otherParts(last, layout);
      if (rest !== undefined) final.observation = rest;
      const lastInfo = ep.info(T);
      if (lastInfo !== undefined) final.info = lastInfo;
      info.final_observation = final;
    }
    yield {
      kind: 'row', file, row: t + 1,
      values: {
        episode_id: episodeId, step: t, task,
        obs_image: image, obs_text: layout.text ? at(obs, layout.text) : '',
        output_text: text, action_text: text,
        reward: ep.rewards[t], terminated: flag(ep.terminations[t]), truncated: flag(ep.truncations[t]),
        info: JSON.stringify(info),
      },
    };
  }
}

// ---- HDF5 storage ----

type H5 = typeof import('h5wasm').default;
let h5: H5 | null = null;
async function h5wasm(): Promise<H5> {
  if (!h5) {
    h5 = (await import('h5wasm/node')).default as unknown as H5;
    await h5.ready;
  }
  return h5;
}

interface H5Node { keys?(): string[]; get?(name: string): H5Node | null; value?: unknown; shape?: number[] | null }

/**
 * Reads an HDF5 member whole (one episode at a time) and returns element t of it, decoded by its space
 * (minari hdf5_storage `_decode_space`): Dict → object by key, Tuple → array of `_index_{i}`, Text → string,
 * image Box → raw uint8 pixels, other Box → array of numbers, Discrete → number.
 */
function h5Reader(node: H5Node, space: Space): (t: number) => unknown {
  if (space.type === 'Dict') {
    const parts = Object.entries(space.subspaces).map(([k, sub]) => [k, h5Reader(node.get!(k)!, sub)] as const);
    return (t) => Object.fromEntries(parts.map(([k, read]) => [k, read(t)]));
  }
  if (space.type === 'Tuple') {
    const parts = space.subspaces.map((sub, i) => h5Reader(node.get!(`_index_${i}`)!, sub));
    return (t) => parts.map((read) => read(t));
  }
  const all = node.value as ArrayLike<unknown>;
  if (space.type === 'Text') return (t) => (all as string[])[t];
  const shape = node.shape ?? [];
  const per = shape.slice(1).reduce((a, b) => a * b, 1);
  if (isImageSpace(space)) return (t) => (all as Uint8Array).subarray(t * per, (t + 1) * per);
  const scalar = space.type === 'Discrete' || shape.length === 1;
  return (t) => {
    const arr = Array.from({ length: per }, (_, j) => jsValue(all[t * per + j]));
    return scalar ? arr[0] : arr;
  };
}

/** Entries along the first axis of an HDF5 member (a Dict/Tuple group: of its first leaf). */
function h5Length(node: H5Node): number {
  if (node.shape) return node.shape[0];
  const first = node.keys?.()[0];
  return first === undefined ? 0 : h5Length(node.get!(first)!);
}

async function* readHdf5(dataDir: string, meta: Metadata, task: string | undefined, ctx: ReadContext): AsyncGenerator<Found> {
  const h5file = path.join(dataDir, 'main_data.hdf5');
  const shown = ctx.display(h5file);
  const lib = await h5wasm();
  let f: InstanceType<H5['File']>;
  try {
    f = new lib.File(h5file, 'r');
  } catch (e) {
    yield problem(shown, 0, '(file)', 'a readable HDF5 file', `an unreadable file (${(e as Error).message})`);
    return;
  }
  try {
    const groups = f.keys().filter((k) => /^episode_\d+$/.test(k)).sort((a, b) => Number(a.slice(8)) - Number(b.slice(8)));
    if (!groups.length) yield problem(shown, 0, '(episodes)', 'groups named episode_{id}', `the groups ${JSON.stringify(f.keys())}`);
    for (const name of groups) {
      const g = f.get(name) as unknown as H5Node;
      const file = `${shown}/${name}`;
      const missing = ['observations', 'actions', 'rewards', 'terminations', 'truncations'].filter((k) => !g.keys!().includes(k));
      if (missing.length) { for (const k of missing) yield problem(file, 0, k, `a member ${JSON.stringify(k)} in the episode group`, 'no such member'); continue; }
      let ep: Episode;
      try {
        const member = (k: string) => g.get!(k)!;
        const rewards = Array.from(member('rewards').value as ArrayLike<number | bigint>, (x) => Number(x));
        const infos = g.keys!().includes('infos') ? member('infos').value as string[] | null : null;
        ep = {
          id: Number(name.slice(8)), file, T: rewards.length,
          obs: h5Reader(member('observations'), meta.observation_space),
          obsCount: h5Length(member('observations')),
          action: h5Reader(member('actions'), meta.action_space),
          actionCount: h5Length(member('actions')),
          rewards,
          terminations: member('terminations').value as ArrayLike<number>,
          truncations: member('truncations').value as ArrayLike<number>,
          info: (t) => (infos && typeof infos[t] === 'string' ? infoValue(infos[t]) : undefined),
        };
      } catch (e) {
        // a member missing from a Dict/Tuple group, an info that is not JSON, …
        yield problem(file, 0, 'observations', 'members laid out as the spaces in metadata.json say (Minari hdf5 storage)', `an episode group that does not fit them (${(e as Error).message})`);
        continue;
      }
      yield* episodeRows(ep, meta, task);
    }
  } finally {
    f.close();
  }
}

// ---- Arrow / Parquet storages ----

/** Decodes one Arrow cell of a Minari column by its space (minari arrow/parquet storage `_decode_space`). */
function decodeArrow(v: unknown, space: Space): unknown {
  return decodeArrowJs(jsValue(v), space);
}

function decodeArrowJs(js: unknown, space: Space): unknown {
  if (space.type === 'Dict') {
    const o = js as Record<string, unknown>;
    return Object.fromEntries(Object.entries(space.subspaces).map(([k, sub]) => [k, decodeArrowJs(o?.[k], sub)]));
  }
  if (space.type === 'Tuple') return space.subspaces.map((sub, i) => decodeArrowJs((js as Record<string, unknown>)?.[String(i)], sub));
  return js;
}

/** `total_steps` of an episode folder's metadata.json (Minari writes it beside the parts), if any. */
function episodeTotalSteps(dir: string): number | undefined {
  try {
    const v = (JSON.parse(fs.readFileSync(path.join(dir, 'metadata.json'), 'utf8')) as { total_steps?: unknown }).total_steps;
    return typeof v === 'number' ? v : undefined;
  } catch {
    return undefined;
  }
}

async function* readColumnarEpisodes(dataDir: string, meta: Metadata, task: string | undefined, ctx: ReadContext): AsyncGenerator<Found> {
  const ext = meta.data_format === 'arrow' ? '.arrow' : '.parquet';
  const open = meta.data_format === 'arrow' ? openArrow : openParquet;
  const dirs = fs.readdirSync(dataDir, { withFileTypes: true })
    .filter((e) => e.isDirectory() && /^\d+$/.test(e.name)).map((e) => e.name).sort((a, b) => Number(a) - Number(b));
  if (!dirs.length) yield problem(ctx.display(dataDir), 0, '(episodes)', 'one folder per episode id (0/, 1/, …)', 'none');
  for (const d of dirs) {
    const parts = fs.readdirSync(path.join(dataDir, d)).filter((n) => n.endsWith(ext) && !n.startsWith('.') && !n.startsWith('_')).sort();
    const cols: Record<string, unknown[]> = {};
    let file = ctx.display(path.join(dataDir, d));
    let broken = false;
    for (const part of parts) {
      const full = path.join(dataDir, d, part);
      file = ctx.display(full);
      let cf: ColumnarFile;
      try {
        cf = await open(full);
        for await (const { batch } of cf.batches()) {
          for (const field of batch.schema.fields) {
            const vec = batch.getChild(field.name)!;
            (cols[field.name] ??= []).push(...Array.from({ length: batch.numRows }, (_, i) => vec.get(i)));
          }
        }
      } catch (e) {
        yield problem(file, 0, '(file)', `a readable ${ext.slice(1)} file`, `an unreadable file (${(e as Error).message})`);
        broken = true;
      }
    }
    if (broken) continue;
    const missing = ['observations', 'actions', 'rewards', 'terminations', 'truncations'].filter((k) => !cols[k]);
    if (missing.length) { for (const k of missing) yield problem(file, 0, k, `a column ${JSON.stringify(k)}`, 'no such column'); continue; }
    const n = cols.observations.length;
    const total = episodeTotalSteps(path.join(dataDir, d));
    if (total !== undefined && total !== n - 1) {
      yield problem(file, 0, 'observations', `${total + 1} rows (T+1, with T = ${total} steps in the episode's metadata.json)`, `${n}`);
      continue;
    }
    const ep: Episode = {
      id: Number(d), file, T: n - 1,
      obs: (t) => decodeArrow(cols.observations[t], meta.observation_space),
      obsCount: n,
      action: (t) => decodeArrow(cols.actions[t], meta.action_space),
      actionCount: n - 1,
      rewards: cols.rewards.slice(0, n - 1).map((x) => Number(jsValue(x))),
      terminations: cols.terminations.slice(0, n - 1).map((x) => jsValue(x)),
      truncations: cols.truncations.slice(0, n - 1).map((x) => jsValue(x)),
      info: (t) => {
        if (!cols.infos) return undefined;
        const v = jsValue(cols.infos[t]);
        return typeof v === 'string' ? infoValue(v) : v;
      },
    };
    yield* episodeRows(ep, meta, task);
  }
}

export const minariImporter: Importer = {
  format: 'minari',
  async *read(input: string, ctx: ReadContext): AsyncIterable<Found> {
    const dataDir = fs.statSync(input).isDirectory() ? input : path.dirname(input);
    const metaFile = ctx.display(path.join(dataDir, 'metadata.json'));
    let meta: Metadata;
    try {
      meta = readMetadata(dataDir);
    } catch (e) {
      yield problem(metaFile, 0, '(file)', "Minari's metadata.json beside the data (data_format, observation_space, action_space)", (e as Error).message);
      return;
    }
    const task = ctx.task ?? meta.envId;
    if (task === undefined) {
      yield problem(metaFile, 0, 'task', 'an env_spec with an id in metadata.json, or --task', 'neither');
      return;
    }
    if (meta.data_format === 'hdf5') yield* readHdf5(dataDir, meta, task, ctx);
    else if (meta.data_format === 'arrow' || meta.data_format === 'parquet') yield* readColumnarEpisodes(dataDir, meta, task, ctx);
    else yield problem(metaFile, 0, 'data_format', 'one of Minari\'s storages: "hdf5", "arrow", "parquet"', JSON.stringify(meta.data_format));
  },
};
