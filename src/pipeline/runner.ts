/**
 * The stage runner: runs the configured stages in order inside a run folder, skips stages already done,
 * and re-enters an interrupted stage (which resumes from its own last checkpoint). State goes to
 * `state.json` before and after every stage, atomically, so a crash at any point leaves a readable run.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { storeRoot } from '../store/root.ts';
import { Progress } from '../util/progress.ts';
import { Rng } from '../util/rng.ts';
import type { PipelineConfig, StageName } from './config.ts';
import { configuredStages, openRunFolder, readState, writeState, type RunState } from './runfolder.ts';
import type { Stage, StageContext, StageResult } from './stage.ts';

export interface RunOptions {
  runDir: string;
  /** The stage implementations by name (src/pipeline/stages/index.ts gives the real ones). */
  stages: Partial<Record<StageName, Stage>>;
  quiet?: boolean;
  /** Where the runner's own lines go (default: stderr, like the progress bars). */
  log?: (line: string) => void;
}

export async function runPipeline(config: PipelineConfig, opts: RunOptions): Promise<RunState> {
  const runDir = path.resolve(opts.runDir);
  const log = opts.log ?? ((line: string) => { if (!opts.quiet) process.stderr.write(`${line}\n`); });
  const names = configuredStages(config);
  const missing = names.filter((n) => !opts.stages[n]);
  if (missing.length) {
    throw new Error(`this build of o2o has no ${missing.join(', ')} stage yet; remove ${missing.map((m) => `stages.${m}`).join(', ')} from the config`);
  }
  openRunFolder(runDir, config);
  const state = readState(runDir);
  const previous: Partial<Record<StageName, StageResult>> = {};
  for (const [i, name] of names.entries()) {
    const stage = opts.stages[name]!;
    const label = `[${i + 1}/${names.length}] ${name}`;
    const ctx: StageContext = {
      config,
      runDir,
      dir: path.join(runDir, name),
      storeRoot: storeRoot(config.root),
      rng: new Rng(config.seed).fork(name),
      previous: { ...previous },
      progress: (total, unit) => new Progress({ label, total, unit, quiet: opts.quiet }),
      quiet: opts.quiet ?? false,
    };
    const before = state.stages[name];
    if (before?.status === 'done' && before.result && stage.isDone(ctx)) {
      log(`${label}: done earlier, skipped`);
      previous[name] = before.result;
      continue;
    }
    mkdirSync(ctx.dir, { recursive: true });
    const attempts = (before?.attempts ?? 0) + 1;
    log(`${label}: ${attempts > 1 ? `resuming (attempt ${attempts})` : 'starting'}`);
    const t0 = Date.now();
    const cpu0 = process.cpuUsage();
    const seconds = before?.seconds ?? 0;
    const cpuSeconds = () => (before?.cpuSeconds ?? 0) + (({ user, system }) => (user + system) / 1e6)(process.cpuUsage(cpu0));
    state.stages[name] = { status: 'running', attempts, seconds, startedAt: new Date(t0).toISOString() };
    writeState(runDir, state);
    try {
      const result = await stage.run(ctx);
      state.stages[name] = {
        ...state.stages[name]!, status: 'done', seconds: seconds + (Date.now() - t0) / 1000, cpuSeconds: cpuSeconds(),
        finishedAt: new Date().toISOString(), result,
      };
      writeState(runDir, state);
      previous[name] = result;
      log(`${label}: done in ${((Date.now() - t0) / 1000).toFixed(1)} s ${formatSummary(result.summary)}`);
    } catch (e) {
      state.stages[name] = {
        ...state.stages[name]!, status: 'failed', seconds: seconds + (Date.now() - t0) / 1000, cpuSeconds: cpuSeconds(),
        error: (e as Error).message,
      };
      writeState(runDir, state);
      throw new Error(`stage ${name} failed: ${(e as Error).message}\n(the run folder ${runDir} keeps its progress; run \`o2o run ${runDir}\` to resume)`);
    }
  }
  return state;
}

function formatSummary(s: Record<string, number | string>): string {
  return Object.entries(s).map(([k, v]) => `${k}=${typeof v === 'number' && !Number.isInteger(v) ? v.toFixed(3) : v}`).join(' ');
}
