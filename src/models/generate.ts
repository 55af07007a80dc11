/**
 * Batched generation with a KV cache: one prefill run over [patches, BOS + prompt] for all B observations
 * (prompts left-padded, per-row positions), then one decode run per new token. The cache lives in the
 * runner's state (the sessions carry present → past), so only the new token ids, their positions, the past
 * key mask and the logits cross to the host. Sampling is done on the host from the float32 logits with one
 * seeded generator per row (sampling.ts).
 *
 * Weights are graph inputs read from the runner's state by name (`weights: 'inputs'`): a Trainer on the
 * same runner updates them in place, and `setWeights` is one state write; no session is rebuilt.
 *
 * Graphs (d = dModel, H heads, dh = d/H, P patches, V vocabulary):
 *   prefill: image [B, 3, S, S], prompt [B, Tp], prompt_pos [B, Tp] → logits [B, V] (last column),
 *            value [B], present.k.<l> / present.v.<l> [B, H, P+Tp, dh]
 *   decode:  token [B, 1], token_pos [B, 1], past_mask [B, L] bool, past.k.<l> / past.v.<l> [B, H, L, dh]
 *            → logits [B, V], present.k.<l> / present.v.<l> [B, H, L+1, dh]
 */
import { Graph, type HostTensor, type InferenceModel, type Runner, type Tensor, buildInference, slice, squeeze } from '../engine/index.ts';
import { Rng } from '../util/rng.ts';
import { preprocessImage } from './image.ts';
import { encodePrompt } from './policy.ts';
import { sampleToken } from './sampling.ts';
import { actionStart } from './split.ts';
import { type KvCache, type Vlm, backbone, declareVlm, isTrainable, lmHead, numPatches, valueHead } from './vlm.ts';

/** What the policy sees at one env step (the rollout's Observation). */
export interface PolicyObservation { text: string; image: Uint8Array | null }

/** One generated utterance, as the store row keeps it. */
export interface Generated {
  text: string;
  /** [n] generated token ids (EOS included when it was generated) */
  tokens: Int32Array;
  /** [n] log π_T of each token under the sampling policy */
  logprobs: Float32Array;
  /** index in tokens where the action part begins */
  actionStart: number;
  /** V(o) of the value head */
  value: number;
}

export interface GenerateOptions {
  temperature: number;
  /** default: the model's maxNewTokens */
  maxNewTokens?: number;
  /** false: recompute the whole sequence for every token (the oracle and the benchmark's baseline) */
  kvCache?: boolean;
}

/**
 * Prefill graph (also the no-cache step: the whole sequence, logits of the last column). `weights`:
 * 'inputs' reads trainable weights from the runner state; 'initializers' bakes them in (export).
 */
export function buildPrefill(m: Vlm, weights: 'inputs' | 'initializers' = 'inputs'): InferenceModel {
  const c = m.cfg, g = new Graph(), S = c.imageSize;
  const p = declareVlm(g, m);
  const image = g.input('image', 'float32', ['batch', 3, S, S]);
  const tokens = g.input('prompt', 'int64', ['batch', 'seq']);
  const positions = g.input('prompt_pos', 'int64', ['batch', 'seq']);
  const out = backbone(p, [{ tokens, positions }], image);
  const last = squeeze(slice(out.segments[0], [-1], [Infinity], [1]), [1]); // [B, d]
  return buildInference(g, {
    outputs: { logits: lmHead(p, last), value: valueHead(p, last), ...presentOutputs(out.present) },
    weights,
  });
}

/** Decode graph: one new column against the cached K/V of all previous columns. */
export function buildDecode(m: Vlm, weights: 'inputs' | 'initializers' = 'inputs'): InferenceModel {
  const c = m.cfg, g = new Graph(), dh = c.dModel / c.heads;
  const p = declareVlm(g, m);
  const tokens = g.input('token', 'int64', ['batch', 1]);
  const positions = g.input('token_pos', 'int64', ['batch', 1]);
  const keyMask = g.input('past_mask', 'bool', ['batch', 'past']);
  const kv: KvCache = { k: [], v: [] };
  for (let l = 0; l < c.layers; l++) {
    kv.k.push(g.input(`past.k.${l}`, 'float32', ['batch', c.heads, 'past', dh]));
    kv.v.push(g.input(`past.v.${l}`, 'float32', ['batch', c.heads, 'past', dh]));
  }
  const out = backbone(p, [{ tokens, positions }], null, { kv, keyMask });
  const h = squeeze(out.segments[0], [1]);
  return buildInference(g, { outputs: { logits: lmHead(p, h), ...presentOutputs(out.present) }, weights });
}

function presentOutputs(kv: KvCache): Record<string, Tensor> {
  const o: Record<string, Tensor> = {};
  kv.k.forEach((t, l) => { o[`present.k.${l}`] = t; });
  kv.v.forEach((t, l) => { o[`present.v.${l}`] = t; });
  return o;
}

/** The weights that generation sessions read from the runner state (the trainable ones). */
export function generationWeights(m: Vlm): Record<string, HostTensor> {
  return Object.fromEntries(Object.entries(m.weights).filter(([n]) => isTrainable(m.cfg, n)));
}

export interface Generator {
  /** One utterance per observation; row b samples with generator b forked from `seed`. */
  generate(obs: PolicyObservation[], seed: number, opts: GenerateOptions): Promise<Generated[]>;
  /** V(o) per observation. */
  values(obs: PolicyObservation[]): Promise<Float32Array>;
  /** Writes new weights into the runner state that the sessions read. */
  setWeights(weights: Record<string, HostTensor>): Promise<void>;
  close(): Promise<void>;
}

/**
 * Opens prefill and decode sessions on `runner` and writes the model's trainable weights into its state
 * (a Trainer on the same runner may own them instead). One generator per runner: the KV cache uses the
 * state names past.k.<l> / past.v.<l>.
 */
export async function openGenerator(m: Vlm, runner: Runner): Promise<Generator> {
  const c = m.cfg, tok = m.tok, P = numPatches(c), S = c.imageSize, V = tok.vocabSize;
  const carry: Record<string, string> = {};
  for (let l = 0; l < c.layers; l++) {
    carry[`present.k.${l}`] = `past.k.${l}`;
    carry[`present.v.${l}`] = `past.v.${l}`;
  }
  const prefill = await runner.open(buildPrefill(m).onnx, carry);
  const decode = await runner.open(buildDecode(m).onnx, carry);
  await runner.setState(generationWeights(m));
  const banned = [tok.special.pad, tok.special.bos, tok.special.image];

  /** Left-padded prompts and images of a batch. */
  const prepare = (obs: PolicyObservation[]) => {
    const B = obs.length;
    const prompts = obs.map((o) => encodePrompt(tok, c, o.text));
    const Tp = Math.max(...prompts.map((p) => p.length));
    const image = new Float32Array(B * 3 * S * S);
    obs.forEach((o, b) => image.set(preprocessImage(o.image, S), b * 3 * S * S));
    return { B, prompts, Tp, image: { dtype: 'float32', shape: [B, 3, S, S], data: image } as HostTensor };
  };

  /** Sequence feeds: prompt left-padded to Tp, then `gen` columns (pad where a row has none). */
  const sequence = (prompts: Int32Array[], Tp: number, gen: number[][], cols: number) => {
    const B = prompts.length, T = Tp + cols;
    const ids = new BigInt64Array(B * T).fill(BigInt(tok.special.pad));
    const pos = new BigInt64Array(B * T);
    prompts.forEach((pr, b) => {
      const shift = Tp - pr.length;
      for (let j = 0; j < pr.length; j++) { ids[b * T + shift + j] = BigInt(pr[j]); pos[b * T + shift + j] = BigInt(P + j); }
      for (let i = 0; i < cols && i < gen[b].length; i++) { ids[b * T + Tp + i] = BigInt(gen[b][i]); pos[b * T + Tp + i] = BigInt(P + pr.length + i); }
    });
    return { prompt: { dtype: 'int64', shape: [B, T], data: ids } as HostTensor, prompt_pos: { dtype: 'int64', shape: [B, T], data: pos } as HostTensor };
  };

  return {
    async generate(obs, seed, opts) {
      const maxNew = opts.maxNewTokens ?? c.maxNewTokens;
      if (!Number.isInteger(maxNew) || maxNew < 1 || maxNew > c.maxNewTokens) {
        throw new Error(`generate: maxNewTokens must be an integer in 1..${c.maxNewTokens} (the model's limit), got ${maxNew}`);
      }
      if (obs.length === 0) return [];
      const { B, prompts, Tp, image } = prepare(obs);
      const base = new Rng(seed);
      const rngs = obs.map((_, b) => base.fork(b));
      const gen: number[][] = obs.map(() => []);
      const lps: number[][] = obs.map(() => []);
      const done = new Array(B).fill(false);
      let r = await prefill.run({ image, ...sequence(prompts, Tp, gen, 0) }, ['logits', 'value']);
      const value = Float32Array.from(r.value.data as Float32Array);
      const useCache = opts.kvCache !== false;
      // past_mask of the cache: [B, P + Tp + step] (row-major, rebuilt per step; B·L bytes)
      let pastLen = P + Tp;
      let pastMask = new Uint8Array(B * pastLen);
      prompts.forEach((pr, b) => {
        pastMask.fill(1, b * pastLen, b * pastLen + P);
        pastMask.fill(1, b * pastLen + P + Tp - pr.length, (b + 1) * pastLen);
      });
      for (let step = 0; step < maxNew; step++) {
        const logits = r.logits.data as Float32Array;
        for (let b = 0; b < B; b++) {
          if (done[b]) continue;
          const { token, logp } = sampleToken(logits, b * V, V, opts.temperature, rngs[b], banned);
          gen[b].push(token);
          lps[b].push(logp);
          if (token === tok.special.eos) done[b] = true;
        }
        if (step === maxNew - 1 || done.every(Boolean)) break;
        if (useCache) {
          const token = new BigInt64Array(B).fill(BigInt(tok.special.pad));
          const pos = new BigInt64Array(B);
          for (let b = 0; b < B; b++) {
            if (gen[b].length === step + 1) { token[b] = BigInt(gen[b][step]); pos[b] = BigInt(P + prompts[b].length + step); }
          }
          r = await decode.run({
            token: { dtype: 'int64', shape: [B, 1], data: token },
            token_pos: { dtype: 'int64', shape: [B, 1], data: pos },
            past_mask: { dtype: 'bool', shape: [B, pastLen], data: pastMask },
          }, ['logits']);
          const next = new Uint8Array(B * (pastLen + 1));
          for (let b = 0; b < B; b++) {
            next.set(pastMask.subarray(b * pastLen, (b + 1) * pastLen), b * (pastLen + 1));
            next[b * (pastLen + 1) + pastLen] = token[b] === BigInt(tok.special.pad) ? 0 : 1;
          }
          pastMask = next;
          pastLen++;
        } else {
          // finished rows have fewer tokens: their later columns are pads, masked as keys
          r = await prefill.run({ image, ...sequence(prompts, Tp, gen, step + 1) }, ['logits']);
        }
      }
      return gen.map((t, b) => {
        const tokens = Int32Array.from(t);
        return { text: tok.decode(tokens), tokens, logprobs: Float32Array.from(lps[b]), actionStart: actionStart(tok, tokens), value: value[b] };
      });
    },

    async values(obs) {
      if (obs.length === 0) return new Float32Array(0);
      const { prompts, Tp, image } = prepare(obs);
      const r = await prefill.run({ image, ...sequence(prompts, Tp, obs.map(() => []), 0) }, ['value']);
      return Float32Array.from(r.value.data as Float32Array);
    },

    setWeights: (w) => runner.setState(w),

    async close() {
      await prefill.close();
      await decode.close();
      await runner.deleteState(Object.values(carry));
    },
  };
}

