import { describe, expect, it } from 'vitest';
import { Graph, type HostTensor, type RunnerOptions, adamw, buildInference, buildTrainStep, concat, gather, hostTensor, mul, openRunner, openTrainer, add } from '../../src/engine/index.ts';
import { Rng } from '../../src/util/rng.ts';
import { lmGraph } from './models.ts';
import { BINDINGS } from '../../src/engine/ort-core.mjs';

function tiny(): Uint8Array {
  const g = new Graph();
  const x = g.input('x', 'float32', ['n']);
  const acc = g.input('acc', 'float32', ['n']);
  const w = g.param('w', hostTensor('float32', [1], [2]));
  return buildInference(g, { outputs: { y: mul(x, w), acc_next: add(acc, x) } }).onnx;
}

describe('runner', () => {
  const modes = (['worker', 'inline'] as const).flatMap((thread) => BINDINGS.map((binding) => ({ thread, binding })));
  for (const { thread, binding } of modes) {
    it(`${thread}, ${binding}: runs, carries outputs into the state, and reports missing inputs`, async () => {
      const r = await openRunner({ thread, threads: 1, binding });
      expect(r.binding).toBe(binding);
      try {
        const s = await r.open(tiny(), { acc_next: 'acc' });
        expect(s.inputNames.sort()).toEqual(['acc', 'x']);
        await r.setState({ acc: hostTensor('float32', [2], [0, 0]) });
        for (let i = 1; i <= 3; i++) {
          const out = await s.run({ x: hostTensor('float32', [2], [i, 10 * i]) });
          expect(Object.keys(out)).toEqual(['y']);
          expect(Array.from(out.y.data as Float32Array)).toEqual([2 * i, 20 * i]);
        }
        expect(Array.from((await r.getState(['acc'])).acc.data as Float32Array)).toEqual([6, 60]);
        await expect(s.run({ x: hostTensor('float64', [2], [1, 1]) })).rejects.toThrow(/input "x": expected float32\[n\], got float64\[2\]/);
        await expect(s.run({ x: hostTensor('float32', [3], [1, 1, 1]) })).rejects.toThrow(/dim "n" is 3 here but 2 in input "acc"|dim "n" is 2 here but 3 in input "x"/);
        await r.deleteState(['acc']);
        await expect(s.run({ x: hostTensor('float32', [2], [1, 1]) })).rejects.toThrow(/input "acc" was neither fed nor found in the runner's state/);
        await s.close();
      } finally {
        await r.close();
      }
    });
  }

  for (const { thread, binding } of modes) {
    it(`${thread}, ${binding}: carried outputs reuse buffers, yet state snapshots and fetched carried outputs stay as they were`, async () => {
      const g = new Graph();
      const acc = g.input('acc', 'float32', [3]);
      const x = g.input('x', 'float32', [3]);
      const model = buildInference(g, { outputs: { acc_next: add(acc, x) } }).onnx;
      const r = await openRunner({ thread, threads: 1, binding });
      try {
        const s = await r.open(model, { acc_next: 'acc' });
        const start = hostTensor('float32', [3], [1, 2, 3]);
        await r.setState({ acc: start });
        const snaps: HostTensor[] = [];
        const fetched: HostTensor[] = [];
        for (let i = 0; i < 5; i++) {
          fetched.push((await s.run({ x: hostTensor('float32', [3], [10, 10, 10]) }, ['acc_next'])).acc_next);
          snaps.push((await r.getState(['acc'])).acc);
        }
        // read only now, after later runs have written into the runner's buffers again
        const want = [1, 2, 3, 4, 5].map((k) => [1 + 10 * k, 2 + 10 * k, 3 + 10 * k]);
        expect(snaps.map((t) => Array.from(t.data as Float32Array))).toEqual(want);
        expect(fetched.map((t) => Array.from(t.data as Float32Array))).toEqual(want);
        expect(Array.from(start.data as Float32Array), "the caller's tensor given to setState is never written").toEqual([1, 2, 3]);
        await s.close();
      } finally {
        await r.close();
      }
    });
  }

  it('the two bindings train bit for bit alike: single steps, a K-step Loop, state read back', async () => {
    const cfg = { vocab: 16, dim: 16, heads: 2, layers: 1, ffn: 32, maxSeq: 8 };
    const rng = new Rng('bindings');
    const tok = (n: number) => Array.from({ length: n }, () => rng.int(cfg.vocab));
    const batches = Array.from({ length: 3 }, () => ({ ids: hostTensor('int64', [2, 8], tok(16)), targets: hostTensor('int64', [2, 8], tok(16)) }));
    const stacked = { ids: hostTensor('int64', [2, 2, 8], tok(32)), targets: hostTensor('int64', [2, 2, 8], tok(32)) };
    const runs: Record<string, { losses: number[]; state: Record<string, HostTensor> }> = {};
    for (const binding of BINDINGS) {
      const { g, loss } = lmGraph(cfg, 3);
      const r = await openRunner({ threads: 1, binding });
      try {
        const tr = await openTrainer(r, buildTrainStep(g, { loss, optimizer: adamw(), clipNorm: 1 }));
        const losses: number[] = [];
        for (const b of batches) losses.push((await tr.step(b, 1e-2)).loss.data[0] as number);
        losses.push(...((await tr.steps(stacked, [1e-2, 5e-3])).loss.data as Float32Array));
        runs[binding] = { losses, state: await tr.state() };
        await tr.close();
      } finally {
        await r.close();
      }
    }
    const [a, b] = BINDINGS.map((k) => runs[k]);
    expect(b.losses).toEqual(a.losses);
    expect(Number((a.state.step.data as BigInt64Array)[0])).toBe(5);
    expect(Object.keys(b.state).sort()).toEqual(Object.keys(a.state).sort());
    for (const [n, t] of Object.entries(a.state)) expect(Buffer.from(b.state[n].data.buffer).equals(Buffer.from(t.data.buffer)), n).toBe(true);
  });

  for (const binding of BINDINGS) {
    it(`${binding}: carried state that grows (a KV cache), feeds that are views, and a failed run that leaves the state as it was`, async () => {
      const g = new Graph();
      const cache = g.input('cache', 'float32', ['past', 2]);
      const x = g.input('x', 'float32', [1, 2]);
      const idx = g.input('idx', 'int64', [1]);
      const model = buildInference(g, { outputs: { cache_next: concat([cache, x], 0), picked: gather(x, idx, 1) } }).onnx;
      const r = await openRunner({ thread: 'inline', threads: 1, binding });
      try {
        const s = await r.open(model, { cache_next: 'cache' });
        await r.setState({ cache: hostTensor('float32', [0, 2]) });
        for (let i = 1; i <= 3; i++) {
          // x as a view into a larger buffer, at an offset
          const x = { dtype: 'float32' as const, shape: [1, 2], data: Float32Array.from([7, i, -i, 7]).subarray(1, 3) };
          const out = await s.run({ x, idx: hostTensor('int64', [1], [1]) });
          expect(Array.from(out.picked.data as Float32Array)).toEqual([-i]);
        }
        const want = [1, -1, 2, -2, 3, -3];
        const grown = (await r.getState(['cache'])).cache;
        expect(grown.shape).toEqual([3, 2]);
        expect(Array.from(grown.data as Float32Array)).toEqual(want);
        // an index out of range fails inside onnxruntime: the error comes back and the cache keeps its value
        await expect(s.run({ x: hostTensor('float32', [1, 2], [9, 9]), idx: hostTensor('int64', [1], [7]) })).rejects.toThrow(/indices|out of bounds|range/i);
        expect(Array.from((await r.getState(['cache'])).cache.data as Float32Array)).toEqual(want);
        await expect(r.open(new Uint8Array([1, 2, 3]))).rejects.toThrow(/onnxruntime could not load the model/);
        await s.close();
      } finally {
        await r.close();
      }
    });
  }

  it('a provider that cannot start fails with an error naming the missing piece', async () => {
    const r = await openRunner({ provider: 'cuda' });
    try {
      await expect(r.open(tiny())).rejects.toThrow(/'cuda' execution provider[\s\S]*ONNXRUNTIME_NODE_INSTALL=cuda12/);
    } finally {
      await r.close();
    }
  });

  it('refuses unknown options and bad thread counts', async () => {
    await expect(openRunner({ thraeds: 2 } as unknown as RunnerOptions)).rejects.toThrow(/unknown option "thraeds"/);
    await expect(openRunner({ threads: 0 })).rejects.toThrow(/threads must be an integer >= 1, got 0/);
    await expect(openRunner({ provider: 'tpu' as never, thread: 'inline' })).rejects.toThrow(/provider must be one of cpu, cuda, webgpu, got "tpu"/);
    await expect(openRunner({ binding: 'napi' as never })).rejects.toThrow(/binding must be one of c-api, onnxruntime-node, got "napi"/);
    await expect(openRunner({ provider: 'cuda', binding: 'c-api' })).rejects.toThrow(/binding 'c-api' serves the cpu provider only/);
  });
});
