/** The graph versions of the losses (run by onnxruntime) against the plain-JS references and PyTorch golden values. */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gradients } from '../../src/engine/autodiff.ts';
import { hostTensor, type HostTensor } from '../../src/engine/dtype.ts';
import { Graph, type Tensor } from '../../src/engine/graph.ts';
import { openRunner, type Runner } from '../../src/engine/runner.ts';
import { buildInference } from '../../src/engine/train.ts';
import { afsftLoss, afsftLossReference, softValue } from '../../src/algos/afsft.ts';
import { cotLogLik, cotTokenWeights, ppoLoss, ppoLossReference, ppoTokenLoss, ppoTokenLossReference } from '../../src/algos/ppo.ts';
import { weightedEntropy } from '../../src/algos/coso.ts';
import { tokenEntropy } from '../../src/models/policy.ts';
import { sftLoss, sftLossReference } from '../../src/algos/sft.ts';
import { Rng } from '../../src/util/rng.ts';

const golden = JSON.parse(readFileSync(new URL('./fixtures/algos-golden.json', import.meta.url), 'utf8'));
let runner: Runner;
beforeAll(async () => { runner = await openRunner({ thread: 'inline', threads: 1 }); });
afterAll(async () => { await runner.close(); });

async function run(g: Graph, outputs: Record<string, Tensor>, feeds: Record<string, HostTensor>): Promise<Record<string, number[]>> {
  const m = buildInference(g, { outputs });
  const s = await runner.open(m.onnx);
  try {
    const r = await s.run(feeds);
    return Object.fromEntries(Object.entries(r).map(([k, v]) => [k, Array.from(v.data as Float64Array, Number)]));
  } finally { await s.close(); }
}

const f64 = (shape: number[], v: ArrayLike<number>) => hostTensor('float64', shape, v);

describe('graph losses', () => {
  it('PPO: loss and its gradients w.r.t. log π_new and V equal PyTorch', async () => {
    const p = golden.ppo, B = p.adv.length;
    const g = new Graph();
    const inp = (n: string, shape: (number | string)[]) => g.input(n, 'float64', shape);
    const x = { logp: inp('logp', [B, 1]), tokWeight: inp('tw', [B, 1]), v: inp('v', [B]), logpOld: inp('lo', [B]), adv: inp('adv', [B]), vOld: inp('vo', [B]), ret: inp('ret', [B]) };
    const out = ppoLoss(x, p);
    const [dlogp, dv] = gradients(out.loss, [x.logp, x.v]);
    const r = await run(g, { loss: out.loss, pg: out.pg, vf: out.vf, ratio: out.ratio, kl: out.kl, dlogp, dv }, {
      logp: f64([B, 1], p.logpNew), tw: f64([B, 1], new Array(B).fill(1)), v: f64([B], p.v), lo: f64([B], p.logpOld),
      adv: f64([B], p.adv), vo: f64([B], p.vOld), ret: f64([B], p.ret),
    });
    expect(r.loss[0]).toBeCloseTo(p.loss, 12);
    expect(r.pg[0]).toBeCloseTo(p.pg, 12);
    expect(r.vf[0]).toBeCloseTo(p.vf, 12);
    const ref = ppoLossReference(p, p);
    expect(ref.approxKl).toBeGreaterThan(0);
    expect(r.kl[0]).toBeCloseTo(ref.approxKl, 12);
    p.gradLogpNew.forEach((d: number, i: number) => expect(r.dlogp[i]).toBeCloseTo(d, 12));
    p.gradV.forEach((d: number, i: number) => expect(r.dv[i]).toBeCloseTo(d, 12));
  });

  it('PPO: the λ-scaled likelihood inside the graph equals cotLogLik; the ratio is 1 at the behaviour policy', async () => {
    const B = 3, T = 4, lengths = [4, 2, 3], as = [2, 0, 3];
    const rng = new Rng(1);
    const logp = Array.from({ length: B * T }, () => -rng.float() * 3);
    const tw = cotTokenWeights(lengths, as, T, 0.5);
    const mask = Array.from(tw, (w) => (w > 0 ? 1 : 0));
    const old = cotLogLik(logp, mask, as, 0.5);
    const g = new Graph();
    const inp = (n: string, shape: number[]) => g.input(n, 'float64', shape);
    const x = { logp: inp('logp', [B, T]), tokWeight: inp('tw', [B, T]), v: inp('v', [B]), logpOld: inp('lo', [B]), adv: inp('adv', [B]), vOld: inp('vo', [B]), ret: inp('ret', [B]) };
    const out = ppoLoss(x, { clipEps: 0.1, valueCoef: 0.5 });
    const r = await run(g, { ratio: out.ratio, clipFrac: out.clipFrac }, {
      logp: f64([B, T], logp), tw: f64([B, T], tw), v: f64([B], [0, 0, 0]), lo: f64([B], old), adv: f64([B], [1, 2, 3]), vo: f64([B], [0, 0, 0]), ret: f64([B], [0, 0, 0]),
    });
    expect(r.ratio[0]).toBeCloseTo(1, 12);
    expect(r.clipFrac[0]).toBe(0);
  });

  it('PPO per token: policy loss, KL, clip fraction and the gradient w.r.t. log π_new equal PyTorch and the reference', async () => {
    const p = golden.ppoToken, B = p.adv.length, T = p.w.length / B;
    const g = new Graph();
    const inp = (n: string, shape: number[]) => g.input(n, 'float64', shape);
    const x = { logp: inp('logp', [B, T]), tokWeight: inp('tw', [B, T]), mask: inp('mask', [B, T]), v: inp('v', [B]), logpOld: inp('lo', [B, T]), adv: inp('adv', [B]), vOld: inp('vo', [B]), ret: inp('ret', [B]) };
    const out = ppoTokenLoss(x, { clipEps: p.clipEps, valueCoef: 0.5 });
    const [dlogp] = gradients(out.pg, [x.logp]);
    const zeros = f64([B], new Array(B).fill(0));
    const r = await run(g, { pg: out.pg, vf: out.vf, kl: out.kl, clipFrac: out.clipFrac, dlogp }, {
      logp: f64([B, T], p.logpNew), tw: f64([B, T], p.w), mask: f64([B, T], p.mask), lo: f64([B, T], p.logpOld),
      adv: f64([B], p.adv), v: zeros, vo: zeros, ret: zeros,
    });
    expect(p.clipFrac).toBeGreaterThan(0.2); // both branches of the min are exercised
    expect(r.pg[0]).toBeCloseTo(p.pg, 12);
    expect(r.vf[0]).toBe(0);
    expect(r.kl[0]).toBeCloseTo(p.kl, 12);
    expect(r.clipFrac[0]).toBeCloseTo(p.clipFrac, 12);
    p.gradLogpNew.forEach((d: number, i: number) => expect(r.dlogp[i]).toBeCloseTo(d, 12));
    const ref = ppoTokenLossReference(p, p);
    expect(ref.pg).toBeCloseTo(p.pg, 12);
    expect(ref.approxKl).toBeCloseTo(p.kl, 12);
    expect(ref.clipFrac).toBeCloseTo(p.clipFrac, 12);
  });

  it('PPO per token: at the behaviour policy its gradient equals the sequence form\'s; once moved, each token is clipped alone', async () => {
    const B = 3, T = 5, lengths = [5, 2, 4], as = [3, 0, 2];
    const rng = new Rng(7);
    const old = Array.from({ length: B * T }, () => -0.2 - rng.float() * 2);
    const tw = cotTokenWeights(lengths, as, T, 0.5);
    const mask = Array.from(tw, (w) => (w > 0 ? 1 : 0));
    const adv = [1.5, -0.7, 0.4];
    const grad = async (level: 'sequence' | 'token', logp: number[]) => {
      const g = new Graph();
      const inp = (n: string, shape: number[]) => g.input(n, 'float64', shape);
      const common = { logp: inp('logp', [B, T]), tokWeight: inp('tw', [B, T]), v: inp('v', [B]), adv: inp('adv', [B]), vOld: inp('vo', [B]), ret: inp('ret', [B]) };
      const out = level === 'token'
        ? ppoTokenLoss({ ...common, mask: inp('mask', [B, T]), logpOld: inp('lo', [B, T]) }, { clipEps: 0.1, valueCoef: 0.5 })
        : ppoLoss({ ...common, logpOld: inp('lo', [B]) }, { clipEps: 0.1, valueCoef: 0.5 });
      const [d] = gradients(out.pg, [common.logp]);
      const zeros = f64([B], [0, 0, 0]);
      const feeds: Record<string, HostTensor> = { logp: f64([B, T], logp), tw: f64([B, T], tw), adv: f64([B], adv), v: zeros, vo: zeros, ret: zeros };
      if (level === 'token') Object.assign(feeds, { mask: f64([B, T], mask), lo: f64([B, T], old) });
      else feeds.lo = f64([B], cotLogLik(old, mask, as, 0.5));
      return (await run(g, { d }, feeds)).d;
    };
    const seq = await grad('sequence', old), tok = await grad('token', old);
    tok.forEach((d, i) => expect(d).toBeCloseTo(seq[i], 12));
    expect(tok.some((d) => Math.abs(d) > 0.1)).toBe(true);
    // raise one token of row 0 (A > 0) past 1 + ε: only that token's gradient stops
    const moved = old.slice();
    moved[1] += 0.3;
    const tokMoved = await grad('token', moved);
    tokMoved.forEach((d, i) => expect(d).toBeCloseTo(i === 1 ? 0 : tok[i], 12));
  });

  it('CoSo: token entropy and H^B equal PyTorch', async () => {
    const e = golden.entropy, B = 2, T = 5, V = e.V;
    const g = new Graph();
    const logits = g.input('logits', 'float64', [B, T, V]);
    const w = g.input('w', 'float64', [B, T]);
    const mask = g.input('mask', 'float64', [B, T]);
    const ent = tokenEntropy(logits);
    const r = await run(g, { ent, hb: weightedEntropy(ent, w, mask) }, { logits: f64([B, T, V], e.logits), w: f64([B, T], e.w), mask: f64([B, T], e.mask) });
    e.entropy.forEach((h: number, i: number) => expect(r.ent[i]).toBeCloseTo(h, 12));
    expect(r.hb[0]).toBeCloseTo(e.weighted, 12);
  });

  /** Random AFSFT inputs with the per-token quantities the plain-JS reference takes. */
  function afsftCase(seed: number, mask: number[], criticMask: number[]) {
    const B = 2, T = 3, V = 5, rng = new Rng(seed);
    const logits = Array.from({ length: B * T * V }, () => rng.normal());
    const q = Array.from({ length: B * T * V }, () => rng.normal());
    const tokens = Array.from({ length: B * T }, () => rng.int(V));
    const target = Array.from({ length: B * T }, () => rng.normal());
    const lse = (l: number[]) => { const mx = Math.max(...l); return mx + Math.log(l.reduce((acc, x) => acc + Math.exp(x - mx), 0)); };
    const logp: number[] = [], qTaken: number[] = [], v: number[] = [], qLse: number[] = [];
    for (let k = 0; k < B * T; k++) {
      const l = logits.slice(k * V, k * V + V), qk = q.slice(k * V, k * V + V);
      logp.push(l[tokens[k]] - lse(l));
      qTaken.push(qk[tokens[k]]);
      qLse.push(lse(qk));
      v.push(softValue(l, qk));
    }
    /** The graph's loss terms; `filterOn` feeds the warm-up input when given. */
    const graph = async (cfg: Parameters<typeof afsftLoss>[1], filterOn?: number) => {
      const g = new Graph();
      const x = {
        logits: g.input('logits', 'float64', [B, T, V]), q: g.input('q', 'float64', [B, T, V]), tokens: g.input('tokens', 'int64', [B, T]),
        mask: g.input('mask', 'float64', [B, T]), target: g.input('target', 'float64', [B, T]), criticMask: g.input('cm', 'float64', [B, T]),
        ...(filterOn === undefined ? {} : { filterOn: g.input('on', 'float64', []) }),
      };
      const out = afsftLoss(x, cfg);
      return run(g, { loss: out.loss, actor: out.actor, critic: out.critic, kept: out.kept }, {
        logits: f64([B, T, V], logits), q: f64([B, T, V], q), tokens: hostTensor('int64', [B, T], tokens),
        mask: f64([B, T], mask), target: f64([B, T], target), cm: f64([B, T], criticMask),
        ...(filterOn === undefined ? {} : { on: f64([], [filterOn]) }),
      });
    };
    return { ref: { logp, qTaken, v, qLse, target, criticMask, mask }, graph };
  }

  for (const filter of ['binary', 'exp'] as const) {
    it(`AFSFT (${filter} filter): graph loss equals the plain-JS reference`, async () => {
      const c = afsftCase(filter === 'binary' ? 7 : 8, [1, 1, 1, 1, 1, 0], [1, 1, 0, 1, 1, 0]);
      const cfg = { filter, beta: 0.7, maxWeight: 1.5, criticCoef: 0.5 };
      const r = await c.graph(cfg);
      const ref = afsftLossReference(c.ref, cfg);
      expect(r.loss[0]).toBeCloseTo(ref.loss, 10);
      expect(r.actor[0]).toBeCloseTo(ref.actor, 10);
      expect(r.critic[0]).toBeCloseTo(ref.critic, 10);
      expect(r.kept[0]).toBeCloseTo(ref.kept, 10);
    });
  }

  it('AFSFT with the actor warm-up (filter_on 0 and 1) and the CQL term: graph equals the reference', async () => {
    const c = afsftCase(9, [1, 1, 1, 1, 0, 0], [1, 0, 1, 1, 0, 0]);
    const cfg = { filter: 'binary', beta: 1, maxWeight: 20, criticCoef: 0.5, cqlCoef: 0.3 };
    for (const on of [0, 1]) {
      const r = await c.graph(cfg, on);
      const ref = afsftLossReference(c.ref, cfg, on === 1);
      expect(r.actor[0]).toBeCloseTo(ref.actor, 10);
      expect(r.critic[0]).toBeCloseTo(ref.critic, 10);
      if (on === 0) expect(ref.actor).toBeCloseTo(sftLossReference(c.ref.logp, c.ref.mask), 12); // warm-up: plain SFT
    }
    // the CQL term is in the critic: without it the critic loss is the squared TD error alone
    const { qLse: _, ...noLse } = c.ref;
    expect(afsftLossReference(c.ref, cfg).critic).not.toBeCloseTo(afsftLossReference(noLse, { ...cfg, cqlCoef: 0 }).critic, 6);
  });

  it('SFT: graph loss equals the reference', async () => {
    const g = new Graph();
    const lp = g.input('lp', 'float64', [2, 2]);
    const m = g.input('m', 'float64', [2, 2]);
    const r = await run(g, { loss: sftLoss(lp, m) }, { lp: f64([2, 2], [-1, -2, -3, -4]), m: f64([2, 2], [1, 1, 1, 0]) });
    expect(r.loss[0]).toBeCloseTo(sftLossReference([-1, -2, -3, -4], [1, 1, 1, 0]), 12);
  });
});
