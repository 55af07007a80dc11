/**
 * Tokenizers: the narrow interface the models, generation and the algorithms use, and the built-in
 * byte-level tokenizer (ids 0..255 are UTF-8 bytes, then four special tokens).
 *
 * Character offsets: `charEnds(ids)[i]` is the end (exclusive, in UTF-16 code units) of token i's text in
 * `decode(ids)`. A token that ends inside a multi-byte character ends where the previous one did: its
 * character is counted at the token that completes it. The thought/action split (split.ts) finds the
 * `"action":` marker through these offsets, never through token ids.
 */

export interface SpecialTokens {
  pad: number;
  bos: number;
  eos: number;
  /** the placeholder that stands for the image's patch tokens in a prompt */
  image: number;
}

export interface Tokenizer {
  /** identifies the vocabulary; the store's `tokenizer` column */
  readonly id: string;
  readonly vocabSize: number;
  readonly special: SpecialTokens;
  /** text → ids, without special tokens */
  encode(text: string): Int32Array;
  /** ids → text; special tokens decode to '' */
  decode(ids: ArrayLike<number>): string;
  /** [n] end of each token's text in decode(ids) (UTF-16 code units, non-decreasing) */
  charEnds(ids: ArrayLike<number>): Int32Array;
  /** one token's own text ('' for special tokens); CoSo uses it to find punctuation tokens */
  tokenText(id: number): string;
}

export const BYTE_TOKENIZER_ID = 'o2o-byte-v1';

/** UTF-8 bytes as tokens 0..255; pad 256, bos 257, eos 258, image 259. */
export function byteTokenizer(): Tokenizer {
  const special: SpecialTokens = { pad: 256, bos: 257, eos: 258, image: 259 };
  const enc = new TextEncoder();
  const checkId = (id: number, i: number) => {
    if (!Number.isInteger(id) || id < 0 || id >= 260) throw new RangeError(`byte tokenizer: token ${i} is ${id}, expected an id in [0, 260)`);
  };
  const decodeBytes = (ids: ArrayLike<number>) => {
    const bytes: number[] = [];
    for (let i = 0; i < ids.length; i++) {
      checkId(ids[i], i);
      if (ids[i] < 256) bytes.push(ids[i]);
    }
    return new TextDecoder().decode(Uint8Array.from(bytes));
  };
  return {
    id: BYTE_TOKENIZER_ID,
    vocabSize: 260,
    special,
    encode: (text) => Int32Array.from(enc.encode(text)),
    decode: decodeBytes,
    charEnds(ids) {
      // A streaming decoder holds back an unfinished character until its last byte arrives, so the running
      // length equals the length of the full decode's prefix.
      const dec = new TextDecoder();
      const ends = new Int32Array(ids.length);
      let len = 0;
      for (let i = 0; i < ids.length; i++) {
        checkId(ids[i], i);
        if (ids[i] < 256) len += dec.decode(Uint8Array.of(ids[i]), { stream: true }).length;
        ends[i] = len;
      }
      len += dec.decode().length;
      if (ids.length > 0) ends[ids.length - 1] = len;
      return ends;
    },
    tokenText: (id) => (id < 256 ? decodeBytes([id]) : ''),
  };
}
