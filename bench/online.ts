/**
 * `npm run bench -- online [--quick] [--from POLICY] [--tasks numberline,ezpoints,blackjack] [--seeds N]
 *  [--first-seed N] [--env-steps N] [--offline-episodes N] [--offline-steps N] [--offline-noise P] [--eval N]
 *  [--algos ppo,coso] [--format-penalty P] [--settings JSON] [--keep DIR]` (PPO/CoSo settings over the
 * bench's): PPO vs CoSo from the same starting policy, the same env-step budget and seeds. Without --from, the
 * starting policy is trained here by SFT on expert episodes of each task (the offline checkpoint), or with
 * --offline-noise P on episodes of the noisy expert (a wrong reading and a wrong action each with probability
 * P per step): a weak start. Per run it prints the learning curve (success over the last 200 training
 * episodes vs env steps) and reports the final success on `--eval` fresh episodes at the eval temperature 0.2
 * (the starting policy's too, and the scripted expert's on the same episodes), wall time and env steps/s; per
 * task, CoSo's wall time over PPO's, and where each run's time went (rollouts, store commits, updates; CoSo's
 * SCM training and counterfactual weights). --format-penalty P: subtracted from the reward of training steps
 * whose action did not parse. --keep DIR: work in DIR and keep it (datasets, SFT policy, run folders).
 * --quick: a tiny fresh model and a few dozen env steps (seconds; a test runs it).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { generateToTable } from '../src/envs/generate.ts';
import { createVlm, vlmConfig } from '../src/models/vlm.ts';
import { evaluate, evaluateScripted } from '../src/rollout/evaluate.ts';
import { openTable } from '../src/store/index.ts';
import { makeTokenizer, savePolicy } from '../src/rollout/policy-file.ts';
import { RunFolder } from '../src/rollout/run-folder.ts';
import { trainOffline } from '../src/rollout/train-offline.ts';
import { trainOnline } from '../src/rollout/train-online.ts';
import { OFFLINE_BENCH_MODEL } from './offline.ts';
import { figure, type BenchArgs } from './report.ts';

const QUICK_MODEL = { imageSize: 16, patchSize: 8, dModel: 32, layers: 1, heads: 2, ffn: 64, headHidden: 32, maxPromptTokens: 8, maxNewTokens: 32 };

/**
 * The bench's model per task: the expert utterances are <= 114 bytes (NumberLine), 111 (EZPoints), 134
 * (Blackjack, 5 cards), 187 (Points24); the formula tasks' prompts end with the formula, which a 24-token
 * window reads.
 */
export function benchTaskModel(task: string) {
  const formula = task === 'ezpoints' || task === 'points24';
  return { ...OFFLINE_BENCH_MODEL, maxPromptTokens: formula ? 24 : 8, maxNewTokens: task === 'points24' ? 256 : 160 };
}

/** The longest output of a dataset in tokens with EOS, in the bench models' byte tokenizer. */
async function longestOutput(root: string, dataset: string): Promise<number> {
  const t = await (await (await openTable(root, dataset)).snapshot()).read({ columns: ['output_text'] });
  const col = t.getChild('output_text')!;
  const tok = makeTokenizer('byte');
  let n = 0;
  for (let i = 0; i < t.numRows; i++) n = Math.max(n, tok.encode(col.get(i) as string).length + 1);
  return n;
}

function opt(argv: string[], name: string): string | undefined {
  const i = argv.indexOf(`--${name}`);
  return i < 0 ? undefined : argv[i + 1];
}
function num(argv: string[], name: string, fallback: number): number {
  const v = opt(argv, name);
  if (v === undefined) return fallback;
  if (!Number.isFinite(Number(v))) throw new Error(`bench online: --${name} expects a number, got ${JSON.stringify(v)}`);
  return Number(v);
}

export async function run(args: BenchArgs): Promise<void> {
  const q = args.quick;
  const tasks = (opt(args.argv, 'tasks') ?? 'numberline').split(',');
  const seeds = num(args.argv, 'seeds', q ? 1 : 3);
  const firstSeed = num(args.argv, 'first-seed', 0);
  const envSteps = num(args.argv, 'env-steps', q ? 24 : 5000);
  const offlineEpisodes = num(args.argv, 'offline-episodes', 1000);
  const offlineNoise = num(args.argv, 'offline-noise', 0);
  const formatPenalty = num(args.argv, 'format-penalty', 0);
  // Blackjack's cards are small (15x21 px at 64 px): after 600 SFT steps its read-out is at chance, after
  // 2,000 every card of 128 test states is read
  const offlineSteps = (task: string) => num(args.argv, 'offline-steps', task === 'blackjack' ? 2000 : 600);
  // a win rate near 0.42 has sd 1.6 points over 1,000 episodes
  const evalEpisodes = (task: string) => num(args.argv, 'eval', q ? 8 : task === 'blackjack' ? 1000 : 200);
  const base = (task: string) => `${task}-${offlineNoise > 0 ? 'noisy' : 'expert'}`;
  const algos = (opt(args.argv, 'algos') ?? 'ppo,coso').split(',') as ('ppo' | 'coso')[];
  const keep = opt(args.argv, 'keep');
  if (keep && fs.existsSync(keep) && fs.readdirSync(keep).length) throw new Error(`bench online: --keep ${keep} is not empty (give a new or empty folder)`);
  if (keep) fs.mkdirSync(keep, { recursive: true });
  const root = keep ?? fs.mkdtempSync(path.join(os.tmpdir(), 'o2o-bench-online-'));
  try {
    for (const task of tasks) {
      let from = opt(args.argv, 'from');
      if (!from && q) {
        from = path.join(root, 'fresh.safetensors');
        savePolicy(from, createVlm(vlmConfig(QUICK_MODEL), makeTokenizer('byte')), 0);
      } else if (!from) {
        const table = await openTable(root, base(task), { create: true });
        await generateToTable(table, { task, policy: offlineNoise > 0 ? 'noisy' : 'expert', episodes: offlineEpisodes, seed: 0, noise: offlineNoise, batch: 500, quiet: true });
        // the noisy expert's misread thoughts can run longer than the task's cap (EZPoints at noise 0.4: 167
        // tokens with EOS): then 64 more
        const model = benchTaskModel(task);
        const longest = await longestOutput(root, base(task));
        if (longest > model.maxNewTokens) model.maxNewTokens += 64;
        from = (await trainOffline({
          storeRoot: root, dataset: base(task), algo: 'sft', settings: { batchSize: 16, lr: 1e-3 }, model,
          steps: offlineSteps(task), out: path.join(root, `${task}-sft`), seed: 0, checkpointEvery: offlineSteps(task), logEvery: 50, threads: 2,
        })).policyFile;
      }
      const evalOpts = { task, episodes: evalEpisodes(task), seed: 10_000, envs: 16, temperature: 0.2, threads: 2 };
      const start = await evaluate({ ...evalOpts, policyFile: from });
      console.log(`${task} start: success ${(100 * start.success.value).toFixed(1)}% [${(100 * start.success.lo).toFixed(1)}, ${(100 * start.success.hi).toFixed(1)}] over ${start.episodes} episodes`);
      figure({ bench: 'online', figure: 'eval_success', task, algo: 'start', value: start.success.value, unit: 'fraction', episodes: start.episodes, lo: start.success.lo, hi: start.success.hi });
      // the scripted expert (it reads the true state) on the same episodes: what these deals allow
      const expert = await evaluateScripted({ policy: 'expert', task, episodes: evalOpts.episodes, seed: evalOpts.seed, envs: evalOpts.envs });
      console.log(`${task} scripted expert on the same episodes: success ${(100 * expert.success.value).toFixed(1)}% [${(100 * expert.success.lo).toFixed(1)}, ${(100 * expert.success.hi).toFixed(1)}]`);
      figure({ bench: 'online', figure: 'eval_success', task, algo: 'expert', value: expert.success.value, unit: 'fraction', episodes: expert.episodes, lo: expert.success.lo, hi: expert.success.hi });
      const wall: Record<string, number[]> = {};
      // seeds outside, algorithms inside: PPO's and CoSo's runs of a seed follow each other, so a change in the
      // machine's load shifts both
      for (let seed = firstSeed; seed < firstSeed + seeds; seed++) {
        for (const algo of algos) {
          const out = path.join(root, 'runs', `${task}-${algo}-${seed}`); // apart from the datasets under root
          const settings = {
            ...(q ? { stepsPerUpdate: 8, minibatchSize: 8, epochs: 1, ...(algo === 'coso' ? { scmPretrainSteps: 2 } : {}) } : { stepsPerUpdate: 128, minibatchSize: 16 }),
            ...JSON.parse(opt(args.argv, 'settings') ?? '{}'),
          };
          // every run starts from the same store content, the offline episodes (CoSo's SCM pre-trains on them)
          const dataset = `${task}-${algo}-${seed}`;
          if (fs.existsSync(path.join(root, base(task)))) fs.cpSync(path.join(root, base(task)), path.join(root, dataset), { recursive: true });
          const t0 = performance.now();
          const r = await trainOnline({
            from, task, algo, settings, envSteps, envs: q ? 4 : 16, out, seed, storeRoot: root, dataset, threads: 2, quiet: q, formatPenalty,
          });
          const secs = (performance.now() - t0) / 1000;
          (wall[algo] ??= []).push(secs);
          const fin = await evaluate({ ...evalOpts, policyFile: r.policyFile });
          const metrics = new RunFolder(out).readMetrics();
          const curve = metrics.map((m) => `${m.env_steps}:${(100 * m.success).toFixed(0)}%`).join(' ');
          const parts = ['rollout_s', 'store_s', 'update_s', 'scm_s', 'weights_s'].map((k) => [k, metrics.reduce((a, m) => a + (Number(m[k]) || 0), 0)] as const);
          console.log(`${task} ${algo} seed ${seed}: eval ${(100 * fin.success.value).toFixed(1)}% [${(100 * fin.success.lo).toFixed(1)}, ${(100 * fin.success.hi).toFixed(1)}] over ${fin.episodes} episodes; ` +
            `last 200 training episodes ${(100 * r.last.success).toFixed(1)}% after ${r.state.envSteps} env steps, ${secs.toFixed(0)} s; curve ${curve}`);
          figure({ bench: 'online', figure: 'success', task, algo, seed, value: r.last.success, unit: 'fraction', env_steps: r.state.envSteps, window: 200 });
          figure({ bench: 'online', figure: 'eval_success', task, algo, seed, value: fin.success.value, unit: 'fraction', episodes: fin.episodes, lo: fin.success.lo, hi: fin.success.hi, env_steps: r.state.envSteps });
          figure({ bench: 'online', figure: 'wall_s', task, algo, seed, value: secs, unit: 's', env_steps: r.state.envSteps });
          figure({ bench: 'online', figure: 'env_steps_per_s', task, algo, seed, value: r.state.envSteps / secs, unit: 'steps/s' });
          console.log(`${task} ${algo} seed ${seed}: time ${parts.filter(([, v]) => v > 0).map(([k, v]) => `${k.replace('_s', '')} ${v.toFixed(1)} s`).join(', ')} (of ${secs.toFixed(1)} s)`);
          for (const [k, v] of parts) if (v > 0) figure({ bench: 'online', figure: k, task, algo, seed, value: v, unit: 's' });
        }
      }
      const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
      if (wall.coso && wall.ppo) figure({ bench: 'online', figure: 'wall_ratio', task, value: mean(wall.coso) / mean(wall.ppo), unit: 'coso/ppo' });
    }
  } finally {
    if (!keep) fs.rmSync(root, { recursive: true, force: true });
  }
}
