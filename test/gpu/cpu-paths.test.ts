/**
 * The parts of the GPU path that run on any machine: the hand-encoded Identity reader for every dtype, node
 * placement from a real onnxruntime profile, and the device core on the CPU provider against the engine's
 * CPU core (bit for bit: same kernels, same order).
 */
import { Worker } from 'node:worker_threads';
import ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { mlpStep } from '../../bench/gpu.ts';
import { createDeviceCore } from '../../src/engine/device/device-core.mjs';
import { describeFallbacks, profileTarget } from '../../src/engine/device/placement.mjs';
import { openSession } from '../../src/engine/device/provider.mjs';
import { createReadback, identityModel } from '../../src/engine/device/readback.mjs';
import { DTYPES, type DType, hostTensor } from '../../src/engine/dtype.ts';
import { createCore } from '../../src/engine/ort-core.mjs';

describe('GPU path pieces on the CPU provider', () => {
  it('the Identity reader round-trips every dtype and rank', async () => {
    const rb = createReadback('cpu');
    try {
      for (const dtype of Object.keys(DTYPES) as DType[]) {
        for (const shape of [[], [5], [2, 3], [1, 2, 2]]) {
          const n = shape.reduce((a, b) => a * b, 1);
          const t = hostTensor(dtype, shape, Array.from({ length: n }, (_, i) => (dtype === 'bool' ? i % 2 : i + 1)));
          const s = await openSession(identityModel(dtype), { provider: 'cpu' });
          const y = (await s.run({ x: new ort.Tensor(dtype, t.data, shape) })).y as ort.Tensor;
          await s.release();
          const back = await rb.read(y);
          expect(back, `${dtype} [${shape}]`).toEqual(t);
        }
      }
    } finally {
      await rb.close();
    }
  });

  it("reads node placement from onnxruntime's profile", async () => {
    const m = mlpStep({ seed: 1, batch: 4, dims: [8, 6, 3] }, 1);
    const profile = profileTarget();
    const s = await openSession(m.model.single(), { provider: 'cpu', profilePrefix: profile.prefix });
    const feeds: Record<string, ort.Tensor> = {};
    for (const [n, t] of Object.entries({ ...m.model.initialState(), ...m.batches[0], lr: hostTensor('float32', [], [0.1]) })) {
      feeds[n] = new ort.Tensor(t.dtype, t.data, t.shape);
    }
    await s.run(feeds);
    const placement = profile.read(s);
    await s.release();
    expect(placement.length).toBeGreaterThan(20);
    for (const p of placement) {
      // o2o's node names; nodes fused by onnxruntime's optimiser get a suffix ('n1_MatMul/MatMulAddFusion')
      expect(p.node).toMatch(/^n\d+_[A-Za-z]+/);
      expect(p.provider).toBe('CPUExecutionProvider');
    }
    expect(placement.filter((p) => /MatMul|Gemm/.test(p.op)).length).toBeGreaterThanOrEqual(3);
    expect(describeFallbacks(placement, 'CPUExecutionProvider')).toEqual([]);
    expect(describeFallbacks(placement, 'WebGpuExecutionProvider')[0]).toMatch(/^n\d+_\S+(, n\d+_\S+)* \(\w+\) on CPUExecutionProvider$/);
  });

  it('the device core on the CPU provider equals the engine CPU core bit for bit', async () => {
    const m = mlpStep({ seed: 2, batch: 4, dims: [8, 6, 3] }, 3);
    const a = createCore({ provider: 'cpu' });
    const b = createDeviceCore({ provider: 'cpu' });
    try {
      for (const core of [a, b]) {
        core.setState(m.model.initialState());
        const { id } = await core.open(m.model.single(), m.model.carry);
        for (const batch of m.batches) await core.run(id, { ...batch, lr: hostTensor('float32', [], [0.05]) });
      }
      expect(b.residency()).toBe('host');
      expect(b.traffic()).toEqual({ toDevice: 0, toHost: 0 });
      expect(await b.getState(m.model.state)).toEqual(a.getState(m.model.state));
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('loads in a worker thread without a TypeScript loader (where the runner runs it)', async () => {
    const url = new URL('../../src/engine/device/device-core.mjs', import.meta.url).href;
    const code = `
      const { parentPort } = require('node:worker_threads');
      (async () => {
        const { createDeviceCore } = await import(${JSON.stringify(url)});
        const { identityModel } = await import(${JSON.stringify(url.replace('device-core.mjs', 'readback.mjs'))});
        const core = createDeviceCore({ provider: 'cpu' });
        core.setState({ x: { dtype: 'float32', shape: [2], data: new Float32Array([3, 4]) } });
        const { id } = await core.open(identityModel('float32'));
        const out = await core.run(id, {});
        await core.close();
        parentPort.postMessage(Array.from(out.y.data));
      })().catch((e) => parentPort.postMessage(String(e)));`;
    const w = new Worker(code, { eval: true });
    const msg = await new Promise((resolve, reject) => {
      w.once('message', resolve);
      w.once('error', reject);
    });
    await w.terminate();
    expect(msg).toEqual([3, 4]);
  });
});
