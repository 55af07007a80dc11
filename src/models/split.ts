/**
 * The thought/action split of a generated utterance (spec §1): the thought part is the tokens before the
 * last `"action":` marker, the action part is the marker to the end (EOS included). The character where
 * the action part starts comes from the gym_cards parser itself (envs/parser.ts `actionStart`: the last
 * marker, case-insensitive, or the last character when there is none, which is all the parser then
 * reads), and is mapped to a token through the tokenizer's offsets, so the split agrees with the parser
 * whatever the tokenizer merges (the marker may span several tokens or share one with the text before it).
 */
import { actionStart as actionCharOf } from '../envs/parser.ts';
import type { Tokenizer } from './tokenizer.ts';

/**
 * Index of the first action token. `text` = decode(tokens); `ends`: [n] character ends of each token in
 * `text` (Tokenizer.charEnds). The token holding the action part's first character starts it; an empty
 * text gives 0 (all generated tokens, e.g. a lone EOS, count as action).
 */
export function actionStartOf(text: string, ends: ArrayLike<number>): number {
  if (text.length === 0) return 0;
  const c = actionCharOf(text);
  for (let i = 0; i < ends.length; i++) if (ends[i] > c) return i;
  return ends.length;
}

/** The split for token ids: decodes them and reads the offsets from the tokenizer. */
export function actionStart(tok: Tokenizer, tokens: ArrayLike<number>): number {
  return actionStartOf(tok.decode(tokens), tok.charEnds(tokens));
}
