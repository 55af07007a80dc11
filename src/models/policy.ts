/**
 * What the methods need from the policy, as functions that add nodes to an engine graph, and the host-side
 * packing of store rows into the inputs those functions declare.
 *
 * Teacher-forced layout of a batch of B rows (one env step each: image, prompt, generated tokens y_1..y_n):
 *   image       float32 [B, 3, S, S]
 *   context     int64 [B, ctx]   BOS + prompt without its last token, LEFT-padded with pad
 *   context_pos int64 [B, ctx]   position ids (P + index among the row's real text tokens; pads 0)
 *   stream      int64 [B, out]   [last prompt token, y_1, .., y_{n−1}], RIGHT-padded with pad
 *   stream_pos  int64 [B, out]
 *   targets     int64 [B, out]   y_1..y_n (pad after n)
 *   mask        float32 [B, out] 1 for the n generated tokens, 0 after
 *   action_start int64 [B]       index in y where the action part begins
 * Column i of `stream` holds the state h_i = (o, y_<i) that predicts y_i, so logits, entropies and Q
 * values line up with `targets` without shifting; column 0 is the last prompt token (the value head's
 * input, RL4VLM).
 */
import {
  type Graph, type HostTensor, type Tensor, cast, div, exp, gatherElements, hostTensor, less, logSoftmax, mul,
  neg, softmax, squeeze, sum, unsqueeze, where, arange, slice,
} from '../engine/index.ts';
import { preprocessImage, type PixelCache } from './image.ts';
import { type Vlm, type VlmConfig, type VlmParams, backbone, lmHead, numPatches, qHead, valueHead } from './vlm.ts';
import type { Tokenizer } from './tokenizer.ts';

type T = Tensor;

export interface TfInputs {
  image: T; context: T; contextPos: T; stream: T; streamPos: T; targets: T; mask: T; actionStart: T;
}

/** Declares the teacher-forced batch inputs (names as in the module comment, after `prefix`). */
export function teacherForcedInputs(g: Graph, c: VlmConfig, prefix = ''): TfInputs {
  const S = c.imageSize;
  return {
    image: g.input(`${prefix}image`, 'float32', ['batch', 3, S, S]),
    context: g.input(`${prefix}context`, 'int64', ['batch', 'ctx']),
    contextPos: g.input(`${prefix}context_pos`, 'int64', ['batch', 'ctx']),
    stream: g.input(`${prefix}stream`, 'int64', ['batch', 'out']),
    streamPos: g.input(`${prefix}stream_pos`, 'int64', ['batch', 'out']),
    targets: g.input(`${prefix}targets`, 'int64', ['batch', 'out']),
    mask: g.input(`${prefix}mask`, 'float32', ['batch', 'out']),
    actionStart: g.input(`${prefix}action_start`, 'int64', ['batch']),
  };
}

export interface TfOut {
  /** [B, out, d] hidden state h_i of each generated position */
  h: T;
  /** [B, out, V] untempered logits */
  logits: T;
}

/** The policy over a teacher-forced batch. */
export function teacherForced(p: VlmParams, x: TfInputs): TfOut {
  const [, h] = backbone(p, [{ tokens: x.context, positions: x.contextPos }, { tokens: x.stream, positions: x.streamPos }], x.image).segments;
  return { h, logits: lmHead(p, h) };
}

/** log π_T(y_i | h_i) = log softmax(logits / T)[y_i]. logits [B, out, V], targets [B, out] → [B, out]. */
export function tokenLogprobs(logits: T, targets: T, temperature = 1): T {
  return targetLogprobs(vocabLogprobs(logits, temperature), targets);
}

/** log π_T(·|h_i) over the vocabulary: logits [B, out, V] → [B, out, V]. */
export function vocabLogprobs(logits: T, temperature = 1): T {
  return logSoftmax(temperature === 1 ? logits : div(logits, temperature), -1);
}

/** The targets' entries of vocabulary log-probs: logp [B, out, V], targets [B, out] → [B, out]. */
export function targetLogprobs(logp: T, targets: T): T {
  return squeeze(gatherElements(logp, unsqueeze(targets, [-1]), -1), [-1]);
}

/**
 * 1 for thought tokens (i < action_start), 0 for action tokens, times mask. mask [B, out], actionStart [B]
 * → [B, out] float32.
 */
export function thoughtMask(mask: T, actionStart: T): T {
  const i = unsqueeze(arange(mask.graph, mask.shape[1]), [0]); // [1, out]
  return mul(cast(less(i, unsqueeze(actionStart, [1])), 'float32'), mask);
}

/**
 * RL4VLM's action log-likelihood: λ·Σ_{thought} log π + Σ_{action} log π (spec §2).
 * logp, mask [B, out]; actionStart [B] → [B].
 */
export function scaledActionLogLik(logp: T, mask: T, actionStart: T, lambda: number): T {
  const th = thoughtMask(mask, actionStart);
  const w = where(cast(th, 'bool'), lambda, mask); // λ on thought tokens, mask (1 or 0) elsewhere
  return sum(mul(logp, w), [1]);
}

/** Full-vocabulary entropy H(π_T(·|h_i)) per position (CoSo). logits [B, out, V] → [B, out]. */
export function tokenEntropy(logits: T, temperature = 1): T {
  return entropyOf(vocabLogprobs(logits, temperature));
}

/** H = −Σ_v exp(lp_v)·lp_v: vocabulary log-probs [..., V] → [...]. */
export function entropyOf(lp: T): T {
  return neg(sum(mul(exp(lp), lp), [-1]));
}

/** V(o) from the value head on the last prompt token (stream column 0). h [B, out, d] → [B]. */
export function values(p: VlmParams, h: T): T {
  return valueHead(p, squeeze(slice(h, [0], [1], [1]), [1]));
}

/** Q(h_i, v) for every v (VLM Q-Learning). h [B, out, d] → [B, out, V]. */
export function qValues(p: VlmParams, h: T): T {
  return qHead(p, h);
}

/** Q(h_i, y_i): q [B, out, V], targets [B, out] → [B, out]. */
export function qTaken(q: T, targets: T): T {
  return squeeze(gatherElements(q, unsqueeze(targets, [-1]), -1), [-1]);
}

/** V(h_i) = Σ_v π_T(v|h_i)·Q(h_i, v). logits, q [B, out, V] → [B, out]. */
export function softValue(logits: T, q: T, temperature = 1): T {
  return sum(mul(softmax(temperature === 1 ? logits : div(logits, temperature), -1), q), [-1]);
}

// ---- host side ----

/** One row to score: the observation and the generated tokens (EOS included when generated). */
export interface TfRow {
  image: Uint8Array | null;
  prompt: string;
  output: ArrayLike<number>;
  actionStart: number;
}

/** BOS + the prompt's last maxPromptTokens tokens (long prompts are cut from the front). */
export function encodePrompt(tok: Tokenizer, c: VlmConfig, prompt: string): Int32Array {
  const ids = tok.encode(prompt);
  const kept = ids.length > c.maxPromptTokens ? ids.subarray(ids.length - c.maxPromptTokens) : ids;
  const out = new Int32Array(kept.length + 1);
  out[0] = tok.special.bos;
  out.set(kept, 1);
  return out;
}

/**
 * Packs rows into the inputs of {@link teacherForcedInputs} (names without prefix). `pixels`: a cache of
 * preprocessed images for callers that feed the same rows again (its size must be the model's imageSize).
 */
export function encodeTeacherForced(m: Vlm, rows: TfRow[], pixels?: PixelCache): Record<string, HostTensor> {
  const c = m.cfg, tok = m.tok, B = rows.length, P = numPatches(c), S = c.imageSize, pad = tok.special.pad;
  if (B === 0) throw new Error('encodeTeacherForced: no rows');
  const prompts = rows.map((r) => encodePrompt(tok, c, r.prompt));
  rows.forEach((r, b) => {
    const n = r.output.length;
    if (n < 1 || n > c.maxNewTokens) throw new Error(`row ${b}: output has ${n} tokens; expected 1..${c.maxNewTokens} (model maxNewTokens)`);
    if (!Number.isInteger(r.actionStart) || r.actionStart < 0 || r.actionStart > n) throw new Error(`row ${b}: action_start ${r.actionStart} is outside 0..${n}`);
    for (let i = 0; i < n; i++) {
      const id = r.output[i];
      if (!Number.isInteger(id) || id < 0 || id >= tok.vocabSize || id === pad) throw new Error(`row ${b}: output token ${i} is ${id}, not a token of ${tok.id} (vocabulary ${tok.vocabSize}, pad ${pad})`);
    }
  });
  const ctx = Math.max(...prompts.map((p) => p.length - 1));
  const out = Math.max(...rows.map((r) => r.output.length));
  if (pixels && pixels.size !== S) throw new Error(`encodeTeacherForced: pixel cache of ${pixels.size} px for a model of imageSize ${S}`);
  const image = new Float32Array(B * 3 * S * S);
  const context = new BigInt64Array(B * ctx).fill(BigInt(pad));
  const contextPos = new BigInt64Array(B * ctx);
  const stream = new BigInt64Array(B * out).fill(BigInt(pad));
  const streamPos = new BigInt64Array(B * out);
  const targets = new BigInt64Array(B * out).fill(BigInt(pad));
  const mask = new Float32Array(B * out);
  rows.forEach((r, b) => {
    image.set(pixels ? pixels.get(r.image) : preprocessImage(r.image, S), b * 3 * S * S);
    const pr = prompts[b], L = pr.length, shift = ctx - (L - 1);
    for (let j = 0; j < L - 1; j++) {
      context[b * ctx + shift + j] = BigInt(pr[j]);
      contextPos[b * ctx + shift + j] = BigInt(P + j);
    }
    const n = r.output.length;
    for (let i = 0; i < n; i++) {
      stream[b * out + i] = BigInt(i === 0 ? pr[L - 1] : r.output[i - 1]);
      streamPos[b * out + i] = BigInt(P + L - 1 + i);
      targets[b * out + i] = BigInt(r.output[i]);
      mask[b * out + i] = 1;
    }
  });
  return {
    image: { dtype: 'float32', shape: [B, 3, S, S], data: image },
    context: { dtype: 'int64', shape: [B, ctx], data: context },
    context_pos: { dtype: 'int64', shape: [B, ctx], data: contextPos },
    stream: { dtype: 'int64', shape: [B, out], data: stream },
    stream_pos: { dtype: 'int64', shape: [B, out], data: streamPos },
    targets: { dtype: 'int64', shape: [B, out], data: targets },
    mask: { dtype: 'float32', shape: [B, out], data: mask },
    action_start: hostTensor('int64', [B], rows.map((r) => r.actionStart)),
  };
}
