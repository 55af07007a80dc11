/**
 * The actor loop on real NumberLine envs and a real store table. The acting policy here is a seeded random
 * policy over the byte tokenizer (the model-backed policy is tested in rollout-model.test.ts); the loop,
 * the env calls, the store commit and the determinism are the things under test.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { GymCardsEnv } from '../../src/envs/env.ts';
import { byteTokenizer } from '../../src/models/tokenizer.ts';
import { openTable } from '../../src/store/index.ts';
import { collectRollout, commitBatch, type ActorEnv, type ActorPolicy } from '../../src/rollout/actor.ts';
import { Rng } from '../../src/util/rng.ts';

const tok = byteTokenizer();

function randomPolicy(version: number): ActorPolicy {
  return {
    version,
    tokenizer: tok.id,
    async generate(obs, seed) {
      const rng = new Rng(seed);
      return obs.map(() => {
        const text = `{"thoughts": "guess", "action": "${rng.choice(['+', '-'])}"}`;
        const tokens = tok.encode(text);
        return { text, tokens, logprobs: new Float32Array(tokens.length).fill(Math.log(0.5) / tokens.length), actionStart: text.indexOf('"action"'), value: 0.25 };
      });
    },
    async value(obs) { return new Float32Array(obs.length).fill(0.5); },
  };
}

/** A real env whose calls are counted, to see how many are in flight at once. */
function counted(env: GymCardsEnv, stats: { inFlight: number; max: number }): ActorEnv {
  const wrap = async <T>(f: () => T): Promise<T> => {
    stats.inFlight++;
    stats.max = Math.max(stats.max, stats.inFlight);
    await new Promise((r) => setTimeout(r, 1));
    try { return f(); } finally { stats.inFlight--; }
  };
  return { reset: (seed) => wrap(() => env.resetSync(seed)), step: (text) => wrap(() => env.stepSync(text)) };
}

describe('actor loop', () => {
  it('collects whole episodes, bounds env calls in flight, and is a pure function of (seed, batch)', async () => {
    const stats = { inFlight: 0, max: 0 };
    const make = () => Array.from({ length: 6 }, (_, n) => counted(new GymCardsEnv('numberline', { seed: n, render: false }), stats));
    const o = { task: 'gym_cards/NumberLine-v0', steps: 40, seed: 5, batchIndex: 3, runId: 'r1', concurrency: 2 };
    const a = await collectRollout(make(), randomPolicy(7), o);
    expect(stats.max).toBe(2);
    expect(a.envSteps).toBeGreaterThanOrEqual(40);
    for (const ep of a.episodes) {
      const last = ep[ep.length - 1].row;
      expect(last.terminated || last.truncated).toBe(true);
      ep.forEach((s, t) => { expect(s.row.step).toBe(t); expect(s.row.policy_version).toBe(7); });
      for (const s of ep) if (s.row.truncated) expect(s.truncValue).toBe(0.5);
    }
    const b = await collectRollout(make(), randomPolicy(7), o);
    const strip = (x: typeof a) => x.episodes.flat().map((s) => ({ ...s.row, created_at: 0 }));
    expect(strip(b)).toEqual(strip(a));
    const c = await collectRollout(make(), randomPolicy(7), { ...o, batchIndex: 4 });
    expect(strip(c)).not.toEqual(strip(a));
  });

  it('writes a batch as one commit with its policy version, and never twice', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'o2o-'));
    try {
      const table = await openTable(dir, 'online', { create: true });
      const envs = Array.from({ length: 3 }, (_, n) => new GymCardsEnv('numberline', { seed: n, render: false }));
      const batch = await collectRollout(envs, randomPolicy(2), { task: 'gym_cards/NumberLine-v0', steps: 20, seed: 1, batchIndex: 0, runId: 'run-a', concurrency: 4 });
      const before = (await table.history()).length;
      const r = await commitBatch(table, batch, { runId: 'run-a', batchIndex: 0, policyVersion: 2 });
      expect(r.skipped).toBe(false);
      expect((await table.history()).length).toBe(before + 1);
      const again = await commitBatch(table, batch, { runId: 'run-a', batchIndex: 0, policyVersion: 2 });
      expect(again).toMatchObject({ skipped: true, version: r.version });
      const rows = await (await table.snapshot()).read({ columns: ['episode_id', 'policy_version', 'output_logprobs', 'source'] });
      expect(rows.numRows).toBe(batch.envSteps);
      for (let i = 0; i < rows.numRows; i++) {
        expect(rows.getChild('policy_version')!.get(i)).toBe(2);
        expect(rows.getChild('source')!.get(i)).toBe('online');
        expect(rows.getChild('output_logprobs')!.get(i).length).toBeGreaterThan(0);
      }
    } finally { fs.rmSync(dir, { recursive: true, force: true }); }
  });
});
