/**
 * The online stage acting in the envs of a remote env server (the real server of src/envs/remote, on
 * loopback, with a bearer token read from the environment variable the config names).
 */
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { startEnvServer } from '../../src/envs/remote/server.ts';
import { parsePipeline } from '../../src/pipeline/config.ts';
import { runPipeline } from '../../src/pipeline/runner.ts';
import { STAGES } from '../../src/pipeline/stages/index.ts';
import { datasetComposition } from '../../src/report/composition.ts';

describe('pipeline with a remote env', () => {
  it('runs the online stage against the server and stores its rollouts', async () => {
    const lines: string[] = [];
    const server = await startEnvServer({ tasks: ['numberline'], port: 0, token: 'pipeline-test-token', log: (l) => lines.push(l) });
    process.env.O2O_TEST_ENV_TOKEN = 'pipeline-test-token';
    try {
      const dir = mkdtempSync(path.join(os.tmpdir(), 'o2o-'));
      const config = parsePipeline(`
root: ${JSON.stringify(path.join(dir, 'datasets'))}
dataset: remote
model: { dModel: 32, layers: 1, heads: 2, ffn: 64, headHidden: 32, imageSize: 24 }
engine: { threads: 1 }
stages:
  ingest: { generate: { task: numberline, episodes: 8 } }
  offline: { steps: 2, checkpointEvery: 2, logEvery: 1, settings: { batchSize: 4 } }
  online:
    envSteps: 8
    envs: { task: numberline, count: 2, remote: { url: ${JSON.stringify(server.url)}, tokenEnv: O2O_TEST_ENV_TOKEN, concurrency: 2 } }
    settings: { stepsPerUpdate: 8, epochs: 1, minibatchSize: 4 }
`, 'remote.yaml');
      const state = await runPipeline(config, { runDir: path.join(dir, 'run'), stages: STAGES, quiet: true });
      const online = state.stages.online!.result!.summary;
      expect(online.envSteps).toBeGreaterThanOrEqual(8);
      const steps = lines.filter((l) => /\/step\b/.test(l)).length;
      expect(steps).toBe(online.envSteps); // every env step went over HTTP
      const rows = (await datasetComposition(path.join(dir, 'datasets'), 'remote')).rows.filter((r) => r.source === 'online');
      expect(rows).toEqual([expect.objectContaining({ policyVersion: 0, steps: online.envSteps })]);
    } finally {
      delete process.env.O2O_TEST_ENV_TOKEN;
      await server.close();
    }
  });
});
