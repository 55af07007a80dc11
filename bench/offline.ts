/**
 * `npm run bench -- offline [--quick] [--seeds N] [--steps N] [--episodes N] [--eval N] [--noise P] [--algos a,b] [--afsft JSON]`:
 * the VLM Q-Learning claim on our own data. A NumberLine dataset from the noisy scripted policy (noise P on
 * both the reading and the action; P = 0.4 gives about 30% success), then SFT, filtered BC and AFSFT with
 * the same model, budget and seeds, each evaluated on fresh episodes. Prints one figure per (algo, seed)
 * and the mean and spread per algo. --quick: a tiny model and a few steps (seconds; a test runs it).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { generateToTable } from '../src/envs/generate.ts';
import { openTable } from '../src/store/index.ts';
import { evaluate } from '../src/rollout/evaluate.ts';
import { trainOffline } from '../src/rollout/train-offline.ts';
import { figure, type BenchArgs } from './report.ts';

/** The bench's model: sized for 2 CPU cores (the NumberLine prompt states nothing, so a short prompt tail suffices). */
export const OFFLINE_BENCH_MODEL = { imageSize: 64, patchSize: 16, dModel: 64, layers: 2, heads: 4, ffn: 256, headHidden: 64, maxPromptTokens: 8, maxNewTokens: 128 };
const QUICK_MODEL = { imageSize: 16, patchSize: 8, dModel: 32, layers: 1, heads: 2, ffn: 64, headHidden: 32, maxPromptTokens: 8, maxNewTokens: 200 };

function opt(argv: string[], name: string): string | undefined {
  const i = argv.indexOf(`--${name}`);
  return i < 0 ? undefined : argv[i + 1];
}

function arg(argv: string[], name: string, fallback: number): number {
  const i = argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const v = Number(argv[i + 1]);
  if (!Number.isFinite(v)) throw new Error(`bench offline: --${name} expects a number, got ${JSON.stringify(argv[i + 1])}`);
  return v;
}

export async function run(args: BenchArgs): Promise<void> {
  const q = args.quick;
  const seeds = arg(args.argv, 'seeds', q ? 1 : 3);
  const steps = arg(args.argv, 'steps', q ? 2 : 600);
  const episodes = arg(args.argv, 'episodes', q ? 8 : 1000);
  const evalEpisodes = arg(args.argv, 'eval', q ? 2 : 1000);
  const noise = arg(args.argv, 'noise', 0.4);
  const model = q ? QUICK_MODEL : OFFLINE_BENCH_MODEL;
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'o2o-bench-offline-'));
  try {
    const table = await openTable(root, 'nl', { create: true });
    const gen = await generateToTable(table, { task: 'numberline', policy: 'noisy', episodes, seed: 0, noise, batch: 500, quiet: true });
    console.log(`dataset: ${gen.episodes} episodes, ${gen.steps} steps, behaviour success ${(100 * gen.successes / gen.episodes).toFixed(1)}% (noisy expert, noise ${noise})`);
    figure({ bench: 'offline', figure: 'behaviour_success', task: 'numberline', value: gen.successes / gen.episodes, unit: 'fraction', episodes: gen.episodes, noise });
    const results: Record<string, number[]> = {};
    // AFSFT as measured best from scratch (README "Offline training"): k-step TD over the whole utterance and
    // the exp filter (β = 5), which keeps the tokens with A ≈ 0 (the answer format) that 1[A > 0] drops at random
    const afsftSettings = { tdSteps: 1024, filter: 'exp', beta: 5, ...JSON.parse(opt(args.argv, 'afsft') ?? '{}') };
    console.log(`afsft settings: ${JSON.stringify(afsftSettings)}`);
    const ai = args.argv.indexOf('--algos');
    const algos = ai >= 0 ? args.argv[ai + 1].split(',') : ['sft', 'filtered-bc', 'afsft'];
    for (const algo of algos) {
      for (let seed = 0; seed < seeds; seed++) {
        const out = path.join(root, `${algo}-${seed}`);
        const t0 = performance.now();
        const r = await trainOffline({
          storeRoot: root, dataset: 'nl', algo, settings: { batchSize: 16, lr: 1e-3, ...(algo === 'afsft' ? afsftSettings : {}) }, model: { ...model, seed }, steps, out, seed,
          checkpointEvery: Math.max(1, Math.floor(steps / 4)), logEvery: Math.max(1, Math.floor(steps / 20)), quiet: q, threads: 2,
        });
        const trainS = (performance.now() - t0) / 1000;
        // T = 1 is the learned distribution itself (SFT's is the behaviour's); T = 0.2 is the spec's sampling
        // temperature, under which even SFT's mode can act well on unbiased noise
        for (const temperature of [1, 0.2]) {
          const s = await evaluate({ policyFile: r.policyFile, task: 'numberline', episodes: evalEpisodes, seed: 10_000 + seed, envs: q ? 2 : 16, temperature, threads: 2 });
          (results[`${algo} T=${temperature}`] ??= []).push(s.success.value);
          console.log(`${algo} seed ${seed} T=${temperature}: ${steps} steps in ${trainS.toFixed(0)} s, success ${(100 * s.success.value).toFixed(1)}% [${(100 * s.success.lo).toFixed(1)}, ${(100 * s.success.hi).toFixed(1)}], invalid ${(100 * s.invalidAction.value).toFixed(1)}%`);
          figure({ bench: 'offline', figure: 'success', task: 'numberline', algo, seed, temperature, value: s.success.value, unit: 'fraction', episodes: s.episodes, steps, lo: s.success.lo, hi: s.success.hi });
          figure({ bench: 'offline', figure: 'invalid_action', task: 'numberline', algo, seed, temperature, value: s.invalidAction.value, unit: 'fraction', steps });
        }
        figure({ bench: 'offline', figure: 'train_s', task: 'numberline', algo, seed, value: trainS, unit: 's', steps });
      }
    }
    for (const [algo, xs] of Object.entries(results)) {
      const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
      const sd = xs.length > 1 ? Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (xs.length - 1)) : 0;
      console.log(`${algo}: success mean ${(100 * mean).toFixed(1)}%, sd ${(100 * sd).toFixed(1)} over ${xs.length} seeds`);
      const [name, t] = algo.split(' T=');
      figure({ bench: 'offline', figure: 'success_mean', task: 'numberline', algo: name, temperature: Number(t), value: mean, unit: 'fraction', seeds: xs.length, sd, steps });
    }
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
}
