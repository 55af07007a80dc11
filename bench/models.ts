/**
 * `npm run bench -- models [--quick] [--threads N] [--runs N]`: the policy's speed on onnxruntime CPU.
 *
 *   gen_tokens_per_s  batched generation of 128 new tokens (batch 1 and 16), with the KV cache (prefill +
 *                     one decode run per token) and without it (the whole sequence recomputed per token);
 *                     the ratio cached/recomputed is its own line
 *   tf_tokens_per_s   teacher-forced scoring (per-token log-probs + values) of 16 rows × 128 generated tokens
 *   weight_update_ms  new weights reaching the generation sessions: one runner state write (what o2o does)
 *                     vs re-creating the prefill and decode sessions
 *   image_ms          one 300×300 PNG observation → [3, 48, 48] floats (decode + area-average)
 *   gen_time_ratio    cached generation through the runner's binding (onnxruntime's C API by default) over
 *                     the same through onnxruntime-node's binding, runs alternating
 * The default policy config (vlm.ts) is measured, EOS suppressed so that every row runs the full length,
 * in the calling thread (inline runner) with --threads intra-op threads (default 1: decode steps are too
 * small to gain from a second thread, and on a busy 2-core machine a second thread made them 2-3x slower).
 * Medians of --runs runs (default 3) after one warm-up.
 * --quick: a tiny model, 8 tokens, 1 run, no warm-up (for the test that proves the bench works).
 */
import { type HostTensor, openRunner } from '../src/engine/index.ts';
import { encodePng } from '../src/ingest/images.ts';
import { openGenerator, buildDecode, buildPrefill } from '../src/models/generate.ts';
import { preprocessImage } from '../src/models/image.ts';
import { type TfRow, encodeTeacherForced, teacherForced, teacherForcedInputs, tokenLogprobs, values } from '../src/models/policy.ts';
import { byteTokenizer } from '../src/models/tokenizer.ts';
import { createVlm, declareVlm, vlmConfig } from '../src/models/vlm.ts';
import { Graph, buildInference } from '../src/engine/index.ts';
import { Rng } from '../src/util/rng.ts';
import { type BenchArgs, figure, median, timeRuns } from './report.ts';

function option(argv: string[], name: string, dflt: number): number {
  const i = argv.indexOf(name);
  if (i < 0) return dflt;
  const v = Number(argv[i + 1]);
  if (!Number.isInteger(v) || v < 1) throw new Error(`bench models: ${name} expects an integer >= 1, got ${JSON.stringify(argv[i + 1])}`);
  return v;
}

export async function run(args: BenchArgs): Promise<void> {
  const threads = option(args.argv, '--threads', 1);
  const runs = args.quick ? 1 : option(args.argv, '--runs', 3);
  const warmup = args.quick ? 0 : 1;
  const newTokens = args.quick ? 8 : 128;
  const batches = args.quick ? [1, 2] : [1, 16];
  const tok = byteTokenizer();
  const cfg = vlmConfig(args.quick ? { imageSize: 16, patchSize: 8, dModel: 32, layers: 1, heads: 2, ffn: 64, headHidden: 16 } : {});
  const m = createVlm(cfg, tok);
  // EOS never sampled: ln_f bias 1 on every unit and a negative EOS column give EOS a logit near −dModel
  (m.weights['ln_f.b'].data as Float32Array).fill(1);
  const lm = m.weights['lm_head.w'], V = tok.vocabSize;
  for (let i = 0; i < cfg.dModel; i++) (lm.data as Float32Array)[i * V + tok.special.eos] = -1;

  const rng = new Rng(0);
  const png = encodePng(Array.from({ length: 300 * 300 * 3 }, () => rng.int(256)), 300, 300, 3);
  const prompt = 'You are playing a game called number line. You will see a target number and a current number in the image. '.repeat(4);
  const obs = (B: number) => Array.from({ length: B }, (_, b) => ({ text: prompt.slice(b * 7), image: png }));
  const common = { bench: 'models', threads, d_model: cfg.dModel, layers: cfg.layers };
  console.log(`models bench: d=${cfg.dModel}, ${cfg.layers} layers, ${cfg.imageSize}px image (${(cfg.imageSize / cfg.patchSize) ** 2} patches), ` +
    `prompt ${cfg.maxPromptTokens} tokens, ${newTokens} new tokens, ${threads} threads, median of ${runs} after ${warmup} warm-up`);

  const runner = await openRunner({ thread: 'inline', threads });
  try {
    const gen = await openGenerator(m, runner);
    for (const B of batches) {
      const ms: Record<string, number> = {};
      for (const kv of [true, false]) {
        const times = await timeRuns(() => gen.generate(obs(B), 1, { temperature: 1, maxNewTokens: newTokens, kvCache: kv }), runs, warmup);
        ms[String(kv)] = median(times);
        const tps = (B * newTokens) / (ms[String(kv)] / 1000);
        console.log(`generation batch ${B}, ${kv ? 'KV cache' : 'recompute'}: ${ms[String(kv)].toFixed(1)} ms, ${tps.toFixed(0)} tokens/s`);
        figure({ ...common, figure: 'gen_tokens_per_s', batch: B, new_tokens: newTokens, kv_cache: kv, value: Math.round(tps), unit: 'tokens/s' });
      }
      const ratio = ms.false / ms.true;
      console.log(`  KV cache speed-up at batch ${B}: ${ratio.toFixed(1)}x`);
      figure({ ...common, figure: 'kv_cache_speedup', batch: B, new_tokens: newTokens, value: Number(ratio.toFixed(2)), unit: 'recompute/cached' });
    }

    // the runner's binding against onnxruntime-node's (which copies every output, the KV cache included),
    // cached generation alternating between the two
    if (runner.binding !== 'onnxruntime-node') {
      const alt = await openRunner({ thread: 'inline', threads, binding: 'onnxruntime-node' });
      try {
        const genAlt = await openGenerator(m, alt);
        for (const B of batches) {
          const once = (g: typeof gen) => async () => {
            const t0 = performance.now();
            await g.generate(obs(B), 1, { temperature: 1, maxNewTokens: newTokens, kvCache: true });
            return performance.now() - t0;
          };
          const mine: number[] = [], theirs: number[] = [];
          for (let i = 0; i < warmup + runs; i++) {
            const a = await once(gen)(), b = await once(genAlt)();
            if (i >= warmup) mine.push(a), theirs.push(b);
          }
          const paired = median(mine.map((x, i) => x / theirs[i]));
          const tps = (t: number[]) => (B * newTokens) / (median(t) / 1000);
          console.log(`generation batch ${B}, KV cache, ${runner.binding} vs onnxruntime-node alternating: ${tps(mine).toFixed(0)} vs ${tps(theirs).toFixed(0)} tokens/s (time ratio, median of pairs, ${paired.toFixed(2)})`);
          figure({ ...common, figure: 'gen_tokens_per_s', batch: B, new_tokens: newTokens, kv_cache: true, binding: 'onnxruntime-node', value: Math.round(tps(theirs)), unit: 'tokens/s' });
          figure({ ...common, figure: 'gen_time_ratio', batch: B, new_tokens: newTokens, value: Number(paired.toFixed(3)), unit: `${runner.binding}/onnxruntime-node` });
        }
        await genAlt.close();
      } finally {
        await alt.close();
      }
    }

    // weight updates: state write vs new sessions
    const weights: Record<string, HostTensor> = m.weights;
    const stateMs = median(await timeRuns(() => gen.setWeights(weights), runs, warmup));
    const reopenMs = median(await timeRuns(async () => {
      const a = await runner.open(buildPrefill(m).onnx);
      const b = await runner.open(buildDecode(m).onnx);
      await a.close();
      await b.close();
    }, runs, warmup));
    console.log(`weight update: state write ${stateMs.toFixed(2)} ms, re-creating the sessions ${reopenMs.toFixed(1)} ms`);
    figure({ ...common, figure: 'weight_update_ms', method: 'state_write', value: Number(stateMs.toFixed(3)), unit: 'ms' });
    figure({ ...common, figure: 'weight_update_ms', method: 'new_sessions', value: Number(reopenMs.toFixed(2)), unit: 'ms' });
    await gen.close();

    // teacher-forced scoring
    const B = batches[batches.length - 1];
    const g = new Graph();
    const p = declareVlm(g, m);
    const x = teacherForcedInputs(g, cfg);
    const o = teacherForced(p, x);
    const s = await runner.open(buildInference(g, { outputs: { logp: tokenLogprobs(o.logits, x.targets, 1), v: values(p, o.h) } }).onnx);
    const rows: TfRow[] = obs(B).map((ob, b) => ({ image: ob.image, prompt: ob.text, output: Int32Array.from({ length: newTokens }, (_, i) => 97 + ((i + b) % 26)), actionStart: newTokens >> 1 }));
    const feeds = encodeTeacherForced(m, rows);
    const tfMs = median(await timeRuns(() => s.run(Object.fromEntries(s.inputNames.map((n) => [n, feeds[n]]))), runs, warmup));
    const tfTps = (B * newTokens) / (tfMs / 1000);
    console.log(`teacher-forced scoring, ${B} rows x ${newTokens} tokens: ${tfMs.toFixed(1)} ms, ${tfTps.toFixed(0)} tokens/s`);
    figure({ ...common, figure: 'tf_tokens_per_s', batch: B, new_tokens: newTokens, value: Math.round(tfTps), unit: 'tokens/s' });
    await s.close();
  } finally {
    await runner.close();
  }

  const imgMs = median(await timeRuns(() => preprocessImage(png, 48), args.quick ? 1 : 20, warmup));
  console.log(`image: 300x300 PNG -> [3, 48, 48]: ${imgMs.toFixed(2)} ms`);
  figure({ bench: 'models', figure: 'image_ms', size: 48, value: Number(imgMs.toFixed(3)), unit: 'ms' });
}
