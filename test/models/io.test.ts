import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { openRunner, saveSafetensors } from '../../src/engine/index.ts';
import { openGenerator } from '../../src/models/generate.ts';
import { preprocessImage } from '../../src/models/image.ts';
import { exportOnnx, importWeights, loadVlm, saveVlm } from '../../src/models/io.ts';
import { encodePrompt } from '../../src/models/policy.ts';
import { logSoftmaxT } from '../../src/models/sampling.ts';
import { numPatches } from '../../src/models/vlm.ts';
import { Rng } from '../../src/util/rng.ts';
import { OBS, tinyVlm } from './helpers.ts';

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'o2o-'));

describe('policy files', () => {
  it('save and load round-trip every weight bit for bit', () => {
    const m = tinyVlm();
    const dir = tmp();
    saveVlm(dir, m);
    const back = loadVlm(dir);
    expect(back.cfg).toEqual(m.cfg);
    expect(back.tok.id).toBe(m.tok.id);
    expect(Object.keys(back.weights).sort()).toEqual(Object.keys(m.weights).sort());
    for (const [n, t] of Object.entries(m.weights)) expect(Buffer.from(back.weights[n].data.buffer).equals(Buffer.from(t.data.buffer))).toBe(true);
  });

  it('imports weights from a trainer checkpoint and lists every problem of a foreign file', () => {
    const m = tinyVlm();
    const dir = tmp();
    const file = path.join(dir, 'ckpt.safetensors');
    const slots = { 'adamw.m/lm_head.w': m.weights['lm_head.w'], step: { dtype: 'int64' as const, shape: [], data: new BigInt64Array(1) } };
    saveSafetensors(file, { ...m.weights, ...slots });
    expect(Object.keys(importWeights(file, m.cfg, m.tok)).length).toBe(Object.keys(m.weights).length);
    const { 'l0.q.w': _drop, ...rest } = m.weights;
    void _drop;
    saveSafetensors(file, { ...rest, 'ln_f.g': m.weights['lm_head.w'], extra: m.weights['ln_f.b'] });
    expect(() => importWeights(file, m.cfg, m.tok)).toThrow(/l0\.q\.w: missing[\s\S]*ln_f\.g: expected float32\[32\], got float32\[32, 260\][\s\S]*extra: not a weight/);
  });
});

describe('standalone ONNX export', () => {
  it('runs in plain onnxruntime and gives the log-probs that generation reported', async () => {
    const m = tinyVlm();
    const dir = tmp();
    exportOnnx(dir, m);
    const policy = JSON.parse(fs.readFileSync(path.join(dir, 'policy.json'), 'utf8'));
    expect(policy.tokenizer.special).toEqual(m.tok.special);
    const obs = OBS(new Rng(6))[0];
    const runner = await openRunner({ thread: 'inline', threads: 1 });
    const gen = await openGenerator(m, runner);
    const [g] = await gen.generate([obs], 3, { temperature: 1, maxNewTokens: 3 });
    await gen.close();
    await runner.close();

    const prefill = await ort.InferenceSession.create(path.join(dir, 'prefill.onnx'));
    const decode = await ort.InferenceSession.create(path.join(dir, 'decode.onnx'));
    const P = numPatches(m.cfg), S = m.cfg.imageSize, V = m.tok.vocabSize;
    const prompt = encodePrompt(m.tok, m.cfg, obs.text);
    const L = prompt.length;
    let out = await prefill.run({
      image: new ort.Tensor('float32', preprocessImage(obs.image, S), [1, 3, S, S]),
      prompt: new ort.Tensor('int64', BigInt64Array.from(prompt, BigInt), [1, L]),
      prompt_pos: new ort.Tensor('int64', BigInt64Array.from(prompt, (_, j) => BigInt(P + j)), [1, L]),
    });
    expect((out.value.data as Float32Array)[0]).toBeCloseTo(g.value, 5);
    for (let i = 0; i < g.tokens.length; i++) {
      const lp = logSoftmaxT(out.logits.data as Float32Array, 0, V, 1);
      expect(Math.abs(lp[g.tokens[i]] - g.logprobs[i])).toBeLessThan(1e-5);
      if (i === g.tokens.length - 1) break;
      const past: Record<string, ort.Tensor> = {};
      for (let l = 0; l < m.cfg.layers; l++) { past[`past.k.${l}`] = out[`present.k.${l}`]; past[`past.v.${l}`] = out[`present.v.${l}`]; }
      const len = P + L + i;
      out = await decode.run({
        token: new ort.Tensor('int64', BigInt64Array.of(BigInt(g.tokens[i])), [1, 1]),
        token_pos: new ort.Tensor('int64', BigInt64Array.of(BigInt(P + L + i)), [1, 1]),
        past_mask: new ort.Tensor('bool', new Uint8Array(len).fill(1), [1, len]),
        ...past,
      });
    }
    await prefill.release();
    await decode.release();
  });
});
