import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parsePipeline } from '../../src/pipeline/config.ts';
import { readState, runFolderName } from '../../src/pipeline/runfolder.ts';
import { runPipeline } from '../../src/pipeline/runner.ts';
import type { Stage } from '../../src/pipeline/stage.ts';

// The runner's own bookkeeping, with stages that write a file; the real stages are exercised end to end in
// pipeline.test.ts.
const config = parsePipeline('dataset: d\nstages:\n  ingest: { generate: { task: numberline } }\n  eval: { envs: { task: numberline } }\n', 'r.yaml');
const tmp = () => mkdtempSync(path.join(os.tmpdir(), 'o2o-'));

function fileStage(name: 'ingest' | 'eval', calls: string[], fail?: { times: number }): Stage {
  return {
    name,
    isDone: (ctx) => existsSync(path.join(ctx.dir, 'out.txt')),
    async run(ctx) {
      calls.push(name);
      if (fail && fail.times-- > 0) throw new Error('disk full');
      writeFileSync(path.join(ctx.dir, 'out.txt'), String(ctx.rng.int(1000)));
      return { summary: { value: Number(readFileSync(path.join(ctx.dir, 'out.txt'), 'utf8')), sawIngest: ctx.previous.ingest ? 1 : 0 } };
    },
  };
}

describe('stage runner', () => {
  it('runs the configured stages in order, records them, and skips them when run again', async () => {
    const runDir = path.join(tmp(), 'run');
    const calls: string[] = [];
    const stages = { ingest: fileStage('ingest', calls), eval: fileStage('eval', calls) };
    await runPipeline(config, { runDir, stages, quiet: true });
    expect(calls).toEqual(['ingest', 'eval']);
    const st = readState(runDir);
    expect(st.stages.ingest).toMatchObject({ status: 'done', attempts: 1, seconds: expect.any(Number), cpuSeconds: expect.any(Number) });
    expect(st.stages.eval?.result?.summary.sawIngest).toBe(1);
    expect(JSON.parse(readFileSync(path.join(runDir, 'config.json'), 'utf8'))).toEqual(config);
    expect(readdirSync(runDir).filter((f) => f.includes('tmp'))).toEqual([]);

    const lines: string[] = [];
    await runPipeline(config, { runDir, stages, log: (l) => lines.push(l) });
    expect(calls).toEqual(['ingest', 'eval']);
    expect(lines).toEqual(['[1/2] ingest: done earlier, skipped', '[2/2] eval: done earlier, skipped']);
  });

  it('a failed stage is recorded and re-entered on the next run; a stage whose outputs vanished reruns', async () => {
    const runDir = path.join(tmp(), 'run');
    const calls: string[] = [];
    const stages = { ingest: fileStage('ingest', calls), eval: fileStage('eval', calls, { times: 1 }) };
    await expect(runPipeline(config, { runDir, stages, quiet: true })).rejects.toThrow(/stage eval failed: disk full[\s\S]*o2o run/);
    expect(readState(runDir).stages.eval).toMatchObject({ status: 'failed', attempts: 1, error: 'disk full' });
    await runPipeline(config, { runDir, stages, quiet: true });
    expect(calls).toEqual(['ingest', 'eval', 'eval']);
    expect(readState(runDir).stages.eval).toMatchObject({ status: 'done', attempts: 2 });

    const again: string[] = [];
    const before = readState(runDir).stages.eval!.result!.summary.value;
    rmSync(path.join(runDir, 'eval', 'out.txt'));
    await runPipeline(config, { runDir, stages: { ingest: fileStage('ingest', again), eval: fileStage('eval', again) }, quiet: true });
    expect(again).toEqual(['eval']);
    expect(readState(runDir).stages.eval!.result!.summary.value).toBe(before); // same seed → same result
  });

  it('refuses a run folder made with another config, and a stage this build lacks', async () => {
    const runDir = path.join(tmp(), 'run');
    const calls: string[] = [];
    const stages = { ingest: fileStage('ingest', calls), eval: fileStage('eval', calls) };
    await runPipeline(config, { runDir, stages, quiet: true });
    const changed = { ...config, seed: 7 };
    await expect(runPipeline(changed, { runDir, stages, quiet: true })).rejects.toThrow(/holds a different config/);
    await expect(runPipeline(config, { runDir: path.join(tmp(), 'r2'), stages: { ingest: stages.ingest }, quiet: true }))
      .rejects.toThrow(/no eval stage yet; remove stages\.eval/);
  });

  it('names run folders by pipeline and UTC time', () => {
    expect(runFolderName('numberline', new Date(Date.UTC(2026, 10, 23, 22, 16, 3)))).toBe('numberline-20261123-221603');
  });
});
