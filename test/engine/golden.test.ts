/**
 * The engine against PyTorch (fixtures written by tools/engine_golden.py): a transformer LM's logits, loss
 * and every param gradient, then three AdamW steps with grad-norm clipping.
 * Tolerances (float32): logits and loss 1e-5 abs; gradients 2e-6 + 1e-4 |torch|; after three AdamW steps
 * params within 1e-5 + 1e-4 |torch|, losses and grad norms within 1e-5 relative.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type HostTensor, type Runner, adamw, buildInference, buildTrainStep, gradients, hostTensor, openRunner, openTrainer,
} from '../../src/engine/index.ts';
import { lmGraph, type Weights } from './models.ts';

interface Flat { shape: number[]; data: number[] }
const G = JSON.parse(readFileSync(new URL('./fixtures/transformer_golden.json', import.meta.url), 'utf8')) as {
  config: { V: number; D: number; H: number; T: number; B: number; F: number };
  params: Record<string, Flat>; ids: number[]; targets: number[]; logits: Flat; loss: number; grads: Record<string, Flat>;
  adamw: { lrs: number[]; beta1: number; beta2: number; eps: number; weight_decay: number; clip: number; steps: { loss: number; grad_norm: number }[]; params_after: Record<string, Flat> };
};
const { V, D, H, T, B, F } = G.config;
const cfg = { vocab: V, dim: D, heads: H, layers: 1, ffn: F, maxSeq: T };
/** fixture names (one block, no prefix) -> o2o names (l0.*) */
const rename = (n: string) => (/^(ln[12]\.|w[qkvo]$|bo$|w[12]$|b[12]$)/.test(n) ? `l0.${n}` : n);
const weights: Weights = Object.fromEntries(Object.entries(G.params).map(([n, f]) => [rename(n), hostTensor('float32', f.shape, f.data)]));
const batch = { ids: hostTensor('int64', [B, T], G.ids), targets: hostTensor('int64', [B, T], G.targets) };

function close(actual: HostTensor, want: Flat, atol: number, rtol: number, what: string): void {
  expect(actual.shape, what).toEqual(want.shape);
  let worst = 0, at = -1;
  actual.data.forEach((v, i) => {
    const r = Math.abs(Number(v) - want.data[i]) / (atol + rtol * Math.abs(want.data[i]));
    if (r > worst) [worst, at] = [r, i];
  });
  expect(worst, `${what}: worst element ${at}: ${actual.data[at]} vs ${want.data[at]}`).toBeLessThanOrEqual(1);
}

let runner: Runner;
beforeAll(async () => {
  runner = await openRunner({ thread: 'inline', threads: 1 });
});
afterAll(async () => {
  await runner.close();
});

describe('golden values from PyTorch', () => {
  it('transformer block: logits, loss and every gradient', async () => {
    const { g, loss, logits } = lmGraph(cfg, 0, B, T, weights);
    const names = [...g.params.keys()];
    const grads = gradients(loss, names.map((n) => g.params.get(n)!.tensor));
    const m = buildInference(g, { outputs: { loss, logits, ...Object.fromEntries(names.map((n, i) => [`d/${n}`, grads[i]])) } });
    const s = await runner.open(m.onnx);
    const out = await s.run(batch);
    await s.close();
    expect(Math.abs(Number(out.loss.data[0]) - G.loss)).toBeLessThan(1e-5);
    close(out.logits, G.logits, 1e-5, 0, 'logits');
    for (const [n, f] of Object.entries(G.grads)) close(out[`d/${rename(n)}`], f, 2e-6, 1e-4, `grad ${n}`);
  });

  it('three AdamW steps with grad-norm clipping', async () => {
    const a = G.adamw;
    const { g, loss } = lmGraph(cfg, 0, B, T, weights);
    const opt = adamw({ beta1: a.beta1, beta2: a.beta2, eps: a.eps, weightDecay: a.weight_decay });
    const tr = await openTrainer(runner, buildTrainStep(g, { loss, optimizer: opt, clipNorm: a.clip }));
    for (const [i, lr] of a.lrs.entries()) {
      const m = await tr.step(batch, lr);
      expect(Number(m.loss.data[0])).toBeCloseTo(a.steps[i].loss, 5);
      expect(Math.abs(Number(m.grad_norm.data[0]) / a.steps[i].grad_norm - 1)).toBeLessThan(1e-5);
    }
    const p = await tr.params();
    for (const [n, f] of Object.entries(a.params_after)) close(p[rename(n)], f, 1e-5, 1e-4, `param ${n} after 3 steps`);
    await tr.close();
  });
});
