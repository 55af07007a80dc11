/** `o2o providers`: says which providers start here and what is missing where not. */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterEach, expect, it, vi } from 'vitest';
import { command } from '../../src/cli/providers.ts';
import { UsageError } from '../../src/cli/command.ts';
import { ortBinDir } from '../../src/engine/device/provider.mjs';

afterEach(() => vi.restoreAllMocks());

async function providers(...names: string[]): Promise<{ code: number; out: string }> {
  const lines: string[] = [];
  vi.spyOn(console, 'log').mockImplementation((s: unknown) => void lines.push(String(s)));
  const code = await command.run({ values: {}, positionals: names });
  vi.restoreAllMocks();
  return { code, out: lines.join('\n') };
}

it('reports cpu as ok and a missing CUDA build with its install command', async () => {
  expect(await providers('cpu')).toEqual({ code: 0, out: 'cpu: ok' });
  if (existsSync(path.join(ortBinDir(), 'libonnxruntime_providers_cuda.so'))) {
    console.warn('skipped the CUDA half: the CUDA libraries are installed here');
    return;
  }
  const r = await providers('cpu', 'cuda');
  expect(r.code).toBe(1);
  expect(r.out).toMatch(/^cpu: ok\ncuda: not available\n {2}.*ONNXRUNTIME_NODE_INSTALL=cuda12 npm rebuild onnxruntime-node/s);
});

it('rejects an unknown provider name as a usage error', async () => {
  await expect(command.run({ values: {}, positionals: ['tpu'] })).rejects.toThrow(UsageError);
});
