/**
 * Hugging Face `tokenizer.json` (+ optional `tokenizer_config.json`) as an o2o {@link Tokenizer}, through
 * @huggingface/tokenizers (pure TypeScript, no native binary, maintained by Hugging Face; it runs BPE,
 * WordPiece, WordLevel and Unigram models with their normalizers, pre-tokenizers and decoders).
 *
 * That library gives no character offsets, so `charEnds` decodes every prefix: ends[i] = length of
 * decode(ids[..i]). O(n²) in the output length, fine for utterances of a few hundred tokens. A prefix can
 * decode longer than its share of the whole (an unfinished byte-level character decodes to U+FFFD), so each
 * end is capped by every later one: ends[i] = min_{j ≥ i} len(decode(ids[..j])).
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Tokenizer as HfTokenizer } from '@huggingface/tokenizers';
import type { SpecialTokens, Tokenizer } from './tokenizer.ts';

export type SpecialNames = Partial<Record<keyof SpecialTokens, string>>;

/**
 * A tokenizer from the parsed JSON of tokenizer.json and tokenizer_config.json. Special tokens are looked up
 * by name: `names` first, then the config's `bos_token` / `eos_token` / `pad_token`, and '<image>' for the
 * image placeholder. `source` names the file in errors.
 */
export function hfTokenizer(tokenizerJson: unknown, config: Record<string, unknown> = {}, names: SpecialNames = {}, source = 'tokenizer.json'): Tokenizer {
  if (typeof tokenizerJson !== 'object' || tokenizerJson === null || !('model' in tokenizerJson)) {
    throw new Error(`${source}: expected a Hugging Face tokenizer.json object with a "model" field`);
  }
  const tok = new HfTokenizer(tokenizerJson, config);
  const vocab = tok.get_vocab(true);
  let vocabSize = 0;
  for (const id of vocab.values()) vocabSize = Math.max(vocabSize, id + 1);

  const configName = (k: string): string | undefined => {
    const v = config[`${k}_token`];
    if (typeof v === 'string') return v;
    if (v && typeof v === 'object' && typeof (v as { content?: unknown }).content === 'string') return (v as { content: string }).content;
    return undefined;
  };
  const resolve = (k: keyof SpecialTokens): number => {
    const name = names[k] ?? configName(k) ?? (k === 'image' ? '<image>' : undefined);
    if (name === undefined) {
      throw new Error(`${source}: no ${k} token: tokenizer_config.json has no "${k}_token"; pass its name (special token names: { ${k}: "..." })`);
    }
    const id = tok.token_to_id(name);
    if (id === undefined) throw new Error(`${source}: the ${k} token ${JSON.stringify(name)} is not in the vocabulary; pass the right name or add it to added_tokens`);
    return id;
  };
  const special: SpecialTokens = { pad: resolve('pad'), bos: resolve('bos'), eos: resolve('eos'), image: resolve('image') };

  const decode = (ids: ArrayLike<number>) => tok.decode(Array.from(ids), { skip_special_tokens: true, clean_up_tokenization_spaces: false });
  const text = JSON.stringify(tokenizerJson);
  return {
    id: `hf-${createHash('sha256').update(text).digest('hex').slice(0, 16)}`,
    vocabSize,
    special,
    encode: (s) => Int32Array.from(tok.encode(s, { add_special_tokens: false }).ids),
    decode,
    charEnds(ids) {
      const arr = Array.from(ids);
      const ends = new Int32Array(arr.length);
      for (let i = 0; i < arr.length; i++) ends[i] = decode(arr.slice(0, i + 1)).length;
      for (let i = arr.length - 2; i >= 0; i--) ends[i] = Math.min(ends[i], ends[i + 1]);
      return ends;
    },
    tokenText: (id) => decode([id]),
  };
}

/** Loads `dir/tokenizer.json` and, when present, `dir/tokenizer_config.json`. */
export function loadHfTokenizer(dir: string, names: SpecialNames = {}): Tokenizer {
  const file = path.join(dir, 'tokenizer.json');
  if (!fs.existsSync(file)) throw new Error(`${file}: not found; expected a Hugging Face tokenizer.json in ${dir}`);
  const parse = (f: string) => {
    try {
      return JSON.parse(fs.readFileSync(f, 'utf8'));
    } catch (e) {
      throw new Error(`${f}: not valid JSON (${(e as Error).message})`);
    }
  };
  const cfgFile = path.join(dir, 'tokenizer_config.json');
  return hfTokenizer(parse(file), fs.existsSync(cfgFile) ? parse(cfgFile) : {}, names, file);
}
