import { ppoConfig } from '../../src/algos/ppo.ts';
/**
 * The online stage on real envs, a real store and the real VLM (tiny): PPO's ratio is 1 at the first
 * epoch; rollout rows carry the acting policy's version and log-probs that the policy reproduces by
 * teacher forcing; CoSo and VLMQ-online run; a resumed run equals an uninterrupted one.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildInference, Graph, openRunner } from '../../src/engine/index.ts';
import { encodeTeacherForced, teacherForced, teacherForcedInputs, tokenLogprobs } from '../../src/models/policy.ts';
import { byteTokenizer } from '../../src/models/tokenizer.ts';
import { createVlm, declareVlm, vlmConfig, type Vlm } from '../../src/models/vlm.ts';
import { openTable } from '../../src/store/index.ts';
import { loadPolicy, savePolicy } from '../../src/rollout/policy-file.ts';
import { RunFolder } from '../../src/rollout/run-folder.ts';
import { trainOnline, type OnlineOptions } from '../../src/rollout/train-online.ts';
import { startEnvServer } from '../../src/envs/remote/server.ts';
import { noisyNumberLine, TINY_MODEL } from '../algos/helpers.ts';

let root: string, from: string;
const MODEL = { ...TINY_MODEL, maxNewTokens: 40 };
beforeAll(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'o2o-'));
  from = path.join(root, 'init.safetensors');
  savePolicy(from, createVlm(vlmConfig(MODEL), byteTokenizer()), 5);
});
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

const opts = (over: Partial<OnlineOptions>): OnlineOptions => ({
  from, task: 'numberline', algo: 'ppo', settings: { stepsPerUpdate: 4, minibatchSize: 4, epochs: 2 }, envSteps: 30, envs: 2,
  out: path.join(root, 'run'), seed: 1, storeRoot: root, dataset: 'd', threads: 1, quiet: true, ...over,
});

/** Teacher-forced per-token log-probs of stored rows under a policy. */
async function teacherForcedLogprobs(vlm: Vlm, rows: { image: Uint8Array | null; prompt: string; output: Int32Array; actionStart: number }[], temperature: number): Promise<Float32Array[]> {
  const g = new Graph();
  const p = declareVlm(g, vlm);
  const x = teacherForcedInputs(g, vlm.cfg);
  const logp = tokenLogprobs(teacherForced(p, x).logits, x.targets, temperature);
  const runner = await openRunner({ threads: 1, thread: 'inline' });
  try {
    const s = await runner.open(buildInference(g, { outputs: { logp } }).onnx);
    const feeds = encodeTeacherForced(vlm, rows);
    const out = (await s.run(feeds, ['logp'])).logp.data as Float32Array;
    const T = feeds.mask.shape[1];
    return rows.map((r, b) => out.slice(b * T, b * T + r.output.length));
  } finally { await runner.close(); }
}

describe('online PPO', () => {
  it('ratio 1 at the first epoch; rows carry the policy version and reproducible log-probs; resume equals uninterrupted', async () => {
    const full = await trainOnline(opts({ out: path.join(root, 'full'), dataset: 'full' }));
    const ms = new RunFolder(path.join(root, 'full')).readMetrics();
    expect(ms.length).toBeGreaterThanOrEqual(2); // a batch holds whole episodes, so it may overshoot stepsPerUpdate
    for (const m of ms) {
      expect(m.ratio_first).toBeCloseTo(1, 4);
      expect(Number.isFinite(m.pg) && Number.isFinite(m.vf)).toBe(true);
    }
    expect(full.state.version).toBe(5 + ms.length);

    const snap = await (await openTable(root, 'full')).snapshot();
    const t = await snap.read({ columns: ['policy_version', 'obs_image', 'obs_text', 'output_tokens', 'output_logprobs', 'action_start'] });
    const versions = new Set(Array.from({ length: t.numRows }, (_, i) => t.getChild('policy_version')!.get(i)));
    expect([...versions].sort()).toEqual(ms.map((_, k) => 5 + k));
    const v5 = Array.from({ length: t.numRows }, (_, i) => i).filter((i) => t.getChild('policy_version')!.get(i) === 5).slice(0, 6);
    const rows = v5.map((i) => ({
      image: t.getChild('obs_image')!.get(i), prompt: t.getChild('obs_text')!.get(i),
      output: Int32Array.from(t.getChild('output_tokens')!.get(i)), actionStart: t.getChild('action_start')!.get(i),
    }));
    // stored log-probs are those of π_T at PPO's sampling temperature
    const tf = await teacherForcedLogprobs(loadPolicy(from).vlm, rows, ppoConfig().temperature);
    v5.forEach((i, r) => {
      const stored = Array.from(t.getChild('output_logprobs')!.get(i) as Float32Array);
      expect(stored.length).toBe(tf[r].length);
      stored.forEach((lp, j) => expect(Math.abs(lp - tf[r][j])).toBeLessThan(1e-4));
    });

    // interrupted after the first update, resumed: the same metrics and the same final policy
    await trainOnline(opts({ out: path.join(root, 'resumed'), dataset: 'resumed', envSteps: ms[0].env_steps }));
    const res = await trainOnline(opts({ out: path.join(root, 'resumed'), dataset: 'resumed' }));
    const strip = (xs: Record<string, number>[]) => xs.map((m) => Object.fromEntries(Object.entries(m).filter(([k]) => !/_s$|per_s$/.test(k))));
    expect(strip(new RunFolder(path.join(root, 'resumed')).readMetrics())).toEqual(strip(ms));
    const a = loadPolicy(full.policyFile).vlm.weights, b = loadPolicy(res.policyFile).vlm.weights;
    for (const n of Object.keys(a)) expect(Buffer.from(b[n].data.buffer).equals(Buffer.from(a[n].data.buffer)), n).toBe(true);
  });
});

describe('online PPO, ratio per token', () => {
  it('the per-token ratio is 1 at the first epoch on the stored behaviour log-probs, and the policy moves', async () => {
    const settings = { stepsPerUpdate: 4, minibatchSize: 4, epochs: 2, valueWarmup: 0, uniformValueOnly: false, targetKl: 0, ratioLevel: 'token' };
    const r = await trainOnline(opts({ out: path.join(root, 'tok'), dataset: 'tok', envSteps: 30, settings }));
    const ms = new RunFolder(path.join(root, 'tok')).readMetrics();
    expect(ms.length).toBeGreaterThanOrEqual(2);
    for (const m of ms) {
      expect(m.ratio_first).toBeCloseTo(1, 4);
      expect(m.kl).toBeGreaterThan(0); // later minibatch steps see a moved policy
      expect(Number.isFinite(m.pg)).toBe(true);
    }
    const before = loadPolicy(from).vlm.weights, after = loadPolicy(r.policyFile).vlm.weights;
    const moved = Object.keys(before).filter((n) => !n.startsWith('value.') && !Buffer.from(before[n].data.buffer).equals(Buffer.from(after[n].data.buffer)));
    expect(moved.length).toBeGreaterThan(0);
  });
});

describe('online PPO, format penalty', () => {
  it('the first batch is the same with and without it, but for the penalty on the rows whose action did not parse', async () => {
    const settings = { stepsPerUpdate: 8, minibatchSize: 4, epochs: 1 };
    const rows = async (name: string, formatPenalty?: number) => {
      await trainOnline(opts({ out: path.join(root, name), dataset: name, envSteps: 8, settings, formatPenalty }));
      const t = await (await (await openTable(root, name)).snapshot()).read({ columns: ['episode_id', 'step', 'reward', 'action_valid', 'output_text'] });
      return Array.from({ length: t.numRows }, (_, i) => ({
        id: `${t.getChild('episode_id')!.get(i)}#${t.getChild('step')!.get(i)}`, reward: t.getChild('reward')!.get(i) as number,
        valid: t.getChild('action_valid')!.get(i) as boolean, text: t.getChild('output_text')!.get(i) as string,
      })).sort((a, b) => a.id.localeCompare(b.id));
    };
    const plain = await rows('pen-0'), pen = await rows('pen-1', 0.5);
    expect(pen.map((r) => r.text)).toEqual(plain.map((r) => r.text));
    expect(plain.some((r) => !r.valid)).toBe(true); // a fresh tiny model rarely names a legal action
    pen.forEach((r, i) => expect(r.reward).toBeCloseTo(plain[i].reward - (r.valid ? 0 : 0.5), 6));
    expect(JSON.parse(fs.readFileSync(path.join(root, 'pen-1', 'config.json'), 'utf8')).formatPenalty).toBe(0.5);
  });
});

describe('online PPO, KL early stop', () => {
  it('an update stops its epochs once the KL estimate passes 1.5 x targetKl', async () => {
    const settings = { stepsPerUpdate: 8, minibatchSize: 4, epochs: 4, valueWarmup: 0, uniformValueOnly: false };
    const free = await trainOnline(opts({ out: path.join(root, 'kl-free'), dataset: 'kl-free', envSteps: 8, settings: { ...settings, targetKl: 0 } }));
    const stop = await trainOnline(opts({ out: path.join(root, 'kl-stop'), dataset: 'kl-stop', envSteps: 8, settings: { ...settings, targetKl: 1e-12 } }));
    expect(free.last.minibatch_steps).toBeGreaterThanOrEqual(8); // 4 epochs of >= 2 minibatches
    // the first step changes the policy, so the second step's estimate (before it) is > 0: at most 2 steps
    expect(stop.last.minibatch_steps).toBeLessThanOrEqual(2);
    expect(stop.last.kl).toBeGreaterThan(0);
  });

  it('during the value warm-up only the value head moves (PPO and CoSo)', async () => {
    await noisyNumberLine(root, 'warm-coso', 6); // CoSo's SCM pre-trains on it
    const start = loadPolicy(from).vlm.weights;
    for (const algo of ['ppo', 'coso'] as const) {
      const settings = { stepsPerUpdate: 8, minibatchSize: 4, epochs: 2, valueWarmup: 1, ...(algo === 'coso' ? { scmPretrainSteps: 2 } : {}) };
      const r = await trainOnline(opts({ algo, out: path.join(root, `warm-${algo}`), dataset: `warm-${algo}`, envSteps: 8, settings }));
      const end = loadPolicy(r.policyFile).vlm.weights;
      const moved = Object.keys(start).filter((n) => !Buffer.from(start[n].data.buffer).equals(Buffer.from(end[n].data.buffer)));
      expect(moved.length, algo).toBeGreaterThan(0);
      expect(moved.every((n) => n.startsWith('value.')), `${algo}: ${moved.join(', ')}`).toBe(true);
    }
  });
});

describe('online PPO, batches without signal', () => {
  it('an update is value-only exactly when every episode of its batch (read back from the store) has the same return', async () => {
    const settings = { stepsPerUpdate: 4, minibatchSize: 4, epochs: 1, valueWarmup: 0 };
    await trainOnline(opts({ out: path.join(root, 'uniform'), dataset: 'uniform', envSteps: 60, settings }));
    const ms = new RunFolder(path.join(root, 'uniform')).readMetrics();
    const t = await (await openTable(root, 'uniform')).snapshot().then((s) => s.read({ columns: ['policy_version', 'episode_id', 'reward'] }));
    expect(ms.length).toBeGreaterThanOrEqual(3);
    ms.forEach((m, k) => {
      const ret = new Map<string, number>();
      for (let i = 0; i < t.numRows; i++) {
        if (t.getChild('policy_version')!.get(i) !== 5 + k) continue;
        const e = t.getChild('episode_id')!.get(i) as string;
        ret.set(e, (ret.get(e) ?? 0) + (t.getChild('reward')!.get(i) as number));
      }
      expect(ret.size, `update ${k}`).toBeGreaterThan(0);
      const rs = [...ret.values()];
      expect(m.value_only, `update ${k}: returns ${rs.join(', ')}`).toBe(rs.every((r) => Math.abs(r - rs[0]) < 1e-6) ? 1 : 0);
      if (m.value_only) expect(m.pg).toBe(0); // advantages fed as 0
    });
    expect(ms.some((m) => m.value_only === 0)).toBe(true);
  });

  it('one env, one episode per batch: every batch is uniform, so only the value head moves', async () => {
    const settings = { stepsPerUpdate: 1, minibatchSize: 4, epochs: 1, valueWarmup: 0 };
    const r = await trainOnline(opts({ out: path.join(root, 'single'), dataset: 'single', envs: 1, envSteps: 12, settings }));
    const ms = new RunFolder(path.join(root, 'single')).readMetrics();
    expect(ms.length).toBeGreaterThanOrEqual(1);
    ms.forEach((m, k) => expect([m.episodes - (k ? ms[k - 1].episodes : 0), m.value_only, m.pg]).toEqual([1, 1, 0]));
    const start = loadPolicy(from).vlm.weights, end = loadPolicy(r.policyFile).vlm.weights;
    const moved = Object.keys(start).filter((n) => !Buffer.from(start[n].data.buffer).equals(Buffer.from(end[n].data.buffer)));
    expect(moved.length).toBeGreaterThan(0);
    expect(moved.every((n) => n.startsWith('value.')), moved.join(', ')).toBe(true);
  });
});

describe('online CoSo and VLMQ-online', () => {
  it('CoSo pre-trains its SCM on the store and adds a finite weighted entropy', async () => {
    await noisyNumberLine(root, 'coso', 6);
    const r = await trainOnline(opts({ algo: 'coso', out: path.join(root, 'coso'), dataset: 'coso', envSteps: 8, settings: { stepsPerUpdate: 8, minibatchSize: 4, epochs: 1, scmPretrainSteps: 5, valueWarmup: 0, uniformValueOnly: false } }));
    expect(r.last.scm_pretrain_rows).toBeGreaterThan(0);
    expect(Number.isFinite(r.last.entropy_b)).toBe(true);
    expect(r.last.entropy_b).toBeGreaterThan(0);
  });

  it('AFSFT online trains on the offline rows and the fresh rows together', async () => {
    const offline = await noisyNumberLine(root, 'vlmq', 4);
    const from256 = path.join(root, 'init256.safetensors');
    savePolicy(from256, createVlm(vlmConfig({ ...TINY_MODEL, maxNewTokens: 256 }), byteTokenizer()), 0);
    const r = await trainOnline(opts({ from: from256, algo: 'afsft', out: path.join(root, 'vlmq'), dataset: 'vlmq', envSteps: 8, settings: { envStepsPerUpdate: 8, gradStepsPerUpdate: 2, batchSize: 4 } }));
    expect(r.last.store_rows).toBe(offline.length + r.state.envSteps);
    expect(Number.isFinite(r.last.loss)).toBe(true);
  });
});

describe('online with remote envs', () => {
  it('acts in envs of a remote-env server exactly as in local ones', async () => {
    const server = await startEnvServer({ tasks: ['numberline'], port: 0 });
    try {
      const r = await trainOnline(opts({ out: path.join(root, 'remote'), dataset: 'remote', envSteps: 4, remote: { url: server.url }, concurrency: 1 }));
      expect(r.state.envSteps).toBeGreaterThanOrEqual(4);
      const t = await (await (await openTable(root, 'remote')).snapshot()).read({ columns: ['task', 'policy_version'] });
      expect(t.numRows).toBe(r.state.envSteps);
      expect(t.getChild('task')!.get(0)).toBe('gym_cards/NumberLine-v0');
    } finally { await server.close(); }
  });
});
