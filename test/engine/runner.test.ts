import { describe, expect, it } from 'vitest';
import { Graph, type HostTensor, type RunnerOptions, buildInference, hostTensor, mul, openRunner, add } from '../../src/engine/index.ts';

function tiny(): Uint8Array {
  const g = new Graph();
  const x = g.input('x', 'float32', ['n']);
  const acc = g.input('acc', 'float32', ['n']);
  const w = g.param('w', hostTensor('float32', [1], [2]));
  return buildInference(g, { outputs: { y: mul(x, w), acc_next: add(acc, x) } }).onnx;
}

describe('runner', () => {
  for (const thread of ['worker', 'inline'] as const) {
    it(`${thread}: runs, carries outputs into the state, and reports missing inputs`, async () => {
      const r = await openRunner({ thread, threads: 1 });
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

  for (const thread of ['worker', 'inline'] as const) {
    it(`${thread}: carried outputs reuse buffers, yet state snapshots and fetched carried outputs stay as they were`, async () => {
      const g = new Graph();
      const acc = g.input('acc', 'float32', [3]);
      const x = g.input('x', 'float32', [3]);
      const model = buildInference(g, { outputs: { acc_next: add(acc, x) } }).onnx;
      const r = await openRunner({ thread, threads: 1 });
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
  });
});
