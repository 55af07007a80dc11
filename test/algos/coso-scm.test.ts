/**
 * CoSo with its real classifier: the SCM (on the engine) is trained on utterances of the scripted noisy
 * NumberLine policy (real envs), labelled by the env's parsed action; the counterfactual weights must then
 * peak on the action token and be zero on punctuation.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openRunner, type Runner } from '../../src/engine/index.ts';
import { GymCardsEnv } from '../../src/envs/env.ts';
import { makePolicy } from '../../src/envs/policies/scripted.ts';
import { byteTokenizer } from '../../src/models/tokenizer.ts';
import { counterfactualWeights, zeroTokenSet } from '../../src/algos/coso.ts';
import { openScm, type Scm } from '../../src/algos/coso-scm.ts';
import { Rng } from '../../src/util/rng.ts';

const tok = byteTokenizer();
let runner: Runner;
let scm: Scm;
const data: { seq: number[]; label: number; text: string }[] = [];

beforeAll(async () => {
  runner = await openRunner({ threads: 2 });
  const env = new GymCardsEnv('numberline', { seed: 1, render: false });
  const policy = makePolicy('noisy', new Rng(2), { pRead: 0.3, pAct: 0.4 });
  for (let e = 0; data.length < 400; e++) {
    env.resetSync(e);
    for (let done = false; !done;) {
      const text = policy.act(env);
      const r = env.stepSync(text);
      data.push({ seq: Array.from(tok.encode(text)), label: r.actionId, text });
      done = r.terminated || r.truncated;
    }
  }
  scm = await openScm(runner, { vocabSize: tok.vocabSize, classes: 2, seed: 3, shape: { layers: 1, dim: 32, heads: 2, ffn: 64, maxLen: 48 } });
  const rng = new Rng(4);
  for (let s = 0; s < 120; s++) {
    const b = Array.from({ length: 32 }, () => data[rng.int(data.length)]);
    await scm.trainStep(b.map((d) => d.seq), b.map((d) => d.label), 3e-3);
  }
});
afterAll(async () => { await scm?.close(); await runner?.close(); });

describe('CoSo counterfactual weights with the trained SCM', () => {
  it('the SCM learns the parsed action from the tokens', async () => {
    const held = data.slice(0, 100);
    const probs = await scm.classify(held.map((d) => d.seq));
    const acc = held.filter((d, i) => probs[i][d.label] > 0.5).length / held.length;
    expect(acc).toBeGreaterThan(0.95);
  });

  it('gives finite probabilities for an empty sequence (a generation that is only EOS decodes to nothing)', async () => {
    const [p] = await scm.classify([[]]);
    expect(Array.from(p).every(Number.isFinite)).toBe(true);
  });

  it('puts the largest weight on the action token and zero on punctuation', async () => {
    const zero = zeroTokenSet(tok.vocabSize, (id) => tok.tokenText(id), [256, 257, 258, 259], ['-', '+']);
    const sample = data.slice(100, 110);
    const weights = await counterfactualWeights(sample.map((d) => d.seq), sample.map((d) => d.label), scm.classify,
      { window: 4, nullToken: scm.nullToken, zeroTokens: zero, tail: scm.tail });
    sample.forEach((d, k) => {
      const w = weights[k];
      const actionPos = d.text.lastIndexOf('"action": "') + '"action": "'.length; // byte tokenizer: char = token here (ASCII)
      expect('+-').toContain(d.text[actionPos]);
      let best = 0;
      for (let i = 1; i < w.length; i++) if (w[i] > w[best]) best = i;
      expect(best).toBe(actionPos);
      expect(w[actionPos]).toBeCloseTo(1, 5);
      d.seq.forEach((t, i) => { if (zero.has(t)) expect(w[i]).toBe(0); });
      expect(w[d.text.indexOf(':')]).toBe(0);
    });
  });
});
