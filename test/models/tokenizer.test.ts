import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { byteTokenizer } from '../../src/models/tokenizer.ts';
import { hfTokenizer, loadHfTokenizer } from '../../src/models/hf-tokenizer.ts';
import { actionStart, actionStartOf } from '../../src/models/split.ts';
import { GymCardsEnv } from '../../src/envs/env.ts';
import { parseAction } from '../../src/envs/parser.ts';
import { makePolicy } from '../../src/envs/policies/scripted.ts';
import { TASKS } from '../../src/envs/registry.ts';
import { Rng } from '../../src/util/rng.ts';

const fixtures = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures');

describe('byte tokenizer', () => {
  const tok = byteTokenizer();

  it('round-trips text with multi-byte characters and skips special tokens in decode', () => {
    const text = 'Hi {"thoughts": "é→😀", "action": "+"}';
    const ids = tok.encode(text);
    expect(ids.length).toBe(new TextEncoder().encode(text).length);
    expect(tok.decode(ids)).toBe(text);
    expect(tok.decode([tok.special.bos, ...ids, tok.special.eos, tok.special.pad])).toBe(text);
    expect(new Set(Object.values(tok.special)).size).toBe(4);
    expect(Math.max(...Object.values(tok.special))).toBe(tok.vocabSize - 1);
  });

  it('gives each token the character end of its text; a multi-byte character ends at its last byte', () => {
    const text = 'aé😀b';
    const ids = tok.encode(text); // a | c3 a9 | f0 9f 98 80 | b
    expect(Array.from(tok.charEnds(ids))).toEqual([1, 1, 2, 2, 2, 2, 4, 5]);
    const withEos = [...ids, tok.special.eos];
    expect(Array.from(tok.charEnds(withEos)).at(-1)).toBe(5);
    for (let i = 0; i < ids.length; i++) {
      // every end is the length of a decodable prefix's share of the text
      expect(text.slice(0, tok.charEnds(ids)[i]).length).toBe(tok.charEnds(ids)[i]);
    }
  });

  it('rejects ids outside the vocabulary', () => {
    expect(() => tok.decode([300])).toThrow(/token 0 is 300/);
  });
});

describe('thought/action split', () => {
  const tok = byteTokenizer();
  const split = (text: string) => {
    const ids = [...tok.encode(text), tok.special.eos];
    return { s: actionStart(tok, ids), ids };
  };

  it('starts the action part at the marker', () => {
    const text = '{"thoughts": "go right", "action": "+"}';
    const { s } = split(text);
    expect(s).toBe(text.indexOf('"action":'));
  });

  it('takes the last marker when there are two, case-insensitively', () => {
    const text = '{"thoughts": "the "action": field", "ACTION": "-"}';
    expect(split(text).s).toBe(text.lastIndexOf('"ACTION":'));
  });

  it('without a marker the action part is the last character (what the parser reads) and EOS', () => {
    const text = 'no marker here +';
    const { s, ids } = split(text);
    expect(s).toBe(text.length - 1);
    expect(ids.length - s).toBe(2);
    expect(split('').s).toBe(0);
  });

  it('finds a marker that spans tokens or shares a token with the text before it', () => {
    // hand-made offsets of a merging tokenizer: tokens ['{"thoughts": "x",', ' "act', 'ion":', ' "+"}']
    const text = '{"thoughts": "x", "action": "+"}';
    const pieces = ['{"thoughts": "x",', ' "act', 'ion":', ' "+"}'];
    const ends = pieces.map((_, i) => pieces.slice(0, i + 1).join('').length);
    expect(actionStartOf(text, ends)).toBe(1);
    // the quote glued to the comma before it: ['{"thoughts": "x","', 'action":', ' "+"}']
    const text2 = '{"thoughts": "x","action": "+"}';
    const pieces2 = ['{"thoughts": "x","', 'action":', ' "+"}'];
    expect(actionStartOf(text2, pieces2.map((_, i) => pieces2.slice(0, i + 1).join('').length))).toBe(0);
  });
});

describe('Hugging Face tokenizer.json', () => {
  // tiny-bpe: a byte-level BPE trained by tools/models/make_fixtures.py with the Python `tokenizers` library,
  // which also wrote the expected ids and character offsets of a few strings.
  const dir = path.join(fixtures, 'tiny-bpe');
  const golden = JSON.parse(fs.readFileSync(path.join(dir, 'golden.json'), 'utf8')) as {
    special: Record<string, number>;
    cases: { text: string; ids: number[]; offsets: [number, number][] }[];
  };

  it('encodes, decodes and gives character offsets as the Rust tokenizers library does', () => {
    const tok = loadHfTokenizer(dir);
    expect(tok.id).toMatch(/^hf-[0-9a-f]{16}$/);
    expect(tok.special).toEqual(golden.special);
    expect(tok.tokenText(tok.special.eos)).toBe('');
    for (const g of golden.cases) {
      const ids = tok.encode(g.text);
      expect(Array.from(ids)).toEqual(g.ids);
      expect(tok.decode(ids)).toBe(g.text);
      expect(Array.from(tok.charEnds(ids))).toEqual(g.offsets.map((o) => o[1]));
    }
  });

  it('splits on the marker when a merged token holds it', () => {
    const tok = loadHfTokenizer(dir);
    const text = '{"thoughts": "x", "action": "+"}';
    const ids = [...tok.encode(text), tok.special.eos];
    const s = actionStart(tok, ids);
    const ends = tok.charEnds(ids);
    const m = text.indexOf('"action":');
    expect(s === 0 ? 0 : ends[s - 1]).toBeLessThanOrEqual(m);
    expect(ends[s]).toBeGreaterThan(m);
  });

  it('names the missing special token and the file', () => {
    const json = JSON.parse(fs.readFileSync(path.join(dir, 'tokenizer.json'), 'utf8'));
    expect(() => hfTokenizer(json, {}, {}, 'x/tokenizer.json')).toThrow(/x\/tokenizer.json: no pad token/);
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'o2o-'));
    expect(() => loadHfTokenizer(tmp)).toThrow(/tokenizer.json: not found/);
    fs.writeFileSync(path.join(tmp, 'tokenizer.json'), '{oops');
    expect(() => loadHfTokenizer(tmp)).toThrow(/not valid JSON/);
  });
});

describe('the split agrees with the gym_cards parser', () => {
  it('on scripted utterances of every task, with the byte and a merging BPE tokenizer', async () => {
    const toks = [byteTokenizer(), loadHfTokenizer(path.join(fixtures, 'tiny-bpe'))];
    for (const task of TASKS) {
      const env = new GymCardsEnv(task.name, { seed: 3, render: false });
      await env.reset(3);
      for (const kind of ['expert', 'random'] as const) {
        const text = makePolicy(kind, new Rng(4)).act(env);
        for (const tok of toks) {
          const ids = [...tok.encode(text), tok.special.eos];
          const s = actionStart(tok, ids);
          const actionText = tok.decode(ids.slice(s));
          // the action tokens hold the marker (at most a merged prefix before it), the thought tokens do not
          expect(actionText.toLowerCase()).toContain('"action":');
          expect(tok.decode(ids.slice(0, s)).toLowerCase()).not.toContain('"action":');
          const full = parseAction(text, task.actions, task.points, new Rng(1));
          expect(parseAction(actionText, task.actions, task.points, new Rng(1)).text).toBe(full.text);
        }
      }
    }
  });
});
