/**
 * The offline stage's driver: read the dataset once, then per step
 *   sample rows (seeded by (seed, step)) → pack → [target network V̄ → TD targets] → one training step
 *   → [Polyak update] → metrics every `logEvery` steps → checkpoint every `checkpointEvery` steps.
 * A resumed run restarts from its last checkpoint and reproduces the uninterrupted run's metrics.
 */
import fs from 'node:fs';
import path from 'node:path';
import { hostTensor, openRunner, openTrainer, type HostTensor, type Runner, type Session, loadSafetensors, saveSafetensors } from '../engine/index.ts';
import { PixelCache } from '../models/image.ts';
import { encodeTeacherForced, type TfRow } from '../models/policy.ts';
import { actionStart } from '../models/split.ts';
import { createVlm, vlmConfig, type Vlm } from '../models/vlm.ts';
import { openTable, type StepFieldName, type StepFilter } from '../store/index.ts';
import { Progress } from '../util/progress.ts';
import { Rng } from '../util/rng.ts';
import { buildTargetValue, polyak, TARGET_PREFIX, tdTargets } from '../algos/afsft.ts';
import { linkEpisodes, requireColumns, type EpisodeLinks } from '../algos/episodes.ts';
import { offlineMethod, type OfflineMethod } from '../algos/offline-methods.ts';
import { hash3 } from './actor.ts';
import { loadPolicy, makeTokenizer, savePolicy } from './policy-file.ts';
import { RunFolder } from './run-folder.ts';

export interface OfflineOptions {
  storeRoot: string;
  dataset: string;
  algo: string;
  /** the method's settings (its config; unknown keys are errors) */
  settings?: unknown;
  /** model config of a fresh policy (ignored with `init`) */
  model?: unknown;
  /** start from this policy file instead of fresh weights */
  init?: string;
  filter?: StepFilter;
  steps: number;
  out: string;
  seed: number;
  checkpointEvery: number;
  logEvery: number;
  threads?: number;
  quiet?: boolean;
}

export interface OfflineResult { policyFile: string; steps: number; last: Record<string, number> }

/** One training example per step row, with what packing and TD targets need. */
export interface Example extends TfRow { reward: number; terminated: boolean; truncated: boolean }

export async function trainOffline(o: OfflineOptions): Promise<OfflineResult> {
  const method = offlineMethod(o.algo);
  const cfg = method.config(o.settings);
  const init = o.init ? loadPolicy(o.init) : null;
  const vlm: Vlm = init ? init.vlm : createVlm(vlmConfig(o.model), makeTokenizer(vlmConfig(o.model).tokenizer));
  const run = new RunFolder(o.out);
  run.init({ stage: 'offline', algo: o.algo, settings: cfg, dataset: o.dataset, filter: o.filter ?? null, seed: o.seed, model: vlm.cfg, init: o.init ?? null });

  const { examples, links } = await loadExamples(o, method.columns, vlm);
  const rows = method.rows(links);
  if (rows.length === 0) throw new Error(`dataset "${o.dataset}": ${o.algo} keeps no rows (filtered BC needs episodes with return > 0)`);

  const runner = await openRunner({ threads: o.threads });
  let up: OfflineUpdater | undefined;
  try {
    up = await openOfflineUpdater(runner, vlm, method, cfg);
    const done = run.checkpoints();
    let start = 0;
    if (done.length) {
      start = done[done.length - 1];
      await up.load(run.ckptPath(start, ''));
      run.truncateMetrics(start);
    }
    const progress = new Progress({ label: `offline ${o.algo}`, total: o.steps, unit: 'step', quiet: o.quiet });
    progress.set(start);
    let last: Record<string, number> = {};
    const t0 = performance.now();
    for (let step = start; step < o.steps; step++) {
      last = { step: step + 1, ...(await up.step(examples, links, rows, new Rng(hash3(o.seed, step, 7)), step)) };
      progress.tick(1, `loss ${last.loss.toFixed(4)}`);
      if ((step + 1) % o.logEvery === 0 || step + 1 === o.steps) {
        run.logMetrics({ ...last, steps_per_s: (step + 1 - start) / ((performance.now() - t0) / 1000) });
      }
      if ((step + 1) % o.checkpointEvery === 0 || step + 1 === o.steps) {
        await up.save(run.ckptPath(step + 1, ''));
        savePolicy(path.join(run.dir, 'policy.safetensors'), await up.policy(), 0);
        run.writeState(step + 1, { step: step + 1 });
      }
    }
    progress.finish();
    const policyFile = path.join(run.dir, 'policy.safetensors');
    if (!fs.existsSync(policyFile)) savePolicy(policyFile, await up.policy(), 0);
    return { policyFile, steps: o.steps, last };
  } finally {
    await up?.close();
    await runner.close();
  }
}

/** One offline method's training state on a runner: the trainer, and for TD methods the target network. */
export interface OfflineUpdater {
  /**
   * One gradient step on `batchSize` rows drawn from `rows` with `rng`; returns the step's metrics.
   * `offlineStep`: the offline step index (AFSFT's actor warm-up); online steps pass Infinity.
   */
  step(examples: Example[], links: EpisodeLinks, rows: number[], rng: Rng, offlineStep: number): Promise<Record<string, number>>;
  /** Writes `<prefix>.safetensors` (trainer) and `<prefix>.target.safetensors` (TD methods). */
  save(prefix: string): Promise<void>;
  load(prefix: string): Promise<void>;
  /** The current policy (trained weights over the frozen ones). */
  policy(): Promise<Vlm>;
  close(): Promise<void>;
}

export async function openOfflineUpdater(runner: Runner, vlm: Vlm, method: OfflineMethod, cfg: ReturnType<OfflineMethod['config']>): Promise<OfflineUpdater> {
  const trainer = await openTrainer(runner, method.build(vlm, cfg as never));
  const pixels = new PixelCache(vlm.cfg.imageSize); // rows are drawn again and again: decode each image once
  let target: Session | undefined;
  const targetNames = Object.keys(vlm.weights).map((n) => TARGET_PREFIX + n);
  if (method.td) {
    target = await runner.open(buildTargetValue(vlm).onnx);
    await runner.setState(Object.fromEntries(Object.entries(vlm.weights).map(([n, t]) => [TARGET_PREFIX + n, copy(t)])));
  }
  return {
    async step(examples, links, rows, rng, offlineStep) {
      const picked = Array.from({ length: Math.min(cfg.batchSize, rows.length) }, () => rows[rng.int(rows.length)]);
      const feeds = encodeTeacherForced(vlm, picked.map((i) => examples[i]), pixels);
      if (target) {
        Object.assign(feeds, await tdFeeds(vlm, target, feeds, picked, examples, links, cfg.gamma as number, cfg.tdSteps as number, pixels));
        feeds.filter_on = hostTensor('float32', [], [offlineStep < (cfg.actorWarmup as number) ? 0 : 1]);
      }
      const m = await trainer.step(feeds, cfg.lr);
      if (target) {
        const online = await trainer.params();
        const tgt = await runner.getState(Object.keys(online).map((n) => TARGET_PREFIX + n));
        polyak(tgt, online, cfg.tau as number);
        await runner.setState(tgt);
      }
      return Object.fromEntries(Object.entries(m).map(([k, v]) => [k, Number(v.data[0])]));
    },
    async save(prefix) {
      await trainer.save(`${prefix}.safetensors`);
      if (target) saveSafetensors(`${prefix}.target.safetensors`, await runner.getState(targetNames));
    },
    async load(prefix) {
      await trainer.load(`${prefix}.safetensors`);
      if (target) await runner.setState(loadSafetensors(`${prefix}.target.safetensors`).tensors);
    },
    policy: async () => ({ ...vlm, weights: { ...vlm.weights, ...(await trainer.params()) } }),
    async close() {
      await target?.close();
      await trainer.close();
    },
  };
}

function copy(t: HostTensor): HostTensor {
  return { dtype: t.dtype, shape: [...t.shape], data: t.data.slice() };
}

/** TD-target feeds: V̄ of the picked rows and of their next steps (column 0), then tdTargets. */
export async function tdFeeds(vlm: Vlm, target: Session, feeds: Record<string, HostTensor>, picked: number[], ex: Example[], links: EpisodeLinks, gamma: number, tdSteps: number, pixels?: PixelCache): Promise<Record<string, HostTensor>> {
  const [B, T] = feeds.mask.shape;
  // with k ≥ every row's length no target looks inside the utterance: only the next steps' V̄ is needed
  const vbar = tdSteps >= T ? new Float32Array(B * T) : (await target.run(feeds, ['vbar'])).vbar.data as Float32Array;
  const nextIdx = picked.map((i) => links.next[i]).filter((j) => j >= 0);
  const vNext = new Float64Array(B).fill(NaN);
  if (nextIdx.length) {
    const eos = vlm.tok.special.eos;
    const nf = encodeTeacherForced(vlm, nextIdx.map((j) => ({ ...ex[j], output: [eos], actionStart: 0 })), pixels);
    const nv = (await target.run(nf, ['vbar'])).vbar.data as Float32Array;
    const W = nf.mask.shape[1];
    let k = 0;
    picked.forEach((i, b) => { if (links.next[i] >= 0) vNext[b] = nv[k++ * W]; });
  }
  const lengths = picked.map((i) => ex[i].output.length);
  const { target: tdt, mask } = tdTargets(vbar, lengths, picked.map((i) => ex[i].reward), picked.map((i) => ex[i].terminated),
    picked.map((i) => ex[i].truncated), vNext, gamma, tdSteps);
  return { td_target: { dtype: 'float32', shape: [B, T], data: tdt }, critic_mask: { dtype: 'float32', shape: [B, T], data: mask } };
}

/** Reads the dataset's rows, checks the method's columns, tokenizes the outputs (+ EOS), links episodes. */
export async function loadExamples(o: Pick<OfflineOptions, 'storeRoot' | 'dataset' | 'filter'>, columns: readonly string[], vlm: Vlm): Promise<{ examples: Example[]; links: EpisodeLinks }> {
  const table = await openTable(o.storeRoot, o.dataset);
  const snap = await table.snapshot();
  const cols = [...new Set([...columns, 'episode_id', 'step', 'obs_image', 'obs_text', 'output_text', 'output_tokens', 'tokenizer', 'reward', 'terminated', 'truncated'])] as StepFieldName[];
  const t = await snap.read({ columns: cols, filter: o.filter });
  if (t.numRows === 0) throw new Error(`dataset "${o.dataset}" has no rows${o.filter ? ` matching ${JSON.stringify(o.filter)}` : ''}`);
  requireColumns((c) => { const v = t.getChild(c); return !!v && v.nullCount === 0; }, columns, 'this method', o.dataset);
  const get = (c: string, i: number) => t.getChild(c)!.get(i);
  const tok = vlm.tok, maxNew = vlm.cfg.maxNewTokens;
  const examples: Example[] = [];
  const hasTokens = t.getChild('output_tokens') !== null && t.getChild('tokenizer') !== null;
  for (let i = 0; i < t.numRows; i++) {
    // rows generated by this tokenizer keep their exact tokens (EOS included when generated); others are encoded + EOS
    const stored = hasTokens && get('tokenizer', i) === tok.id ? get('output_tokens', i) : null;
    let output: Int32Array;
    if (stored) output = Int32Array.from(stored as ArrayLike<number>);
    else {
      const ids = tok.encode(get('output_text', i) as string);
      output = new Int32Array(ids.length + 1);
      output.set(ids);
      output[ids.length] = tok.special.eos;
    }
    if (output.length > maxNew) {
      throw new Error(`dataset "${o.dataset}": row ${i} (episode ${get('episode_id', i)}, step ${get('step', i)}): output_text is ${output.length} tokens with EOS, `
        + `more than the model's maxNewTokens ${maxNew}; raise model.maxNewTokens`);
    }
    if (output.length === 0) throw new Error(`dataset "${o.dataset}": row ${i} (episode ${get('episode_id', i)}, step ${get('step', i)}): output_tokens is empty`);
    examples.push({
      image: get('obs_image', i) as Uint8Array | null, prompt: get('obs_text', i) as string, output, actionStart: actionStart(tok, output),
      reward: get('reward', i) as number, terminated: get('terminated', i) as boolean, truncated: get('truncated', i) as boolean,
    });
  }
  const keys = examples.map((e, i) => ({ episode_id: get('episode_id', i) as string, step: get('step', i) as number, reward: e.reward, terminated: e.terminated, truncated: e.truncated }));
  return { examples, links: linkEpisodes(keys, `dataset "${o.dataset}"`) };
}
