/**
 * RL4VLM-style agent logs: JSON lines, one per step, as a VLM agent on gym_cards logs them:
 *   {"prompt": "...", "image": "<path | data URI | base64>", "utterance": "{\"thoughts\": \"...\", \"action\": \"+\"}",
 *    "reward": 0, "done": false, "truncated": false, "task": "...", "episode_id": "...", "step": 0, "action": "+"}
 * `prompt`, `image`, `utterance`, `reward` and `done` are required; `truncated` (default false) says that
 * a `done` came from a time limit, so terminated = done && !truncated. Without `episode_id`/`step`,
 * episodes are the runs of lines up to and including each `done`, named `<file name>#<k>`.
 *
 * The action: for a gym_cards task the utterance is parsed with the envs' parser (the legal action after
 * the last `"action":`); when it names no single legal action the row has `action_valid: false` and the
 * played action is the record's `action` if it has one, else the parser's seeded random fallback (seed:
 * episode id and step). For other tasks the utterance's JSON `action` field is taken as text.
 */
import path from 'node:path';
import { TASKS } from '../envs/registry.ts';
import { parseAction } from '../envs/parser.ts';
import { describeValue } from '../store/problems.ts';
import { Rng } from '../util/rng.ts';
import { imageFromString } from './images.ts';
import { parseObjectLine, textLines } from './jsonl.ts';
import { problem, type Found, type Importer, type ReadContext } from './types.ts';

/** The "thoughts" and "action" of an utterance, when it is the JSON the prompt asks for. */
function utteranceJson(u: string): { thoughts?: unknown; action?: unknown } | null {
  const start = u.indexOf('{');
  const end = u.lastIndexOf('}');
  if (start < 0 || end < start) return null;
  try {
    const v = JSON.parse(u.slice(start, end + 1));
    return typeof v === 'object' && v !== null ? v : null;
  } catch {
    return null;
  }
}

export const rl4vlmImporter: Importer = {
  format: 'rl4vlm',
  async *read(input: string, ctx: ReadContext): AsyncIterable<Found> {
    const file = ctx.display(input);
    const dir = path.dirname(input);
    let episode = 0;
    let step = 0;
    for await (const { line, text } of textLines(input)) {
      const parsed = parseObjectLine(file, line, text);
      if ('bad' in parsed) { yield parsed.bad; continue; }
      const r = parsed.value;
      const bad: Found[] = [];
      for (const [k, type] of [['prompt', 'string'], ['image', 'string'], ['utterance', 'string'], ['done', 'boolean']] as const) {
        if (typeof r[k] !== type) bad.push(problem(file, line, k, `a ${type}`, describeValue(r[k])));
      }
      if (r.truncated !== undefined && typeof r.truncated !== 'boolean') bad.push(problem(file, line, 'truncated', 'true, false or nothing', describeValue(r.truncated)));
      const task = (typeof r.task === 'string' ? r.task : undefined) ?? ctx.task;
      const episodeId = r.episode_id ?? `${path.basename(input)}#${episode}`;
      const stepNo = r.step ?? step;
      if (r.done === true) { episode++; step = 0; } else step++;
      let image: Uint8Array | null = null;
      if (typeof r.image === 'string') {
        const img = imageFromString(r.image, dir);
        if ('error' in img) bad.push(problem(file, line, 'image', img.error, describeValue(r.image)));
        else image = img.bytes;
      }
      if (bad.length) { yield* bad; continue; }
      const utterance = r.utterance as string;
      const json = utteranceJson(utterance);
      let actionText: string;
      let valid: boolean;
      const def = TASKS.find((d) => d.id === task);
      if (def) {
        const p = parseAction(utterance, def.actions, def.points, new Rng(`${String(episodeId)}:${String(stepNo)}`));
        valid = p.valid;
        actionText = p.valid || typeof r.action !== 'string' ? p.text : r.action;
        if (!p.valid && typeof r.action === 'string' && !def.actions.includes(r.action)) {
          yield problem(file, line, 'action', `a legal action of ${def.id} (${def.actions.join(' ')})`, describeValue(r.action));
          continue;
        }
      } else if (json && typeof json.action === 'string') {
        actionText = json.action;
        valid = true;
      } else {
        yield problem(file, line, 'utterance', 'a JSON text with an "action" field (or a gym_cards task, whose parser reads any text)', describeValue(utterance));
        continue;
      }
      const truncated = r.truncated === true;
      const info: Record<string, unknown> = {};
      if (json && json.thoughts !== undefined) info.thoughts = json.thoughts;
      yield {
        kind: 'row', file, row: line,
        values: {
          episode_id: episodeId, step: stepNo, task,
          obs_image: image, obs_text: r.prompt, output_text: utterance,
          action_text: actionText, action_valid: valid,
          reward: r.reward, terminated: r.done === true && !truncated, truncated,
          info: JSON.stringify({ rl4vlm: info }),
        },
      };
    }
  },
};
