import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  adamw, buildTrainStep, decodeSafetensors, encodeSafetensors, hostTensor, loadSafetensors, openRunner, openTrainer, saveSafetensors,
} from '../../src/engine/index.ts';
import { mlp, sameBits } from './helpers.ts';

describe('safetensors', () => {
  it('reads a file written by the reference implementation (tools/engine_golden.py)', () => {
    const { tensors, metadata } = loadSafetensors(fileURLToPath(new URL('./fixtures/reference.safetensors', import.meta.url)));
    expect(metadata).toEqual({ step: '7', note: 'reference' });
    expect(tensors.w.dtype).toBe('float32');
    expect(tensors.w.shape).toEqual([2, 3]);
    expect(Array.from(tensors.w.data as Float32Array)).toEqual([0, 1, 2, 3, 4, 5].map((v) => Math.fround(v / 7)));
    expect(Array.from(tensors.d.data as Float64Array)).toEqual([1 / 3, -2.5]);
    expect(Array.from(tensors.i.data as BigInt64Array)).toEqual([-1n, 2n ** 40n]);
    expect(tensors.b.dtype).toBe('bool');
    expect(Array.from(tensors.b.data as Uint8Array)).toEqual([1, 0, 1]);
  });

  it('round-trips every dtype bit for bit (NaN payloads and -0 included)', () => {
    const f = hostTensor('float32', [4], [0, -0, Infinity, 1.5]);
    new Uint32Array(f.data.buffer)[0] = 0x7fc00123; // a NaN with a payload
    const tensors = {
      f,
      d: hostTensor('float64', [2, 1], [Math.PI, -1e-300]),
      i: hostTensor('int64', [3], [-5, 0, 9]),
      j: hostTensor('int32', [1], [-7]),
      u: hostTensor('uint8', [2], [0, 255]),
      s: hostTensor('float32', [], [3]),
    };
    const back = decodeSafetensors(encodeSafetensors(tensors, { a: 'b' }));
    expect(back.metadata).toEqual({ a: 'b' });
    for (const [k, v] of Object.entries(tensors)) {
      expect(back.tensors[k].shape).toEqual(v.shape);
      expect(sameBits(back.tensors[k], v), k).toBe(true);
    }
  });

  it('refuses a truncated file with its name', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'o2o-'));
    try {
      const file = path.join(dir, 'x.safetensors');
      saveSafetensors(file, { a: hostTensor('float32', [4], [1, 2, 3, 4]) });
      fs.truncateSync(file, fs.statSync(file).size - 3);
      expect(() => loadSafetensors(file)).toThrow(/x\.safetensors: tensor a: offsets \[0, 16\] do not fit F32\[4\]/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a trainer refuses a checkpoint of another model, lists every problem, and keeps its state', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'o2o-'));
    const r = await openRunner({ thread: 'inline', threads: 1 });
    try {
      const small = mlp(1, 8), big = mlp(1, 16);
      const ts = await openTrainer(r, buildTrainStep(small.g, { loss: small.loss, optimizer: adamw() }));
      const file = path.join(dir, 'small.safetensors');
      await ts.save(file);
      await ts.close();
      const r2 = await openRunner({ thread: 'inline', threads: 1 });
      try {
        const tb = await openTrainer(r2, buildTrainStep(big.g, { loss: big.loss, optimizer: adamw() }));
        const before = await tb.state();
        await expect(tb.load(file)).rejects.toThrow(/small\.safetensors: checkpoint does not fit this training step:\n {2}w0: expected float32\[4, 16\], got float32\[4, 8\]/);
        const after = await tb.state();
        for (const k of Object.keys(before)) expect(sameBits(before[k], after[k]), k).toBe(true);
      } finally {
        await r2.close();
      }
    } finally {
      await r.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

