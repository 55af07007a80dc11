import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Runner, openRunner } from '../../src/engine/index.ts';
import { openGenerator, type Generated } from '../../src/models/generate.ts';
import { loadHfTokenizer } from '../../src/models/hf-tokenizer.ts';
import { actionStart } from '../../src/models/split.ts';
import { createVlm } from '../../src/models/vlm.ts';
import { Rng } from '../../src/util/rng.ts';
import { OBS, teacherForcedEval, tinyVlm } from './helpers.ts';

describe('generation with a KV cache', () => {
  let runner: Runner;
  beforeAll(async () => { runner = await openRunner({ thread: 'inline', threads: 1 }); });
  afterAll(async () => { await runner.close(); });

  const T = 0.7;

  async function checkAgainstTeacherForced(m: ReturnType<typeof tinyVlm>, gens: Generated[], obs: ReturnType<typeof OBS>) {
    const rows = obs.map((o, b) => ({ image: o.image, prompt: o.text, output: gens[b].tokens, actionStart: gens[b].actionStart }));
    const tf = await teacherForcedEval(runner, m, rows, T);
    const out = tf.logp.shape[1];
    gens.forEach((g, b) => {
      for (let i = 0; i < g.tokens.length; i++) expect(Math.abs(g.logprobs[i] - (tf.logp.data as Float32Array)[b * out + i])).toBeLessThan(1e-5);
      expect(Math.abs(g.value - (tf.value.data as Float32Array)[b])).toBeLessThan(1e-5);
    });
  }

  it('reports the log-probs and values that a separate teacher-forced evaluation computes', async () => {
    const m = tinyVlm();
    const obs = OBS(new Rng(1));
    const gen = await openGenerator(m, runner);
    try {
      const gens = await gen.generate(obs, 42, { temperature: T });
      const lengths = gens.map((g) => g.tokens.length);
      expect(new Set(lengths).size).toBeGreaterThan(1); // rows end at different steps
      for (const g of gens) {
        expect(g.tokens.length).toBeLessThanOrEqual(m.cfg.maxNewTokens);
        const eos = Array.from(g.tokens).indexOf(m.tok.special.eos);
        expect(eos === -1 ? g.tokens.length === m.cfg.maxNewTokens : eos === g.tokens.length - 1).toBe(true);
        expect(g.text).toBe(m.tok.decode(g.tokens));
        expect(g.actionStart).toBe(actionStart(m.tok, g.tokens));
        for (const t of g.tokens) expect([m.tok.special.pad, m.tok.special.bos, m.tok.special.image]).not.toContain(t);
      }
      await checkAgainstTeacherForced(m, gens, obs);
      const again = await gen.generate(obs, 42, { temperature: T });
      expect(again.map((g) => Array.from(g.tokens))).toEqual(gens.map((g) => Array.from(g.tokens)));
      const other = await gen.generate(obs, 43, { temperature: T });
      expect(other.map((g) => Array.from(g.tokens))).not.toEqual(gens.map((g) => Array.from(g.tokens)));
      const v = await gen.values(obs);
      gens.forEach((g, b) => expect(v[b]).toBeCloseTo(g.value, 6));
    } finally {
      await gen.close();
    }
  });

  it('KV-cache decode equals recomputing the whole sequence every step', async () => {
    const m = tinyVlm({}, false); // no EOS bias: every row runs the full length
    const obs = OBS(new Rng(2));
    const gen = await openGenerator(m, runner);
    try {
      const cached = await gen.generate(obs, 7, { temperature: 1, maxNewTokens: 12 });
      const full = await gen.generate(obs, 7, { temperature: 1, maxNewTokens: 12, kvCache: false });
      expect(cached.map((g) => g.tokens.length)).toEqual([12, 12, 12]);
      expect(full.map((g) => Array.from(g.tokens))).toEqual(cached.map((g) => Array.from(g.tokens)));
      cached.forEach((g, b) => g.logprobs.forEach((lp, i) => expect(Math.abs(lp - full[b].logprobs[i])).toBeLessThan(1e-5)));
    } finally {
      await gen.close();
    }
  });

  it('a row generates the same utterance alone as in a batch with other prompt lengths', async () => {
    const m = tinyVlm();
    const obs = OBS(new Rng(3));
    const gen = await openGenerator(m, runner);
    try {
      const batch = await gen.generate(obs, 5, { temperature: T });
      const alone = await gen.generate([obs[0]], 5, { temperature: T });
      expect(Array.from(alone[0].tokens)).toEqual(Array.from(batch[0].tokens));
      alone[0].logprobs.forEach((lp, i) => expect(Math.abs(lp - batch[0].logprobs[i])).toBeLessThan(1e-5));
    } finally {
      await gen.close();
    }
  });

  it('works the same with a Hugging Face tokenizer (its own vocabulary size and special ids)', async () => {
    const tok = loadHfTokenizer(path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'tiny-bpe'));
    const base = tinyVlm({}, false);
    const m = createVlm(base.cfg, tok);
    expect(m.weights['lm_head.w'].shape).toEqual([base.cfg.dModel, tok.vocabSize]);
    const obs = OBS(new Rng(5));
    const gen = await openGenerator(m, runner);
    try {
      const gens = await gen.generate(obs, 11, { temperature: T });
      for (const g of gens) {
        expect(g.text).toBe(tok.decode(g.tokens));
        for (const t of g.tokens) expect(t).toBeLessThan(tok.vocabSize);
      }
      await checkAgainstTeacherForced(m, gens, obs);
    } finally {
      await gen.close();
    }
  });

  it('new weights reach the generation sessions through the runner state', async () => {
    const m = tinyVlm();
    const obs = OBS(new Rng(4));
    const gen = await openGenerator(m, runner);
    try {
      const before = await gen.generate(obs, 9, { temperature: T });
      const w = m.weights['lm_head.w'].data as Float32Array;
      const rng = new Rng(5);
      for (let i = 0; i < w.length; i++) w[i] += rng.normal() * 0.5;
      await gen.setWeights({ 'lm_head.w': m.weights['lm_head.w'] });
      const after = await gen.generate(obs, 9, { temperature: T });
      expect(after.map((g) => Array.from(g.logprobs))).not.toEqual(before.map((g) => Array.from(g.logprobs)));
      await checkAgainstTeacherForced(m, after, obs);
      await expect(gen.generate(obs, 1, { temperature: T, maxNewTokens: 99 })).rejects.toThrow(/maxNewTokens must be an integer in 1..16/);
    } finally {
      await gen.close();
    }
  });
});
