/**
 * The pipeline end to end on real components: generate (envs) → store → AFSFT offline → PPO online →
 * eval, on a tiny NumberLine config. One run goes through uninterrupted; another is killed (SIGKILL, a real
 * child process running `o2o run`) in the middle of its online stage and resumed, and must end with the
 * same metrics, eval result and store contents.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { TINY_PIPELINE } from '../../bench/pipeline.ts';
import { parsePipeline, type PipelineConfig } from '../../src/pipeline/config.ts';
import { readState } from '../../src/pipeline/runfolder.ts';
import { runPipeline } from '../../src/pipeline/runner.ts';
import { STAGES } from '../../src/pipeline/stages/index.ts';
import { datasetComposition } from '../../src/report/composition.ts';
import { writeReport } from '../../src/report/index.ts';
import { openTable } from '../../src/store/index.ts';
import { findChromium, inspectReport, withBrowser } from '../report/chromium.ts';


/** A fresh folder with the tiny config (its store root inside), the config file and the run folder. */
function setup(): { dir: string; file: string; runDir: string; config: PipelineConfig } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'o2o-'));
  const file = path.join(dir, 'tiny.yaml');
  writeFileSync(file, `root: ${JSON.stringify(path.join(dir, 'datasets'))}\n${TINY_PIPELINE}`);
  return { dir, file, runDir: path.join(dir, 'run'), config: parsePipeline(readFileSync(file, 'utf8'), file) };
}

const O2O = path.resolve('bin/o2o.mjs');

/** `o2o run` in a child process; resolves with its exit code (or the signal that ended it). */
function o2oRun(file: string, runDir: string, onStart?: (kill: () => void) => void): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [O2O, 'run', file, '--out', runDir, '--quiet'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => { stderr += d; });
    child.on('error', reject);
    child.on('exit', (code, signal) => resolve({ code, signal, stderr }));
    onStart?.(() => child.kill('SIGKILL'));
  });
}

const lines = (f: string) => readFileSync(f, 'utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l) as Record<string, number>);
/** Metrics without wall-clock figures (rates and seconds differ between any two runs). */
const untimed = (rows: Record<string, number>[]) => rows.map((r) => Object.fromEntries(Object.entries(r).filter(([k]) => !/(_per_s|_s)$/.test(k))));

describe('pipeline end to end', () => {
  let ref: ReturnType<typeof setup>;
  beforeAll(async () => {
    ref = setup();
    await runPipeline(ref.config, { runDir: ref.runDir, stages: STAGES, quiet: true });
  });

  it('runs every stage and leaves each stage\'s outputs', async () => {
    const st = readState(ref.runDir);
    for (const s of ['ingest', 'offline', 'online', 'eval'] as const) expect(st.stages[s], s).toMatchObject({ status: 'done', attempts: 1 });
    expect(JSON.parse(readFileSync(path.join(ref.runDir, 'config.json'), 'utf8'))).toEqual(ref.config);

    // ingest: the generated episodes are in the store with the behaviour policy's version -1
    expect(st.stages.ingest!.result!.summary).toMatchObject({ episodes: 20 });
    // offline: metrics every 2 steps, checkpoints, the policy file
    const off = lines(path.join(ref.runDir, 'offline', 'metrics.jsonl'));
    expect(off.map((m) => m.step)).toEqual([2, 4]);
    expect(off.every((m) => Number.isFinite(m.loss))).toBe(true);
    expect(existsSync(path.join(ref.runDir, 'offline', 'checkpoints', 'step-000000004.json'))).toBe(true);
    expect(st.stages.offline!.result!.checkpoint).toBe('offline/policy.safetensors');
    // online: one update per rollout batch of at least 16 env steps (whole episodes), until 48 env steps
    const on = lines(path.join(ref.runDir, 'online', 'metrics.jsonl'));
    expect(on.length).toBeGreaterThanOrEqual(2);
    on.forEach((m, k) => {
      expect(m.policy_version).toBe(k + 1);
      expect(m.env_steps - (k ? on[k - 1].env_steps : 0)).toBeGreaterThanOrEqual(16);
    });
    expect(on.at(-2)!.env_steps).toBeLessThan(48);
    expect(on.at(-1)!.env_steps).toBeGreaterThanOrEqual(48);
    expect(st.stages.online!.result!.summary).toMatchObject({ envSteps: on.at(-1)!.env_steps, policyVersion: on.length });
    expect(st.stages.online!.result!.checkpoint).toBe('online/policy.safetensors');
    // eval: 8 episodes of the online policy, with intervals
    const ev = JSON.parse(readFileSync(path.join(ref.runDir, 'eval', 'result.json'), 'utf8'));
    expect(ev.policy).toBe('online/policy.safetensors');
    expect(ev.episodes).toBe(8);
    expect(ev.success.lo).toBeLessThanOrEqual(ev.success.value);
    expect(ev.success.hi).toBeGreaterThanOrEqual(ev.success.value);
  });

  it('the store holds the imported rows and the online rows with their policy versions', async () => {
    const snap = await (await openTable(path.join(ref.dir, 'datasets'), 'tiny')).snapshot();
    const t = await snap.read({ columns: ['source', 'policy_version', 'output_logprobs'] });
    const byVersion = new Map<number, { sources: Set<string>; rows: number; logprobs: number }>();
    for (let i = 0; i < t.numRows; i++) {
      const v = t.getChild('policy_version')!.get(i) as number;
      const g = byVersion.get(v) ?? { sources: new Set(), rows: 0, logprobs: 0 };
      byVersion.set(v, g);
      g.sources.add(t.getChild('source')!.get(i) as string);
      g.rows++;
      if (t.getChild('output_logprobs')!.get(i) !== null) g.logprobs++;
    }
    const updates = lines(path.join(ref.runDir, 'online', 'metrics.jsonl'));
    const versions = updates.map((_, k) => k); // batch k is acted by the policy after k updates
    expect([...byVersion.keys()].sort((a, b) => a - b)).toEqual([-1, ...versions]);
    expect([...byVersion.get(-1)!.sources].sort()).toEqual(['demo', 'failure']);
    expect(byVersion.get(-1)!.logprobs).toBe(0); // scripted policy: no token log-probs
    expect(versions.reduce((n, v) => n + byVersion.get(v)!.rows, 0)).toBe(updates.at(-1)!.env_steps);
    for (const v of versions) {
      expect([...byVersion.get(v)!.sources]).toEqual(['online']);
      expect(byVersion.get(v)!.rows).toBeGreaterThanOrEqual(16);
      expect(byVersion.get(v)!.logprobs).toBe(byVersion.get(v)!.rows); // behaviour log-probs on every online row
    }
    expect(byVersion.get(-1)!.rows).toBe(readState(ref.runDir).stages.ingest!.result!.summary.rows);
  });

  it('killed (SIGKILL) in the middle of the online stage, it resumes to the same result', async () => {
    const run = setup();
    const firstCheckpoint = path.join(run.runDir, 'online', 'checkpoints', 'step-000000001.json');
    const killed = await o2oRun(run.file, run.runDir, (kill) => {
      const poll = setInterval(() => { if (existsSync(firstCheckpoint)) { clearInterval(poll); kill(); } }, 20);
    });
    expect(killed.signal, killed.stderr).toBe('SIGKILL');
    const mid = readState(run.runDir);
    expect(mid.stages.offline?.status).toBe('done');
    expect(mid.stages.online?.status).toBe('running');
    expect(mid.stages.eval).toBeUndefined();

    const resumed = await o2oRun(run.runDir, run.runDir);
    expect(resumed.code, resumed.stderr).toBe(0);
    const st = readState(run.runDir);
    expect(st.stages.online).toMatchObject({ status: 'done', attempts: 2 });
    expect(st.stages.offline).toMatchObject({ status: 'done', attempts: 1 });

    for (const s of ['offline', 'online']) {
      expect(untimed(lines(path.join(run.runDir, s, 'metrics.jsonl'))), s).toEqual(untimed(lines(path.join(ref.runDir, s, 'metrics.jsonl'))));
    }
    const result = (dir: string) => JSON.parse(readFileSync(path.join(dir, 'eval', 'result.json'), 'utf8'));
    expect(result(run.runDir)).toEqual(result(ref.runDir));
    const comp = async (dir: string) => (await datasetComposition(path.join(dir, 'datasets'), 'tiny')).rows;
    expect(await comp(run.dir)).toEqual(await comp(ref.dir));
  });

  const browser = findChromium();
  it.skipIf(!browser)(`the report of the run renders its curves and dataset in headless Chromium${browser ? '' : ' (SKIPPED: no chromium on PATH; install Debian\'s chromium package or set O2O_CHROMIUM)'}`, async () => {
    const file = await writeReport(ref.runDir);
    const facts = await withBrowser(browser!, (ctx) => inspectReport(ctx, file, process.env.O2O_REPORT_SCREENSHOT));
    expect(facts.foreignRequests).toEqual([]);
    const byTitle = Object.fromEntries(facts.charts.map((c) => [c.title, c]));
    const updates = lines(path.join(ref.runDir, 'online', 'metrics.jsonl')).length;
    expect(byTitle['online: success rate'].legend).toEqual(['success', 'batch_success']);
    expect(byTitle['online: success rate'].series.map((x) => x.points)).toEqual([updates, updates]);
    expect(byTitle['online: success rate'].series.every((x) => x.length > 50)).toBe(true);
    expect(byTitle['online: throughput'].legend).toContain('env_steps_per_s');
    expect(byTitle['offline: losses'].legend).toContain('loss');
    expect(byTitle['offline: losses'].series.every((s) => s.points === 2)).toBe(true);
    expect(byTitle['dataset: steps by source and policy version'].bars.map((b) => b.label))
      .toEqual(['demo v-1', 'failure v-1', ...Array.from({ length: updates }, (_, k) => `online v${k}`)]);
    expect(byTitle['eval: success rate (95% CI)'].bars.length).toBe(2);
  });
});
