/**
 * Providers that cannot start say what is missing. Runs on every machine: the CUDA case needs no GPU (without
 * onnxruntime-node's CUDA libraries it must fail with the install command), the WebGPU case hides every
 * Vulkan driver from a child process.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { probeProvider } from '../../src/engine/device/probe.mjs';
import { openSession, ortBinDir, parseProvider } from '../../src/engine/device/provider.mjs';
import { identityModel } from '../../src/engine/device/readback.mjs';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

describe('provider errors', () => {
  it('names the install command when the CUDA libraries are missing', async (ctx) => {
    const lib = path.join(ortBinDir(), 'libonnxruntime_providers_cuda.so');
    if (existsSync(lib)) {
      console.warn(`skipped: ${lib} is installed here, so the missing-library error cannot be provoked`);
      ctx.skip(`${lib} is installed`);
    }
    await expect(openSession(identityModel('float32'), { provider: 'cuda' })).rejects.toThrow(
      /'cuda' execution provider: onnxruntime-node's CUDA libraries are not installed.*ONNXRUNTIME_NODE_INSTALL=cuda12 npm rebuild onnxruntime-node/s,
    );
  });

  it('names the Vulkan driver packages when WebGPU finds no adapter', () => {
    // A child process, since WebGPU picks its adapter once per process. An ICD list naming no file leaves the
    // Vulkan loader with no driver.
    const none = path.join(os.tmpdir(), `o2o-no-such-icd-${process.pid}.json`);
    const script =
      "import { probeProvider } from './src/engine/device/probe.mjs';" +
      "const r = await probeProvider('webgpu'); console.log(JSON.stringify(r));";
    const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: repo,
      env: { ...process.env, VK_ICD_FILENAMES: none, VK_DRIVER_FILES: none },
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    const r = JSON.parse(out.trim().split('\n').pop()!) as { ok: boolean; reason?: string };
    expect(r.ok).toBe(false);
    expect(r.reason).toMatch(/'webgpu' execution provider: no Vulkan adapter was found/);
    expect(r.reason).toMatch(/mesa-vulkan-drivers/);
    expect(r.reason).toMatch(/libvulkan1/);
  });

  it('rejects an unknown provider name', () => {
    expect(() => parseProvider('tpu')).toThrow('execution provider: expected one of cpu, webgpu, cuda, got "tpu"');
  });

  it('the CPU provider always starts', async () => {
    expect(await probeProvider('cpu')).toEqual({ ok: true });
  });
});
