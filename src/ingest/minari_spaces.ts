/**
 * Minari's serialised Gymnasium spaces (minari/serialization.py: `metadata.json` holds
 * `observation_space` and `action_space` as JSON strings) and how o2o maps an observation onto a step row.
 *
 * Observation mapping: an image space (Box of uint8 with shape [H, W], [H, W, 1|3|4]) becomes `obs_image`;
 * in a Dict space the first image subspace (key order of the space) does, and the first Text subspace
 * becomes `obs_text`; every other part of the observation is kept in `info.observation`.
 */
export type Space =
  | { type: 'Box'; dtype: string; shape: number[]; low?: unknown; high?: unknown }
  | { type: 'Discrete'; n: number; start: number; dtype?: string }
  | { type: 'Text'; max_length: number; min_length: number; charset?: string }
  | { type: 'Dict'; subspaces: Record<string, Space> }
  | { type: 'Tuple'; subspaces: Space[] };

/** Parses a space from metadata.json (a JSON string, or an object in hand-written files). */
export function parseSpace(raw: unknown, what: string): Space {
  const s = typeof raw === 'string' ? JSON.parse(raw) : raw;
  if (typeof s !== 'object' || s === null || typeof (s as { type?: unknown }).type !== 'string') {
    throw new Error(`${what}: expected a serialised Gymnasium space ({"type": "Box" | "Discrete" | "Text" | "Dict" | "Tuple", …}), got ${JSON.stringify(raw)?.slice(0, 80)}`);
  }
  const t = (s as { type: string }).type;
  if (!['Box', 'Discrete', 'Text', 'Dict', 'Tuple'].includes(t)) throw new Error(`${what}: the space type ${JSON.stringify(t)} is not one Minari serialises (Box, Discrete, Text, Dict, Tuple)`);
  return s as Space;
}

export function isImageSpace(s: Space): s is Extract<Space, { type: 'Box' }> {
  if (s.type !== 'Box' || s.dtype !== 'uint8') return false;
  return s.shape.length === 2 || (s.shape.length === 3 && [1, 3, 4].includes(s.shape[2]));
}

/** [height, width, channels] of an image space. */
export function imageShape(s: Extract<Space, { type: 'Box' }>): [number, number, number] {
  return [s.shape[0], s.shape[1], s.shape.length === 3 ? s.shape[2] : 1];
}

/** Where in an observation the image and the text are: a path of Dict keys, [] for the space itself. */
export interface ObsLayout {
  image: string[] | null;
  text: string[] | null;
}

export function obsLayout(space: Space): ObsLayout {
  if (isImageSpace(space)) return { image: [], text: null };
  if (space.type === 'Text') return { image: null, text: [] };
  if (space.type !== 'Dict') return { image: null, text: null };
  let image: string[] | null = null;
  let text: string[] | null = null;
  for (const [k, sub] of Object.entries(space.subspaces)) {
    if (image === null && isImageSpace(sub)) image = [k];
    if (text === null && sub.type === 'Text') text = [k];
  }
  return { image, text };
}
