import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adamw, buildTrainStep, cosineLr, hostTensor, openRunner, openTrainer, type Runner } from '../../src/engine/index.ts';
import { lmGraph } from './models.ts';
import { Rng } from '../../src/util/rng.ts';
import { mlp, sameBits, scalar, signBatch, stack } from './helpers.ts';

let runner: Runner;
beforeAll(async () => {
  runner = await openRunner({ threads: 1 });
});
afterAll(async () => {
  await runner.close();
});

describe('training step', () => {
  it('an MLP learns the same-sign task (loss below 0.25 after 300 AdamW steps)', async () => {
    const { g, loss } = mlp(1);
    const tr = await openTrainer(runner, buildTrainStep(g, { loss, optimizer: adamw(), clipNorm: 1 }));
    const rng = new Rng('data');
    const losses: number[] = [];
    for (let i = 0; i < 300; i++) {
      const b = signBatch(rng, 64);
      losses.push(scalar((await tr.step(b, 1e-2)).loss));
    }
    const last = losses.slice(-20).reduce((a, b) => a + b) / 20;
    expect(losses[0]).toBeGreaterThan(0.6);
    expect(last).toBeLessThan(0.25);
    expect(scalar((await tr.state()).step)).toBe(300);
    await tr.close();
  });

  it('lrScale multiplies the AdamW step of the params it names, and only theirs', async () => {
    const batch = signBatch(new Rng('lr-scale'), 32);
    const deltas = async (lrScale?: (n: string) => number) => {
      const { g, loss } = mlp(4);
      const tr = await openTrainer(runner, buildTrainStep(g, { loss, optimizer: adamw({ weightDecay: 0, lrScale }) }));
      const before = await tr.params();
      await tr.step(batch, 1e-3);
      const after = await tr.params();
      await tr.close();
      return Object.fromEntries(Object.keys(before).map((n) => [n, Array.from(after[n].data as Float32Array, (v, i) => v - (before[n].data as Float32Array)[i])]));
    };
    const plain = await deltas();
    const names = Object.keys(plain);
    const scaled = await deltas((n) => (n === names[0] ? 10 : 1));
    plain[names[0]].forEach((d, i) => expect(scaled[names[0]][i]).toBeCloseTo(10 * d, 6));
    expect(plain[names[0]].some((d) => Math.abs(d) > 1e-4)).toBe(true);
    for (const n of names.slice(1)) expect(scaled[n]).toEqual(plain[n]);
  });

  it('every trainable tensor changes after one step; the schedule drives lr per update', async () => {
    const { g, loss } = mlp(9);
    const tr = await openTrainer(runner, buildTrainStep(g, { loss, optimizer: adamw() }));
    const before = await tr.params();
    const lr = cosineLr({ lr: 1e-2, warmup: 2, total: 10, minLr: 1e-3 });
    const want = [5e-3, 1e-2, 1e-2, 5.5e-3, 1e-3, 1e-3];
    [0, 1, 2, 6, 10, 20].forEach((s, i) => expect(lr(s)).toBeCloseTo(want[i], 12));
    await tr.step(signBatch(new Rng('one'), 8), lr(0));
    const after = await tr.params();
    for (const k of Object.keys(before)) expect(sameBits(before[k], after[k]), k).toBe(false);
    expect(() => cosineLr({ lr: 1, warmup: 5, total: 5, minLr: 0 })).toThrow(/warmup < total/);
    await tr.close();
  });

  it('K steps in one Loop equal K single steps bit for bit', async () => {
    const rng = new Rng('k');
    const batches = Array.from({ length: 5 }, () => signBatch(rng, 32));
    const lrs = [1e-2, 8e-3, 6e-3, 4e-3, 2e-3];
    const a = mlp(2), b = mlp(2);
    const ma = buildTrainStep(a.g, { loss: a.loss, optimizer: adamw(), clipNorm: 0.5 });
    const mb = buildTrainStep(b.g, { loss: b.loss, optimizer: adamw(), clipNorm: 0.5 });
    const r2 = await openRunner({ threads: 1 });
    try {
      const single = await openTrainer(runner, ma);
      const looped = await openTrainer(r2, mb);
      const losses: number[] = [];
      for (let i = 0; i < 5; i++) losses.push(scalar((await single.step(batches[i], lrs[i])).loss));
      const m = await looped.steps(stack(batches), lrs);
      expect(m.loss.shape).toEqual([5]);
      expect(Array.from(m.loss.data as Float32Array)).toEqual(losses);
      const sa = await single.state(), sb = await looped.state();
      for (const k of Object.keys(sa)) expect(sameBits(sa[k], sb[k]), k).toBe(true);
      expect(scalar(sb.step)).toBe(5);
    } finally {
      await r2.close();
    }
  });

  it('K-step equals K single steps bit for bit for a transformer LM too (LayerNorm, attention, embeddings)', async () => {
    const cfg = { vocab: 11, dim: 16, heads: 2, layers: 2, ffn: 32, maxSeq: 6 };
    const rng = new Rng('k-lm');
    const tok = () => hostTensor('int64', [3, 6], Array.from({ length: 18 }, () => rng.int(11)));
    const batches = Array.from({ length: 4 }, () => ({ ids: tok(), targets: tok() }));
    const lrs = [3e-3, 2e-3, 1e-3, 5e-4];
    const a = lmGraph(cfg, 4), b = lmGraph(cfg, 4);
    const r2 = await openRunner({ threads: 1 });
    try {
      const single = await openTrainer(runner, buildTrainStep(a.g, { loss: a.loss, optimizer: adamw(), clipNorm: 1 }));
      const looped = await openTrainer(r2, buildTrainStep(b.g, { loss: b.loss, optimizer: adamw(), clipNorm: 1 }));
      const losses: number[] = [];
      for (let i = 0; i < 4; i++) losses.push(scalar((await single.step(batches[i], lrs[i])).loss));
      const m = await looped.steps(stack(batches), lrs);
      expect(Array.from(m.loss.data as Float32Array)).toEqual(losses);
      const sa = await single.state(), sb = await looped.state();
      for (const k of Object.keys(sa)) expect(sameBits(sa[k], sb[k]), k).toBe(true);
      await single.close();
    } finally {
      await r2.close();
    }
  });

  it('a checkpoint round-trips bit for bit and resuming continues identically', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'o2o-'));
    const rng = new Rng('ckpt');
    const batches = Array.from({ length: 6 }, () => signBatch(rng, 16));
    const a = mlp(3), b = mlp(3);
    const r2 = await openRunner({ threads: 1 });
    try {
      const ta = await openTrainer(runner, buildTrainStep(a.g, { loss: a.loss, optimizer: adamw() }));
      for (let i = 0; i < 3; i++) await ta.step(batches[i], 1e-2);
      const file = path.join(dir, 'ck.safetensors');
      await ta.save(file, { note: 'x' });
      const tb = await openTrainer(r2, buildTrainStep(b.g, { loss: b.loss, optimizer: adamw() }));
      const meta = await tb.load(file);
      expect(meta).toEqual({ note: 'x', step: '3' });
      const s1 = await ta.state(), s2 = await tb.state();
      for (const k of Object.keys(s1)) expect(sameBits(s1[k], s2[k]), k).toBe(true);
      for (let i = 3; i < 6; i++) {
        const la = await ta.step(batches[i], 1e-2), lb = await tb.step(batches[i], 1e-2);
        expect(sameBits(la.loss, lb.loss)).toBe(true);
      }
      const e1 = await ta.state(), e2 = await tb.state();
      for (const k of Object.keys(e1)) expect(sameBits(e1[k], e2[k]), k).toBe(true);
    } finally {
      await r2.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
