/**
 * Device-resident training on WebGPU (a software Vulkan driver in CI) against the engine's CPU core as the
 * oracle. Skipped, with the reason printed, where no WebGPU adapter exists.
 *
 * Tolerance: float32 kernels on the GPU sum in another order than the CPU's, and Adam divides by sqrt(v), so
 * the two drift apart by about 1e-6 per step on these models (4.5e-6 max after 20 steps of an MLP in a probe).
 * The tests allow 1e-4 absolute after 8 steps and check that the parameters moved far more than that.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { mlpStep, stackBatches } from '../../bench/gpu.ts';
import { loadSafetensors, saveSafetensors } from '../../src/engine/checkpoint.ts';
import { createDeviceCore, type DeviceCore } from '../../src/engine/device/device-core.mjs';
import { probeProvider } from '../../src/engine/device/probe.mjs';
import { DTYPES, hostTensor, numel, type HostTensor } from '../../src/engine/dtype.ts';
import { createCore } from '../../src/engine/ort-core.mjs';

const TOL = 1e-4;
const probe = await probeProvider('webgpu');
if (!probe.ok) console.warn(`test/gpu: WebGPU tests SKIPPED, no usable WebGPU adapter:\n${probe.reason}`);

const m = mlpStep({ seed: 3, batch: 8, dims: [16, 32, 4] }, 8);
const lr = (v = 1e-2) => hostTensor(m.lrType, [], [v]);

function maxAbsDiff(a: Record<string, HostTensor>, b: Record<string, HostTensor>, names: string[]): number {
  let d = 0;
  for (const n of names) {
    const x = a[n].data;
    const y = b[n].data;
    expect(x.length, n).toBe(y.length);
    for (let i = 0; i < x.length; i++) d = Math.max(d, Math.abs(Number(x[i]) - Number(y[i])));
  }
  return d;
}

const bytes = (ts: HostTensor[]) => ts.reduce((s, t) => s + numel(t.shape) * DTYPES[t.dtype].bytes, 0);

async function trainOn(core: DeviceCore, batches = m.batches): Promise<{ id: number; losses: number[] }> {
  core.setState(m.model.initialState());
  const s = await core.open(m.model.single(), m.model.carry);
  const losses: number[] = [];
  for (const b of batches) losses.push(Number((await core.run(s.id, { ...b, lr: lr() })).loss.data[0]));
  return { id: s.id, losses };
}

describe.skipIf(!probe.ok)('device-resident training on webgpu', () => {
  it('K steps with state on the device equal the CPU provider within 1e-4, moving only batch and metrics', async () => {
    const cpu = createCore({ provider: 'cpu' });
    cpu.setState(m.model.initialState());
    const c = await cpu.open(m.model.single(), m.model.carry);
    expect(c.inputNames).not.toContain('frozen'); // frozen weights are initializers, not fed
    const cpuLosses: number[] = [];
    for (const b of m.batches) cpuLosses.push(Number((await cpu.run(c.id, { ...b, lr: lr() })).loss.data[0]));
    const want = cpu.getState(m.model.state);

    const gpu = createDeviceCore({ provider: 'webgpu', reportFallbacks: false });
    try {
      const { losses } = await trainOn(gpu);
      expect(gpu.residency()).toBe('device');
      // Per step only x, y and lr go up; only loss and grad_norm (float32 scalars) come down.
      expect(gpu.traffic()).toEqual({ toDevice: bytes([m.batches[0].x, m.batches[0].y, lr()]), toHost: 8 });
      const got = await gpu.getState(m.model.state);
      const drift = maxAbsDiff(got, want, m.model.state);
      console.log(`webgpu vs cpu after ${m.batches.length} AdamW steps: max |state diff| ${drift.toExponential(2)}`);
      expect(drift).toBeLessThan(TOL);
      expect(maxAbsDiff(want, m.model.initialState(), m.model.params)).toBeGreaterThan(100 * TOL);
      expect(got.step.data[0]).toBe(BigInt(m.batches.length));
      losses.forEach((l, i) => expect(Math.abs(l - cpuLosses[i])).toBeLessThan(TOL));
    } finally {
      await gpu.close();
      await cpu.close();
    }
  });

  it('copying the state every step (the benchmark baseline) moves the whole state both ways', async () => {
    const gpu = createDeviceCore({ provider: 'webgpu', residency: 'host', reportFallbacks: false });
    try {
      await trainOn(gpu, m.batches.slice(0, 2));
      const state = Object.values(m.model.initialState());
      expect(gpu.traffic()).toEqual({
        toDevice: bytes([m.batches[0].x, m.batches[0].y, lr(), ...state]),
        toHost: 8 + bytes(state),
      });
    } finally {
      await gpu.close();
    }
  });

  it('a checkpoint taken from device state round-trips and resumes identically', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'o2o-'));
    const file = path.join(dir, 'ckpt.safetensors');
    const a = createDeviceCore({ provider: 'webgpu', reportFallbacks: false });
    const b = createDeviceCore({ provider: 'webgpu', reportFallbacks: false });
    try {
      const { id } = await trainOn(a, m.batches.slice(0, 3));
      const saved = await a.getState(m.model.state);
      saveSafetensors(file, saved);
      const { tensors } = loadSafetensors(file);
      for (const n of m.model.state) expect(Buffer.from(tensors[n].data.buffer)).toEqual(Buffer.from(saved[n].data.buffer));

      b.setState(tensors);
      const sb = await b.open(m.model.single(), m.model.carry);
      for (const batch of m.batches.slice(3, 5)) {
        const la = (await a.run(id, { ...batch, lr: lr() })).loss.data[0];
        const lb = (await b.run(sb.id, { ...batch, lr: lr() })).loss.data[0];
        expect(lb).toBe(la);
      }
      // Closing the session that owns the device state first moves that state to the host (the tensors die
      // with their session); it must still read back, unchanged.
      const before = await a.getState(m.model.state);
      await a.closeSession(id);
      const after = await a.getState(m.model.state);
      expect(maxAbsDiff(after, before, m.model.state)).toBe(0);
      expect(maxAbsDiff(after, await b.getState(m.model.state), m.model.state)).toBe(0);
    } finally {
      await a.close();
      await b.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the K-step Loop model on the device equals K single CPU steps within 1e-4', async () => {
    const K = 4;
    const cpu = createCore({ provider: 'cpu' });
    const gpu = createDeviceCore({ provider: 'webgpu', reportFallbacks: false });
    try {
      cpu.setState(m.model.initialState());
      const c = await cpu.open(m.model.single(), m.model.carry);
      for (const b of m.batches.slice(0, K)) await cpu.run(c.id, { ...b, lr: lr() });
      gpu.setState(m.model.initialState());
      const g = await gpu.open(m.model.loop(), m.model.carry);
      const out = await gpu.run(g.id, { ...stackBatches(m.batches.slice(0, K)), lr: hostTensor(m.lrType, [K], Array(K).fill(1e-2)) });
      expect(out.loss.shape).toEqual([K]);
      expect(maxAbsDiff(await gpu.getState(m.model.state), cpu.getState(m.model.state), m.model.state)).toBeLessThan(TOL);
    } finally {
      await gpu.close();
      await cpu.close();
    }
  });

  it('reports where each node ran: the matrix products on the GPU, fallbacks by name', async () => {
    const gpu = createDeviceCore({ provider: 'webgpu', reportFallbacks: false });
    try {
      const { id } = await trainOn(gpu, m.batches.slice(0, 1));
      const placement = gpu.placement(id)!;
      const matmuls = placement.filter((p) => p.op === 'MatMul' || p.op === 'Gemm');
      expect(matmuls.length).toBeGreaterThanOrEqual(3);
      for (const p of matmuls) expect(p.provider, p.node).toBe('WebGpuExecutionProvider');
      const off = placement.filter((p) => p.provider !== 'WebGpuExecutionProvider');
      console.log(`webgpu fallbacks in the MLP step: ${off.map((p) => `${p.node}`).join(', ') || 'none'}`);
    } finally {
      await gpu.close();
    }
  });
});
