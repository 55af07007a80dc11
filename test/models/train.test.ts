import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  Graph, type HostTensor, type Runner, type Tensor, add, sub, buildInference, buildTrainStep, div, gradients, mean, meanAll, mul, neg,
  openRunner, openTrainer, sgd, sumAll,
} from '../../src/engine/index.ts';
import {
  type TfRow, encodeTeacherForced, qTaken, qValues, scaledActionLogLik, softValue, teacherForced, teacherForcedInputs,
  tokenEntropy, tokenLogprobs, values,
} from '../../src/models/policy.ts';
import { type Vlm, declareVlm, initWeights, isTrainable, vlmConfig } from '../../src/models/vlm.ts';
import { Rng } from '../../src/util/rng.ts';
import { OBS, tinyVlm } from './helpers.ts';

function rows(m: Vlm): TfRow[] {
  const obs = OBS(new Rng(8));
  const outs = ['{"t": 1, "action": 2}', 'x', '"action": 3'];
  return obs.map((o, b) => {
    const output = Int32Array.from([...m.tok.encode(outs[b]), m.tok.special.eos]);
    return { image: o.image, prompt: o.text, output, actionStart: [9, 1, 0][b] };
  });
}

/** A loss that touches every head: −λ-scaled log-lik + (V−1)² + (Q−1)² + (soft V−1)² − 0.1·entropy. */
function buildLoss(g: Graph, m: Vlm) {
  const p = declareVlm(g, m);
  const x = teacherForcedInputs(g, m.cfg);
  const o = teacherForced(p, x);
  const logp = tokenLogprobs(o.logits, x.targets, 0.7);
  const ll = scaledActionLogLik(logp, x.mask, x.actionStart, 0.5);
  const v = values(p, o.h);
  const q = qValues(p, o.h);
  const n = sumAll(x.mask);
  const sq = (t: Tensor) => mul(sub(t, 1), sub(t, 1)); // targets of 1: zero-initialised heads must move
  const qt = div(sumAll(mul(sq(qTaken(q, x.targets)), x.mask)), n);
  const sv = div(sumAll(mul(sq(softValue(o.logits, q)), x.mask)), n);
  const ent = div(sumAll(mul(tokenEntropy(o.logits, 0.7), x.mask)), n);
  const loss = add(add(add(neg(mean(ll, [0])), meanAll(sq(v))), add(qt, sv)), mul(ent, -0.1));
  return { p, x, loss, logp, v, q };
}

describe('training graphs on the policy', () => {
  let runner: Runner;
  beforeAll(async () => { runner = await openRunner({ thread: 'inline', threads: 1 }); });
  afterAll(async () => { await runner.close(); });

  async function evalOutputs(m: Vlm, data: TfRow[]): Promise<Record<string, HostTensor>> {
    const g = new Graph();
    const { logp, v, q, loss } = buildLoss(g, m);
    const s = await runner.open(buildInference(g, { outputs: { logp, v, q, loss } }).onnx);
    try {
      const feeds = encodeTeacherForced(m, data);
      return await s.run(Object.fromEntries(s.inputNames.map((n) => [n, feeds[n]])));
    } finally {
      await s.close();
    }
  }

  it('a fresh LoRA adapter (B = 0) leaves every output unchanged; a non-zero B changes them', async () => {
    const base = tinyVlm({ maxNewTokens: 40 }, false);
    const cfg = vlmConfig({ ...base.cfg, loraRank: 4, loraAlpha: 8 });
    const lora: Vlm = { cfg, tok: base.tok, weights: { ...initWeights(cfg, base.tok.vocabSize), ...base.weights } };
    const data = rows(base);
    const a = await evalOutputs(base, data);
    const b = await evalOutputs(lora, data);
    for (const k of ['logp', 'v', 'q', 'loss']) {
      const x = a[k].data as Float32Array, y = b[k].data as Float32Array;
      for (let i = 0; i < x.length; i++) expect(Math.abs(y[i] - x[i])).toBeLessThan(1e-6);
    }
    (lora.weights['l0.q.lora_b'].data as Float32Array).fill(0.1);
    const c = await evalOutputs(lora, data);
    expect(Math.abs((c.loss.data as Float32Array)[0] - (a.loss.data as Float32Array)[0])).toBeGreaterThan(1e-4);
  });

  it('with LoRA only the adapters and heads train; every one of them changes in two steps, the base stays', async () => {
    const base = tinyVlm({ maxNewTokens: 40 }, false);
    const cfg = vlmConfig({ ...base.cfg, loraRank: 4, loraAlpha: 8 });
    const m: Vlm = { cfg, tok: base.tok, weights: initWeights(cfg, base.tok.vocabSize) };
    const g = new Graph();
    const { loss } = buildLoss(g, m);
    const model = buildTrainStep(g, { loss, optimizer: sgd() });
    const expected = Object.keys(m.weights).filter((n) => n.includes('.lora_') || n.startsWith('value.') || n.startsWith('q_head.'));
    expect([...model.params].sort()).toEqual(expected.sort());
    expect(expected.every((n) => isTrainable(cfg, n))).toBe(true);
    const trainer = await openTrainer(runner, model);
    try {
      const feeds = encodeTeacherForced(m, rows(m));
      const batch = Object.fromEntries(model.batch.map((b) => [b.name, feeds[b.name]]));
      await trainer.step(batch, 0.1);
      await trainer.step(batch, 0.1);
      const after = await trainer.params();
      expect(Object.keys(after).sort()).toEqual(expected.sort());
      for (const n of expected) {
        const x = m.weights[n].data as Float32Array, y = after[n].data as Float32Array;
        expect(x.some((v, i) => v !== y[i]), `${n} changed`).toBe(true);
      }
    } finally {
      await trainer.close();
    }
  });

  it('gradients of the whole loss match central finite differences along random directions', async () => {
    const m = tinyVlm({ layers: 1, maxNewTokens: 40 }, false);
    const g = new Graph();
    const { p, loss } = buildLoss(g, m);
    const names = ['patch.w', 'tok_emb', 'pos_emb', 'l0.q.w', 'l0.k.w', 'l0.v.w', 'l0.o.w', 'l0.fc.w', 'l0.proj.w', 'l0.ln1.g', 'lm_head.w', 'value.fc.w', 'q_head.out.w'];
    const grads = gradients(loss, names.map((n) => p.t[n]));
    const outputs: Record<string, Tensor> = { loss };
    names.forEach((n, i) => { outputs[`grad/${n}`] = grads[i]; });
    // weights as inputs (from the state), so the same session evaluates perturbed weights
    const s = await runner.open(buildInference(g, { outputs, weights: 'inputs' }).onnx);
    try {
      const feeds = encodeTeacherForced(m, rows(m));
      const batch = Object.fromEntries(s.inputNames.filter((n) => n in feeds).map((n) => [n, feeds[n]]));
      await runner.setState(m.weights);
      const r = await s.run(batch);
      const rng = new Rng(21);
      for (const n of names) {
        const w = m.weights[n].data as Float32Array;
        const dir = Float32Array.from(w, () => rng.normal());
        const gr = r[`grad/${n}`].data as Float32Array;
        let analytic = 0;
        for (let i = 0; i < w.length; i++) analytic += gr[i] * dir[i];
        // float32 loss: a large step suffers curvature (patch.w sees standardized pixels of |x| up to ~10), a
        // small one round-off; a wrong gradient misses at both step sizes, a right one matches at one of them
        const at = async (eps: number, sign: number) => {
          const moved = Float32Array.from(w, (v, i) => v + sign * eps * dir[i]);
          await runner.setState({ [n]: { dtype: 'float32', shape: m.weights[n].shape, data: moved } });
          return (await s.run(batch, ['loss'])).loss.data[0] as number;
        };
        const fds: number[] = [];
        for (const scale of [1e-2, 3e-3]) {
          const eps = scale / Math.sqrt(w.length);
          fds.push(((await at(eps, 1)) - (await at(eps, -1))) / (2 * eps));
        }
        const fd = fds.reduce((best, x) => (Math.abs(x - analytic) < Math.abs(best - analytic) ? x : best));
        await runner.setState({ [n]: m.weights[n] });
        expect(Math.abs(fd - analytic), `${n}: finite difference ${fd} vs gradient ${analytic}`).toBeLessThan(2e-2 * Math.max(1, Math.abs(analytic)));
      }
    } finally {
      await s.close();
    }
  });
});

