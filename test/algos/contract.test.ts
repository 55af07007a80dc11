/**
 * The contract every offline method passes (d3rlpy / TRL style), on a real store, the real VLM and the real
 * engine: loss finite; every trainable tensor changes after a step; the checkpoint holds what the trainer
 * had; the policy file round-trips; a run resumed from its checkpoint equals an uninterrupted run.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSafetensors } from '../../src/engine/index.ts';
import { createVlm, isTrainable, vlmConfig } from '../../src/models/vlm.ts';
import { byteTokenizer } from '../../src/models/tokenizer.ts';
import { loadPolicy } from '../../src/rollout/policy-file.ts';
import { RunFolder } from '../../src/rollout/run-folder.ts';
import { trainOffline, type OfflineOptions } from '../../src/rollout/train-offline.ts';
import { noisyNumberLine, TINY_MODEL } from './helpers.ts';

let root: string;
beforeAll(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'o2o-'));
  await noisyNumberLine(root, 'nl', 10);
});
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

const HEADS_USED: Record<string, string[]> = { sft: [], 'filtered-bc': [], afsft: ['q_head.'] };

// afsft-k: the bench's settings (k-step TD past every utterance, exp filter) with the warm-up and CQL term on
const CASES: [string, string, Record<string, unknown>][] = [
  ['sft', 'sft', {}], ['filtered-bc', 'filtered-bc', {}], ['afsft', 'afsft', {}],
  ['afsft-k', 'afsft', { tdSteps: 1024, filter: 'exp', beta: 5, actorWarmup: 1, cqlCoef: 0.1 }],
];

for (const [name, algo, extra] of CASES) {
  describe(`offline contract: ${name}`, () => {
    const opts = (out: string, steps: number): OfflineOptions => ({
      storeRoot: root, dataset: 'nl', algo, settings: { batchSize: 4, lr: 1e-3, ...extra }, model: TINY_MODEL, steps, out: path.join(root, out),
      seed: 3, checkpointEvery: 1, logEvery: 1, threads: 1, quiet: true,
    });

    it('loss finite, every trainable tensor changes, checkpoint and policy file agree, resume equals uninterrupted', async () => {
      const full = await trainOffline(opts(`${name}-full`, 3));
      const fullRun = new RunFolder(path.join(root, `${name}-full`));
      const metrics = fullRun.readMetrics();
      expect(metrics.map((m) => m.step)).toEqual([1, 2, 3]);
      for (const m of metrics) { expect(Number.isFinite(m.loss)).toBe(true); expect(Number.isFinite(m.grad_norm)).toBe(true); }

      // every tensor the method trains differs from its initial value after the steps. (Not after one step
      // for AFSFT: its Q head starts at 0, so A = 0 keeps no token and the zero output layer passes no
      // gradient to the backbone until the critic's first update.)
      const init = createVlm(vlmConfig(TINY_MODEL), byteTokenizer()).weights;
      const after1 = loadSafetensors(fullRun.ckptPath(algo === 'afsft' ? 2 : 1, '.safetensors')).tensors;
      const trained = Object.keys(init).filter((n) => isTrainable(vlmConfig(TINY_MODEL), n) && !(n.startsWith('value.') || n.startsWith('q_head.')) || HEADS_USED[algo].some((h) => n.startsWith(h)));
      for (const n of trained) {
        expect(after1[n], n).toBeDefined();
        expect(Buffer.from(after1[n].data.buffer).equals(Buffer.from(init[n].data.buffer)), `${n} unchanged`).toBe(false);
      }

      // the policy file holds the trainer's final params, bit for bit, and every other weight unchanged
      const last = loadSafetensors(fullRun.ckptPath(3, '.safetensors')).tensors;
      const pol = loadPolicy(full.policyFile).vlm;
      for (const n of Object.keys(init)) {
        const want = last[n] ?? init[n];
        expect(Buffer.from(pol.weights[n].data.buffer).equals(Buffer.from(want.data.buffer)), n).toBe(true);
      }

      // interrupted after 2 steps, resumed to 3: the same metrics and the same final weights
      await trainOffline(opts(`${name}-resumed`, 2));
      const resumedRes = await trainOffline(opts(`${name}-resumed`, 3));
      const strip = (ms: Record<string, number>[]) => ms.map(({ steps_per_s: _, ...m }) => m);
      expect(strip(new RunFolder(path.join(root, `${name}-resumed`)).readMetrics())).toEqual(strip(metrics));
      const a = loadPolicy(full.policyFile).vlm.weights, b = loadPolicy(resumedRes.policyFile).vlm.weights;
      for (const n of Object.keys(a)) expect(Buffer.from(b[n].data.buffer).equals(Buffer.from(a[n].data.buffer)), n).toBe(true);
    });
  });
}

describe('offline methods refuse what they cannot use', () => {
  it('an unknown method, a changed config on resume, and a too-long output name the problem', async () => {
    const base: OfflineOptions = { storeRoot: root, dataset: 'nl', algo: 'sft', model: TINY_MODEL, steps: 1, out: path.join(root, 'x'), seed: 0, checkpointEvery: 1, logEvery: 1, quiet: true };
    await expect(trainOffline({ ...base, algo: 'dqn' })).rejects.toThrow(/unknown offline method "dqn": expected one of sft, filtered-bc, afsft/);
    await expect(trainOffline({ ...base, settings: { lr: 1e-3, gamma: 0.9 } })).rejects.toThrow(/sft: unknown key "gamma"/);
    await expect(trainOffline({ ...base, model: { ...TINY_MODEL, maxNewTokens: 20 } })).rejects.toThrow(/row 0 .*more than the model's maxNewTokens 20/);
  });
});
