/**
 * The thought/action split of a generated utterance (spec §1): the thought part is the tokens before the
 * last `"action":` marker, the action part is the marker to the end (EOS included). The marker is found in
 * the lower-cased text by characters, as the gym_cards parser does, and mapped to a token through the
 * tokenizer's offsets, so it works whatever the tokenizer merges (the marker may span several tokens or
 * share one with the text before it).
 *
 * No marker: the parser then reads only the last character, so the action part is the token that ends
 * that character, and the rest (EOS) after it.
 */
import type { Tokenizer } from './tokenizer.ts';

export const ACTION_MARKER = '"action":';
const MARKER_RE = /"action":/gi;

/**
 * Index of the first action token. `text` = decode(tokens); `ends`: [n] character ends of each token in
 * `text` (Tokenizer.charEnds). The token holding the marker's first character starts the action part.
 * Returns a value in [0, n]; n only for an empty utterance.
 */
export function actionStartOf(text: string, ends: ArrayLike<number>): number {
  const n = ends.length;
  if (n === 0) return 0;
  // case-insensitive search without lower-casing the text (lower-casing may change its length)
  let m = -1;
  for (const hit of text.matchAll(MARKER_RE)) m = hit.index;
  // the character the action part starts with: the marker's first, or the last character of the text
  const c = m >= 0 ? m : text.length - 1;
  if (c < 0) return 0;
  for (let i = 0; i < n; i++) if (ends[i] > c) return i;
  return n;
}

/** The split for token ids: decodes them and reads the offsets from the tokenizer. */
export function actionStart(tok: Tokenizer, tokens: ArrayLike<number>): number {
  return actionStartOf(tok.decode(tokens), tok.charEnds(tokens));
}
