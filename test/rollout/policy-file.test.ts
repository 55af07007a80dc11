import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadSafetensors, saveSafetensors } from '../../src/engine/index.ts';
import { byteTokenizer } from '../../src/models/tokenizer.ts';
import { createVlm, vlmConfig } from '../../src/models/vlm.ts';
import { loadPolicy, savePolicy } from '../../src/rollout/policy-file.ts';

describe('policy file', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'o2o-policy-'));
  const vlm = createVlm(vlmConfig({ dModel: 32, layers: 1, heads: 2 }), byteTokenizer());

  it('round-trips every weight bit for bit with its version', () => {
    const file = path.join(dir, 'policy.safetensors');
    savePolicy(file, vlm, 3);
    const { vlm: back, version } = loadPolicy(file);
    expect(version).toBe(3);
    expect(Object.keys(back.weights).sort()).toEqual(Object.keys(vlm.weights).sort());
    for (const [name, t] of Object.entries(vlm.weights)) expect(back.weights[name].data).toEqual(t.data);
  });

  it('rejects a file whose weights do not fit its config, naming the weight', () => {
    const file = path.join(dir, 'bad.safetensors');
    savePolicy(file, vlm, 0);
    const { tensors, metadata } = loadSafetensors(file);
    const [name, t] = Object.entries(tensors).find(([, x]) => x.shape.length >= 2)!;
    tensors[name] = { ...t, shape: [t.data.length] };
    saveSafetensors(file, tensors, metadata);
    expect(() => loadPolicy(file)).toThrow(new RegExp(`${name.replace(/\./g, '\\.')}: expected float32`));
  });
});
