/** The plain-JS references of src/algos/ against golden values from PyTorch (tools/golden-algos.py). */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { gae } from '../../src/algos/gae.ts';
import { ppoLossReference } from '../../src/algos/ppo.ts';
import { weightedEntropyReference } from '../../src/algos/coso.ts';
import { softValue } from '../../src/algos/afsft.ts';

const g = JSON.parse(readFileSync(new URL('./fixtures/algos-golden.json', import.meta.url), 'utf8'));

describe('golden values (PyTorch)', () => {
  it('PPO loss', () => {
    const s = ppoLossReference(g.ppo, g.ppo);
    expect(s.pg).toBeCloseTo(g.ppo.pg, 12);
    expect(s.vf).toBeCloseTo(g.ppo.vf, 12);
    expect(s.loss).toBeCloseTo(g.ppo.loss, 12);
  });

  it('GAE with termination and truncation', () => {
    const x = g.gae;
    const r = gae(x, x.gamma, x.lam);
    x.advantages.forEach((a: number, i: number) => expect(r.advantages[i]).toBeCloseTo(a, 12));
    x.returns.forEach((a: number, i: number) => expect(r.returns[i]).toBeCloseTo(a, 12));
  });

  it('soft value and CoSo weighted entropy', () => {
    const e = g.entropy, V = e.V;
    const ent: number[] = [];
    for (let k = 0; k < e.entropy.length; k++) {
      const l = e.logits.slice(k * V, k * V + V);
      const mx = Math.max(...l);
      const z = l.reduce((s: number, x: number) => s + Math.exp(x - mx), 0);
      ent.push(-l.reduce((s: number, x: number) => s + (Math.exp(x - mx) / z) * (x - mx - Math.log(z)), 0));
      expect(softValue(l, e.q.slice(k * V, k * V + V))).toBeCloseTo(e.softValue[k], 12);
    }
    ent.forEach((h, k) => expect(h).toBeCloseTo(e.entropy[k], 12));
    expect(weightedEntropyReference(ent, e.w, e.mask)).toBeCloseTo(e.weighted, 12);
  });
});
