/**
 * The PPO / CoSo update on a rollout batch (RL4VLM's schedule): GAE(γ, λ) over whole episodes, advantages
 * normalised over the batch, old log-likelihood = λ-scaled sum of the behaviour log-probs, then `epochs`
 * passes of shuffled minibatches. CoSo adds the counterfactual weights from its SCM, which is pre-trained
 * on the store's rows before the first update and trained on every fresh batch.
 */
import { openRunner, openTrainer, type HostTensor, type Runner } from '../engine/index.ts';
import { getTask } from '../envs/registry.ts';
import { encodeTeacherForced } from '../models/policy.ts';
import { PixelCache } from '../models/image.ts';
import type { Vlm } from '../models/vlm.ts';
import { openTable } from '../store/index.ts';
import { Rng } from '../util/rng.ts';
import { buildCosoStep, counterfactualWeights, cosoConfig, zeroTokenSet } from '../algos/coso.ts';
import { openScm, type Scm } from '../algos/coso-scm.ts';
import { gaeEpisodes, normalizeAdvantages, uniformReturns } from '../algos/gae.ts';
import { buildPpoStep, cosineLr, cotLogLik, ppoConfig } from '../algos/ppo.ts';
import { hash3, type RolloutBatch, type RolloutStep } from './actor.ts';
import type { Learner, OnlineOptions } from './train-online.ts';

export async function openPpoLearner(runner: Runner, vlm: Vlm, o: OnlineOptions, settings: Record<string, unknown>): Promise<Learner> {
  const ppoKeys = Object.keys(ppoConfig());
  const cfg = ppoConfig(Object.fromEntries(Object.entries(settings).filter(([k]) => ppoKeys.includes(k))));
  const coso = o.algo === 'coso' ? cosoConfig(Object.fromEntries(Object.entries(settings).filter(([k]) => !ppoKeys.includes(k)))) : null;
  const trainer = await openTrainer(runner, coso ? buildCosoStep(vlm, cfg, coso) : buildPpoStep(vlm, cfg));
  const actions = getTask(o.task).actions;
  let scm: Scm | null = null;
  let scmRunner: Runner | null = null;
  let zero = new Set<number>();
  let scmPretrained = false;
  if (coso) {
    // its own runner: two trainers on one runner would share the optimizer's 'step' state
    scmRunner = await openRunner({ threads: o.threads, thread: 'inline' });
    scm = await openScm(scmRunner, { vocabSize: vlm.tok.vocabSize, classes: actions.length, seed: o.seed });
    const sp = vlm.tok.special;
    zero = zeroTokenSet(vlm.tok.vocabSize, (id) => vlm.tok.tokenText(id), [sp.pad, sp.bos, sp.eos, sp.image], actions);
  }
  const scmRng = new Rng(o.seed).fork('scm');
  const label = (s: RolloutStep) => actions.indexOf(s.row.action_text);

  /** SCM pre-training on the rows already in the store (demonstrations, failures, earlier rollouts). */
  async function pretrainScm(): Promise<Record<string, number>> {
    const snap = await (await openTable(o.storeRoot, o.dataset, { create: true })).snapshot();
    const t = await snap.read({ columns: ['output_text', 'action_text'], filter: { task: getTask(o.task).id } });
    const seqs: number[][] = [], labels: number[] = [];
    for (let i = 0; i < t.numRows; i++) {
      const a = actions.indexOf(t.getChild('action_text')!.get(i) as string);
      const seq = Array.from(vlm.tok.encode(t.getChild('output_text')!.get(i) as string));
      if (a >= 0 && seq.length > 0) { seqs.push(seq); labels.push(a); }
    }
    let last = { loss: NaN, acc: NaN };
    for (let s = 0; s < coso!.scmPretrainSteps && seqs.length; s++) {
      const idx = Array.from({ length: coso!.scmBatchSize }, () => scmRng.int(seqs.length));
      last = await scm!.trainStep(idx.map((i) => seqs[i]), idx.map((i) => labels[i]), coso!.scmLr, s === coso!.scmPretrainSteps - 1);
    }
    return { scm_pretrain_rows: seqs.length, scm_loss: last.loss, scm_acc: last.acc };
  }

  return {
    stepsPerUpdate: cfg.stepsPerUpdate,
    temperature: cfg.temperature,
    async update(batch: RolloutBatch, k: number, totalUpdates: number) {
      const out: Record<string, number> = {};
      const steps = batch.episodes.flat();
      const { advantages, returns } = gaeEpisodes(batch.episodes.map((ep) => ep.map((s) => ({
        reward: s.row.reward, value: s.gen.value, terminated: s.row.terminated, truncated: s.row.truncated, truncValue: s.truncValue,
      }))), cfg.gamma, cfg.gaeLambda);
      const adv = normalizeAdvantages(advantages);
      // the warm-up, and batches without signal on the policy (cfg.uniformValueOnly), train the value head only
      const valueOnly = k < cfg.valueWarmup || (cfg.uniformValueOnly && uniformReturns(batch.episodes.map((ep) => ep.map((s) => s.row))));
      out.value_only = valueOnly ? 1 : 0;
      const logpOld = steps.map((s) => cotLogLik(s.gen.logprobs, new Float32Array(s.gen.tokens.length).fill(1), [s.gen.actionStart], cfg.cotLambda)[0]);
      let weights: Float32Array[] = [];
      if (scm && coso) {
        const t0 = performance.now();
        if (!scmPretrained) { Object.assign(out, await pretrainScm()); scmPretrained = true; }
        const seqs = steps.map((s) => Array.from(s.gen.tokens));
        for (let j = 0; j < coso.scmStepsPerUpdate; j++) {
          const idx = Array.from({ length: Math.min(coso.scmBatchSize, steps.length) }, () => scmRng.int(steps.length));
          const r = await scm.trainStep(idx.map((i) => seqs[i]), idx.map((i) => Math.max(0, label(steps[i]))), coso.scmLr, j === coso.scmStepsPerUpdate - 1);
          out.scm_loss = r.loss;
          out.scm_acc = r.acc;
        }
        const t1 = performance.now();
        // in value-only updates the entropy bonus is off too (weights 0): the policy does not move
        weights = valueOnly ? seqs.map((q) => new Float32Array(q.length))
          : await counterfactualWeights(seqs, steps.map((s) => Math.max(0, label(s))), scm.classify, { window: coso.window, nullToken: scm.nullToken, zeroTokens: zero, tail: scm.tail });
        out.scm_s = (t1 - t0) / 1000;
        out.weights_s = (performance.now() - t1) / 1000;
      }
      const lr = cosineLr(cfg, k, totalUpdates);
      const pixels = new PixelCache(vlm.cfg.imageSize); // each image is decoded once per update, not once per epoch
      const sums: Record<string, number> = {};
      let n = 0;
      let klStop = false;
      for (let epoch = 0; epoch < cfg.epochs && !klStop; epoch++) {
        const perm = new Rng(hash3(o.seed, k, 2000 + epoch)).shuffle(Array.from(steps, (_, i) => i));
        for (let b = 0; b < perm.length; b += cfg.minibatchSize) {
          const idx = perm.slice(b, b + cfg.minibatchSize);
          const feeds: Record<string, HostTensor> = encodeTeacherForced(vlm, idx.map((i) => ({
            image: steps[i].row.obs_image, prompt: steps[i].row.obs_text, output: steps[i].gen.tokens, actionStart: steps[i].gen.actionStart,
          })), pixels);
          const vec = (f: (i: number) => number): HostTensor => ({ dtype: 'float32', shape: [idx.length], data: Float32Array.from(idx, f) });
          if (cfg.ratioLevel === 'token') {
            const T = feeds.mask.shape[1];
            const lo = new Float32Array(idx.length * T);
            idx.forEach((i, r) => lo.set(steps[i].gen.logprobs, r * T));
            feeds.logp_old = { dtype: 'float32', shape: [idx.length, T], data: lo };
          } else feeds.logp_old = vec((i) => logpOld[i]);
          feeds.adv = vec((i) => (valueOnly ? 0 : adv[i]));
          // value-only updates fit the value unclipped: with v_old = ret, V_clip − ret = clip(V − ret, ±ε), never
          // larger than V − ret, so max(·) is the plain squared error (clipping held each row to ±ε per update)
          feeds.v_old = vec((i) => (valueOnly ? returns[i] : steps[i].gen.value));
          feeds.ret = vec((i) => returns[i]);
          if (scm) {
            const T = feeds.mask.shape[1];
            const w = new Float32Array(idx.length * T);
            idx.forEach((i, r) => w.set(weights[i], r * T));
            feeds.coso_w = { dtype: 'float32', shape: [idx.length, T], data: w };
          }
          const m = await trainer.step(feeds, lr);
          if (epoch === 0 && b === 0) out.ratio_first = Number(m.ratio.data[0]);
          for (const [key, v] of Object.entries(m)) sums[key] = (sums[key] ?? 0) + Number(v.data[0]);
          n++;
          if (cfg.targetKl > 0 && Number(m.kl.data[0]) > 1.5 * cfg.targetKl) { klStop = true; break; }
        }
      }
      out.minibatch_steps = n;
      for (const [key, v] of Object.entries(sums)) out[key] = v / n;
      return { ...out, lr, adv_raw_mean: advantages.reduce((s, a) => s + a, 0) / advantages.length };
    },
    async save(prefix) {
      await trainer.save(`${prefix}.safetensors`);
      if (scm) await scm.save(`${prefix}.scm.safetensors`);
    },
    async load(prefix) {
      await trainer.load(`${prefix}.safetensors`);
      if (scm) { await scm.load(`${prefix}.scm.safetensors`); scmPretrained = true; }
    },
    policy: async () => ({ ...vlm, weights: { ...vlm.weights, ...(await trainer.params()) } }),
    async close() {
      await scm?.close();
      await scmRunner?.close();
      await trainer.close();
    },
  };
}
