import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  Graph, type HostTensor, type Runner, add, adamw, buildInference, buildTrainStep, crossEntropy, gradients, hostTensor, init, linear,
  matmul, mul, openRunner, openTrainer, sgd, sumAll, tanh,
} from '../../src/engine/index.ts';
import { Rng } from '../../src/util/rng.ts';
import { type Kv, lmGraph, transformerLM } from './models.ts';
import { scalar } from './helpers.ts';

let runner: Runner;
beforeAll(async () => {
  runner = await openRunner({ thread: 'inline', threads: 1 });
});
afterAll(async () => {
  await runner.close();
});

const data = (t: HostTensor) => Array.from(t.data as Float32Array);

describe('graphs and autodiff', () => {
  it('a tensor used twice accumulates both gradient contributions', async () => {
    const g = new Graph();
    const x = g.input('x', 'float64', [3]);
    const w = g.param('w', hostTensor('float64', [3], [0.5, -1, 2]));
    // L = sum(w * x + tanh(w)): dL/dw = x + 1 - tanh(w)^2
    const loss = sumAll(add(mul(w, x), tanh(w)));
    const [dw] = gradients(loss, [w]);
    const s = await runner.open(buildInference(g, { outputs: { dw } }).onnx);
    const out = await s.run({ x: hostTensor('float64', [3], [1, 2, 3]) });
    const want = [0.5, -1, 2].map((v, i) => [1, 2, 3][i] + 1 - Math.tanh(v) ** 2);
    Array.from(out.dw.data as Float64Array).forEach((v, i) => expect(v).toBeCloseTo(want[i], 12));
    await s.close();
  });

  it('frozen params are initializers, not inputs, and stay unchanged; trainable ones change', async () => {
    const rng = new Rng(5);
    const g = new Graph();
    const x = g.input('x', 'float32', ['batch', 3]);
    const y = g.input('y', 'int64', ['batch']);
    const frozen = init.normal(rng, [3, 4], 1);
    const wf = g.param('wf', frozen, { trainable: false });
    const wt = g.param('wt', init.normal(rng, [4, 2], 1));
    const model = buildTrainStep(g, { loss: crossEntropy(linear(tanh(matmul(x, wf)), wt), y), optimizer: sgd() });
    expect(model.params).toEqual(['wt']);
    expect(model.state).not.toContain('wf');
    const r = await openRunner({ thread: 'inline' });
    try {
      const tr = await openTrainer(r, model);
      const s = await r.open(model.single());
      expect(s.inputNames).not.toContain('wf');
      expect(s.outputNames.some((n) => n.includes('wf'))).toBe(false);
      await s.close();
      const before = data((await tr.params()).wt);
      await tr.step({ x: hostTensor('float32', [2, 3], [1, 2, 3, -1, 0, 1]), y: hostTensor('int64', [2], [0, 1]) }, 0.1);
      const after = data((await tr.params()).wt);
      expect(after.every((v, i) => v !== before[i])).toBe(true);
      expect(Object.keys(await tr.state()).sort()).toEqual(['step', 'wt']);
    } finally {
      await r.close();
    }
  });

  it('shape errors name the op and the shapes', () => {
    const g = new Graph();
    const a = g.input('a', 'float32', ['batch', 3]);
    const b = g.input('b', 'float32', [4, 5]);
    expect(() => matmul(a, b)).toThrow(/matmul: inner dims differ: \[batch, 3\] @ \[4, 5\]/);
    expect(() => add(a, b)).toThrow(/add|Add: shapes \[batch, 3\] and \[4, 5\] do not broadcast/);
    expect(() => g.input('a', 'float32', [1])).toThrow(/already used/);
  });

  it('ONNX node names say what made each node: a forward op, an op gradient rule, a gradient sum, the optimizer', () => {
    const g = new Graph();
    const x = g.input('x', 'float32', [4, 3]);
    const w = g.param('w', init.normal(new Rng('names'), [3, 3], 0.5));
    const h = linear(x, w);
    const loss = sumAll(add(tanh(h), h)); // h used twice: its two gradients are summed
    const bytes = Buffer.from(buildTrainStep(g, { loss, optimizer: adamw() }).single());
    for (const n of ['Gemm/Gemm', 'Tanh/Tanh', 'Tanh.grad/Mul', 'Gemm.grad/Gemm', 'gradient-sum/Add', 'optimizer/Sqrt']) {
      expect(bytes.includes(`_${n}`), n).toBe(true);
    }
    const scopes = new Set(g.nodes.map((n) => n.scope));
    expect([...scopes].sort()).toEqual(['Gemm.grad', 'ReduceSum.grad', 'Tanh.grad', 'gradient-sum', 'optimizer', undefined].sort());
  });

  it('buildTrainStep refuses the reserved names lr and step', () => {
    const g = new Graph();
    const lr = g.input('lr', 'float32', []);
    const w = g.param('w', hostTensor('float32', [1], [1]));
    expect(() => buildTrainStep(g, { loss: sumAll(mul(w, lr)), optimizer: adamw() })).toThrow(/reserved/);
  });
});

describe('inference graphs with a KV cache', () => {
  const cfg = { vocab: 13, dim: 16, heads: 2, layers: 2, ffn: 32, maxSeq: 16 };

  it('prefill then one-token decode steps give the logits of the full sequence', async () => {
    const seq = [3, 1, 4, 1, 5, 9, 2, 6];
    const B = 1, L = seq.length, P = 5;
    // reference: whole sequence at once
    const full = lmGraph(cfg, 7);
    const fm = buildInference(full.g, { outputs: { logits: full.logits } });
    // one graph with past inputs serves prefill (past = 0) and decode (seq = 1)
    const g = new Graph();
    const ids = g.input('ids', 'int64', ['batch', 'seq']);
    const past: Kv[] = [];
    for (let l = 0; l < cfg.layers; l++) {
      past.push({ k: g.input(`past.k${l}`, 'float32', ['batch', 2, 'past', 8]), v: g.input(`past.v${l}`, 'float32', ['batch', 2, 'past', 8]) });
    }
    const { logits, present } = transformerLM(g, ids, cfg, 7, {}, past);
    const outputs = { logits, ...Object.fromEntries(present.flatMap((kv, l) => [[`present.k${l}`, kv.k], [`present.v${l}`, kv.v]])) };
    const dm = buildInference(g, { outputs });
    expect(dm.outputs.map((o) => o.name)).toEqual(Object.keys(outputs));
    const carry = Object.fromEntries(present.flatMap((_, l) => [[`present.k${l}`, `past.k${l}`], [`present.v${l}`, `past.v${l}`]]));
    const r = await openRunner({ thread: 'worker', threads: 1 });
    try {
      const ref = await (await r.open(fm.onnx)).run({ ids: hostTensor('int64', [B, L], seq), targets: hostTensor('int64', [B, L], seq) });
      const dec = await r.open(dm.onnx, carry);
      const empty = hostTensor('float32', [B, 2, 0, 8]);
      await r.setState(Object.fromEntries(Object.values(carry).map((n) => [n, empty])));
      const got: number[] = [];
      const pre = await dec.run({ ids: hostTensor('int64', [B, P], seq.slice(0, P)) }, ['logits']);
      got.push(...data(pre.logits));
      for (let t = P; t < L; t++) got.push(...data((await dec.run({ ids: hostTensor('int64', [B, 1], [seq[t]]) }, ['logits'])).logits));
      const want = data(ref.logits);
      expect(got.length).toBe(want.length);
      got.forEach((v, i) => expect(Math.abs(v - want[i])).toBeLessThan(1e-5));
      expect((await r.getState(['past.k0']))['past.k0'].shape).toEqual([B, 2, L, 8]);
    } finally {
      await r.close();
    }
  });

  it('weights as inputs: a generation session reads the params a trainer holds on the same runner', async () => {
    const a = lmGraph(cfg, 3), b = lmGraph(cfg, 3);
    const r = await openRunner({ thread: 'inline', threads: 1 });
    try {
      const tr = await openTrainer(r, buildTrainStep(a.g, { loss: a.loss, optimizer: adamw() }));
      const batch = { ids: hostTensor('int64', [2, 4], [1, 2, 3, 4, 5, 6, 7, 8]), targets: hostTensor('int64', [2, 4], [2, 3, 4, 5, 6, 7, 8, 9]) };
      const gen = await r.open(buildInference(b.g, { outputs: { logits: b.logits }, weights: 'inputs' }).onnx);
      const before = data((await gen.run({ ids: batch.ids })).logits);
      const l0 = scalar((await tr.step(batch, 1e-2)).loss);
      const after = data((await gen.run({ ids: batch.ids })).logits);
      expect(after.some((v, i) => v !== before[i])).toBe(true);
      // the trained weights lower the loss that the generation session's logits give
      const lp = (logits: number[]) => {
        let s = 0;
        for (let i = 0; i < 8; i++) {
          const row = logits.slice(i * 13, i * 13 + 13);
          const m = Math.max(...row);
          s += Math.log(row.reduce((acc, v) => acc + Math.exp(v - m), 0)) + m - row[(batch.targets.data as BigInt64Array)[i] as unknown as number];
        }
        return s / 8;
      };
      expect(lp(before)).toBeCloseTo(l0, 4);
      expect(lp(after)).toBeLessThan(lp(before));
    } finally {
      await r.close();
    }
  });
});

describe('learning', () => {
  it('a 2-layer transformer LM learns to count mod 16 (loss below 0.05 after 150 AdamW steps)', async () => {
    const cfg = { vocab: 16, dim: 32, heads: 2, layers: 2, ffn: 64, maxSeq: 8 };
    const { g, loss } = lmGraph(cfg, 11);
    const tr = await openTrainer(runner, buildTrainStep(g, { loss, optimizer: adamw({ weightDecay: 0 }), clipNorm: 1 }));
    const rng = new Rng('count');
    const B = 16, T = 8;
    let last = Infinity;
    for (let i = 0; i < 150; i++) {
      const ids: number[] = [], tg: number[] = [];
      for (let b = 0; b < B; b++) {
        const s = rng.int(16);
        for (let t = 0; t < T; t++) {
          ids.push((s + t) % 16);
          tg.push((s + t + 1) % 16);
        }
      }
      const m = await tr.step({ ids: hostTensor('int64', [B, T], ids), targets: hostTensor('int64', [B, T], tg) }, 3e-3);
      last = scalar(m.loss);
      if (i === 0) expect(last).toBeGreaterThan(2);
    }
    expect(last).toBeLessThan(0.05);
    await tr.close();
  });
});
