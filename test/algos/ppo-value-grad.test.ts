/**
 * PPO's value loss trains the value head on the trunk's features; only with valueTrunkGrad does it move the
 * trunk. PPO's steps move the policy the way the advantages point (the whole path: graph, autodiff, AdamW).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hostTensor, openRunner, openTrainer, type HostTensor, type Runner } from '../../src/engine/index.ts';
import { buildPpoStep, cotLogLik, ppoConfig } from '../../src/algos/ppo.ts';
import { encodeTeacherForced } from '../../src/models/policy.ts';
import { Rng } from '../../src/util/rng.ts';
import { OBS, teacherForcedEval, tinyVlm } from '../models/helpers.ts';

let runner: Runner;
beforeAll(async () => { runner = await openRunner({ thread: 'inline', threads: 1 }); });
afterAll(async () => { await runner.close(); });

/** The parameters a step with zero advantages (the policy-gradient term is 0: only the value loss acts) changes. */
async function moved(valueTrunkGrad: boolean): Promise<string[]> {
  const vlm = tinyVlm();
  const rows = OBS(new Rng(4)).map((o, b) => ({ image: o.image, prompt: o.text, output: Int32Array.from([...vlm.tok.encode(`"action": "${b}"`), vlm.tok.special.eos]), actionStart: 0 }));
  const trainer = await openTrainer(runner, buildPpoStep(vlm, ppoConfig({ valueTrunkGrad })));
  try {
    const before = await trainer.params();
    const B = rows.length;
    const vec = (v: number[]): HostTensor => hostTensor('float32', [B], v);
    await trainer.step({ ...encodeTeacherForced(vlm, rows), logp_old: vec([-1, -2, -3]), adv: vec([0, 0, 0]), v_old: vec([0, 0, 0]), ret: vec([5, -5, 2]) }, 1e-2);
    const after = await trainer.params();
    return Object.keys(before).filter((n) => !Buffer.from(before[n].data.buffer).equals(Buffer.from(after[n].data.buffer)));
  } finally { await trainer.close(); }
}

describe('PPO value gradient', () => {
  it('with valueTrunkGrad false (the default) the value loss moves the value head only', async () => {
    const names = await moved(false);
    expect(names.length).toBeGreaterThan(0);
    expect(names.every((n) => n.startsWith('value.'))).toBe(true);
  });

  it('with valueTrunkGrad true (RL4VLM) it also moves the shared trunk', async () => {
    const names = await moved(true);
    expect(names.some((n) => n.startsWith('value.'))).toBe(true);
    expect(names.some((n) => !n.startsWith('value.'))).toBe(true);
  });
});

describe('PPO policy gradient', () => {
  it('steps raise the λ-scaled log-likelihood of the positive-advantage row and lower the negative one', async () => {
    const vlm = tinyVlm();
    const cfg = ppoConfig();
    // a thought part before the action (actionStart > 0), so λ scales some tokens
    const rows = OBS(new Rng(5)).map((o, b) => {
      const thought = Array.from(vlm.tok.encode(`t${b}`));
      return { image: o.image, prompt: o.text, output: Int32Array.from([...thought, ...vlm.tok.encode(`"a": "${b}"`), vlm.tok.special.eos]), actionStart: thought.length };
    });
    const feeds = encodeTeacherForced(vlm, rows);
    const logLik = async (weights: typeof vlm.weights): Promise<Float64Array> => {
      const { logp } = await teacherForcedEval(runner, { ...vlm, weights }, rows, cfg.temperature);
      return cotLogLik(logp.data as Float32Array, feeds.mask.data as Float32Array, rows.map((r) => r.actionStart), cfg.cotLambda);
    };
    const before = await logLik(vlm.weights);
    const trainer = await openTrainer(runner, buildPpoStep(vlm, cfg));
    try {
      const B = rows.length;
      const vec = (v: ArrayLike<number>): HostTensor => hostTensor('float32', [B], Array.from(v));
      for (let i = 0; i < 3; i++) {
        await trainer.step({ ...feeds, logp_old: vec(before), adv: vec([1, -1, 0]), v_old: vec([0, 0, 0]), ret: vec([0, 0, 0]) }, 1e-3);
      }
      const after = await logLik({ ...vlm.weights, ...(await trainer.params()) });
      expect(after[0]).toBeGreaterThan(before[0]);
      expect(after[1]).toBeLessThan(before[1]);
    } finally { await trainer.close(); }
  });
});
