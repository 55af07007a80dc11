import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { Graph, buildInference, openRunner } from '../../src/engine/index.ts';
import { loadVlm } from '../../src/models/io.ts';
import {
  encodeTeacherForced, qTaken, qValues, scaledActionLogLik, softValue, teacherForced, teacherForcedInputs, tokenEntropy,
  tokenLogprobs, values,
} from '../../src/models/policy.ts';
import { declareVlm } from '../../src/models/vlm.ts';

// tiny-vlm: weights, rows and expected outputs written by tools/golden-models.py from a PyTorch implementation
// of the same architecture (float64), with LoRA adapters whose B is non-zero.
const dir = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'tiny-vlm');

describe('the policy against an independent PyTorch implementation', () => {
  it('gives the same teacher-forced layout, log-probs, λ-scaled log-likelihood, entropy, values and Q', async () => {
    const gold = JSON.parse(fs.readFileSync(path.join(dir, 'golden.json'), 'utf8'));
    const m = loadVlm(dir);
    const rows = gold.rows.map((r: { prompt: string; output: number[]; action_start: number }) => ({ image: null, prompt: r.prompt, output: r.output, actionStart: r.action_start }));
    const feeds = encodeTeacherForced(m, rows);
    for (const [k, v] of Object.entries(gold.feeds as Record<string, number[][]>)) {
      expect(Array.from(feeds[k].data as ArrayLike<number | bigint>, Number), k).toEqual(v.flat());
    }
    feeds.image = { dtype: 'float32', shape: feeds.image.shape, data: Float32Array.from(gold.image) };

    const g = new Graph();
    const p = declareVlm(g, m);
    const x = teacherForcedInputs(g, m.cfg);
    const o = teacherForced(p, x);
    const logp = tokenLogprobs(o.logits, x.targets, gold.temperature);
    const q = qValues(p, o.h);
    const outputs = {
      logp,
      loglik: scaledActionLogLik(logp, x.mask, x.actionStart, gold.lambda),
      entropy: tokenEntropy(o.logits, gold.temperature),
      value: values(p, o.h),
      q_taken: qTaken(q, x.targets),
      soft_v: softValue(o.logits, q),
    };
    const runner = await openRunner({ thread: 'inline', threads: 1 });
    try {
      const s = await runner.open(buildInference(g, { outputs }).onnx);
      const r = await s.run(Object.fromEntries(s.inputNames.map((n) => [n, feeds[n]])));
      const mask = (gold.feeds.mask as number[][]).flat();
      for (const k of Object.keys(outputs)) {
        const want = [gold[k]].flat(2) as number[];
        const got = Array.from(r[k].data as Float32Array);
        expect(got.length, k).toBe(want.length);
        const perToken = want.length === mask.length;
        want.forEach((w, i) => {
          if (perToken && mask[i] === 0) return; // padded positions are not defined
          expect(Math.abs(got[i] - w), `${k}[${i}]: got ${got[i]}, PyTorch ${w}`).toBeLessThan(1e-4 * Math.max(1, Math.abs(w)));
        });
      }
    } finally {
      await runner.close();
    }
  });
});
