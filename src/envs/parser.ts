/**
 * The gym_cards action parser f (../shared/spec/algorithms.md §1, after RL4VLM's `text_projection`):
 *   1. keep the text from the last `"action":` on (case-insensitive); without one, keep the last character;
 *   2. lower-case it;
 *   3. points tasks: if "10" occurs it is a candidate and is removed, so that it does not also count as "1";
 *   4. every legal action string that occurs is a candidate;
 *   5. exactly one distinct candidate -> that action; zero or several -> a uniformly random legal action
 *      from `rng`, with `valid = false`.
 */
import type { Rng } from '../util/rng.ts';

const MARKER = /"action":/gi;

/**
 * Character offset in `text` where the action part starts: the last `"action":` marker, or the last
 * character when there is none (the reference then parses only that character); 0 for an empty text.
 */
export function actionStart(text: string): number {
  let at = -1;
  for (const m of text.matchAll(MARKER)) at = m.index;
  return at >= 0 ? at : Math.max(0, text.length - 1);
}

export interface ParsedAction {
  id: number;
  text: string;
  valid: boolean;
  /** the distinct legal strings found (empty or several when not valid) */
  candidates: string[];
}

export function parseAction(output: string, actions: readonly string[], points: boolean, rng: Rng): ParsedAction {
  let s = output.slice(actionStart(output)).toLowerCase();
  const found = new Set<string>();
  if (points && s.includes('10')) {
    found.add('10');
    s = s.replaceAll('10', '');
  }
  for (const a of actions) if (s.includes(a)) found.add(a);
  const candidates = [...found];
  if (candidates.length === 1) {
    const id = actions.indexOf(candidates[0]);
    return { id, text: actions[id], valid: true, candidates };
  }
  const id = rng.int(actions.length);
  return { id, text: actions[id], valid: false, candidates };
}
