/**
 * `npm run bench -- pipeline [--quick] [--config FILE]`: runs a pipeline in a fresh run folder and store
 * (a temporary folder) and reports each stage's wall time, its throughput and the eval success rate.
 * Default: the default pipeline (pipelines/numberline.yaml, what `npm start` runs); --quick: a tiny
 * NumberLine pipeline that finishes in seconds.
 */
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadPipeline, parsePipeline, type PipelineConfig } from '../src/pipeline/config.ts';
import { configuredStages } from '../src/pipeline/runfolder.ts';
import { runPipeline } from '../src/pipeline/runner.ts';
import { STAGES } from '../src/pipeline/stages/index.ts';
import { figure, type BenchArgs } from './report.ts';

/** The tiny pipeline of --quick (and of the end-to-end test). */
export const TINY_PIPELINE = `
name: tiny
seed: 3
dataset: tiny
model: { dModel: 32, layers: 1, heads: 2, ffn: 64, headHidden: 32, imageSize: 24 }
engine: { threads: 1 }
stages:
  ingest:
    generate: { task: numberline, policy: noisy, episodes: 20, noise: 0.5, batch: 10 }
  offline:
    algo: afsft
    steps: 4
    checkpointEvery: 2
    logEvery: 2
    settings: { batchSize: 8 }
  online:
    algo: ppo
    envSteps: 48
    envs: { task: numberline, count: 4 }
    settings: { stepsPerUpdate: 16, epochs: 1, minibatchSize: 8 }
  eval:
    episodes: 8
    envs: { task: numberline, count: 4 }
`;

const COUNTS = ['rows', 'episodes', 'steps', 'envSteps'];

export async function run(args: BenchArgs): Promise<void> {
  const i = args.argv.indexOf('--config');
  const config: PipelineConfig = args.quick ? parsePipeline(TINY_PIPELINE, 'tiny.yaml')
    : loadPipeline(i >= 0 ? args.argv[i + 1] : 'pipelines/numberline.yaml').config;
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'o2o-bench-pipeline-'));
  config.root = path.join(tmp, 'datasets');
  console.log(`pipeline ${config.name}: stages ${configuredStages(config).join(' → ')}; one run, folder ${tmp}`);
  const t0 = performance.now();
  const state = await runPipeline(config, { runDir: path.join(tmp, 'run'), stages: STAGES, quiet: args.quick });
  const total = (performance.now() - t0) / 1000;
  const base = { bench: 'pipeline', pipeline: config.name! };
  for (const [stage, st] of Object.entries(state.stages)) {
    figure({ ...base, figure: 'stage_seconds', stage, value: st.seconds, unit: 's' });
    figure({ ...base, figure: 'stage_cpu_seconds', stage, value: st.cpuSeconds ?? NaN, unit: 's' });
    for (const [k, v] of Object.entries(st.result?.summary ?? {})) {
      if (COUNTS.includes(k) && typeof v === 'number') figure({ ...base, figure: `${k}_per_s`, stage, value: v / st.seconds, unit: `${k}/s` });
    }
  }
  const success = state.stages.eval?.result?.summary.success;
  if (typeof success === 'number') figure({ ...base, figure: 'eval_success', value: success, unit: 'fraction', episodes: config.stages.eval!.episodes });
  figure({ ...base, figure: 'total_seconds', value: total, unit: 's', threads: config.engine.threads });
}
