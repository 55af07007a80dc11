/**
 * The built-in small VLM, written against the engine's graph builder.
 *
 *   image [B, 3, S, S] → patches [B, P, 3·p·p] (P = (S/p)²) → linear → patch tokens [B, P, d]
 *   text segments [B, T_k] → token embedding [B, T_k, d]
 *   x = concat(patch tokens, text segments) + learned position embedding (per-row position ids)
 *   N pre-norm blocks: x += attn(LN(x)); x += mlp(LN(x))   (causal; pad keys masked; GELU MLP)
 *   h = LN(x) → LM head: logits = h·W [.., V]
 *   value head (RL4VLM): MLP(h at the last prompt token) → [B]
 *   Q head (VLM Q-Learning): MLP(h_i) → Q(h_i, v) for all v: [.., V]
 *
 * Sequence layout of one row: [P patch tokens][left pads][BOS, prompt][generated tokens][right pads].
 * Prompts are left-padded so that every row's last prompt token sits in the same column; positions are
 * per row (patches 0..P−1, then P, P+1, … over the real text tokens; pads get 0 and are masked as keys).
 *
 * LoRA (Hu et al. 2021): with loraRank r > 0 every block linear (q, k, v, o, fc, proj) gets
 * y = x·W + b + (α/r)·(x·A)·B with A [in, r] ~ N(0, 1/in), B [r, out] = 0, so a fresh adapter leaves the
 * outputs unchanged. The base weights (embeddings, blocks, LM head) are then frozen; A, B and the value/Q
 * heads train.
 */
import {
  type Graph, type HostTensor, type Tensor, add, and, arange, concat, dimOf, embedding, equal, expand, gelu, hostTensor,
  layerNorm, lessOrEqual, linear, matmul, mul, not, relu, reshape, slice, softmax, squeeze, transpose, unsqueeze, where,
} from '../engine/index.ts';
import { splitLike } from '../engine/ops/shape.ts';
import { check, parseConfig } from '../algos/config.ts';
import { Rng } from '../util/rng.ts';
import type { Tokenizer } from './tokenizer.ts';

type T = Tensor;

export const VLM_DEFAULTS = {
  /** side of the square input image after downscaling (pixels) */
  imageSize: 48,
  /** side of a square patch (pixels); imageSize must be a multiple */
  patchSize: 8,
  dModel: 128,
  layers: 2,
  heads: 4,
  /** MLP width */
  ffn: 512,
  /** hidden width of the value and Q head MLPs */
  headHidden: 128,
  /**
   * prompts longer than this keep their last maxPromptTokens tokens (BOS excluded). The gym_cards prompts
   * (500-940 bytes) repeat the same task text every step and the image shows the state, so the small model
   * sees a compact tail; raise it for tasks whose prompt text carries state.
   */
  maxPromptTokens: 64,
  /** the scripted gym_cards utterances are <= 114 bytes (NumberLine), 111 (EZPoints), 134 (Blackjack, 5 cards), 187 (Points24) */
  maxNewTokens: 256,
  /** 0: no LoRA (all weights train) */
  loraRank: 0,
  loraAlpha: 16,
  /** 'byte' (built-in) or a folder holding a Hugging Face tokenizer.json */
  tokenizer: 'byte',
  /** seed of the initial weights */
  seed: 0,
};
export type VlmConfig = typeof VLM_DEFAULTS;

export function vlmConfig(raw?: unknown): VlmConfig {
  const c = parseConfig(VLM_DEFAULTS, raw, 'model');
  const posInt = (k: keyof VlmConfig) => check(Number.isInteger(c[k]) && (c[k] as number) >= 1, 'model', k, 'an integer ≥ 1', c[k]);
  for (const k of ['imageSize', 'patchSize', 'dModel', 'layers', 'heads', 'ffn', 'headHidden', 'maxPromptTokens', 'maxNewTokens'] as const) posInt(k);
  check(c.imageSize % c.patchSize === 0, 'model', 'patchSize', `a divisor of imageSize ${c.imageSize}`, c.patchSize);
  check(c.dModel % c.heads === 0, 'model', 'heads', `a divisor of dModel ${c.dModel}`, c.heads);
  check(Number.isInteger(c.loraRank) && c.loraRank >= 0, 'model', 'loraRank', 'an integer ≥ 0', c.loraRank);
  return c;
}

/** Number of patch tokens P. */
export function numPatches(c: VlmConfig): number {
  return (c.imageSize / c.patchSize) ** 2;
}

/** Largest position id + 1: patches, BOS, prompt, generated tokens. */
export function maxPositions(c: VlmConfig): number {
  return numPatches(c) + 1 + c.maxPromptTokens + c.maxNewTokens;
}

export type Weights = Record<string, HostTensor>;

const BLOCK_LINEARS = ['q', 'k', 'v', 'o', 'fc', 'proj'] as const;

/** Shapes of every weight, in a fixed order (the checkpoint and export order). */
export function weightShapes(c: VlmConfig, vocabSize: number): [string, number[]][] {
  const d = c.dModel, pp = 3 * c.patchSize * c.patchSize;
  const out: [string, number[]][] = [
    ['patch.w', [pp, d]], ['patch.b', [d]],
    ['tok_emb', [vocabSize, d]], ['pos_emb', [maxPositions(c), d]],
  ];
  for (let l = 0; l < c.layers; l++) {
    const io: Record<string, [number, number]> = { q: [d, d], k: [d, d], v: [d, d], o: [d, d], fc: [d, c.ffn], proj: [c.ffn, d] };
    out.push([`l${l}.ln1.g`, [d]], [`l${l}.ln1.b`, [d]], [`l${l}.ln2.g`, [d]], [`l${l}.ln2.b`, [d]]);
    for (const n of BLOCK_LINEARS) {
      out.push([`l${l}.${n}.w`, io[n]], [`l${l}.${n}.b`, [io[n][1]]]);
      if (c.loraRank > 0) out.push([`l${l}.${n}.lora_a`, [io[n][0], c.loraRank]], [`l${l}.${n}.lora_b`, [c.loraRank, io[n][1]]]);
    }
  }
  out.push(['ln_f.g', [d]], ['ln_f.b', [d]], ['lm_head.w', [d, vocabSize]]);
  for (const h of ['value', 'q_head']) {
    const o = h === 'value' ? 1 : vocabSize;
    out.push([`${h}.fc.w`, [d, c.headHidden]], [`${h}.fc.b`, [c.headHidden]], [`${h}.out.w`, [c.headHidden, o]], [`${h}.out.b`, [o]]);
  }
  return out;
}

/** Whether a weight trains: everything without LoRA; with LoRA only the adapters and the value/Q heads. */
export function isTrainable(c: VlmConfig, name: string): boolean {
  if (c.loraRank === 0) return true;
  return name.includes('.lora_') || name.startsWith('value.') || name.startsWith('q_head.');
}

/**
 * Initial weights: matrices N(0, 0.02²) (residual output projections 0.02/√(2·layers), GPT-2), biases 0,
 * LayerNorm gain 1, LoRA A N(0, 1/in), LoRA B 0, head output layers 0 (V = 0 and Q = 0 at the start).
 */
export function initWeights(c: VlmConfig, vocabSize: number, rng = new Rng(c.seed).fork('vlm-init')): Weights {
  const w: Weights = {};
  for (const [name, shape] of weightShapes(c, vocabSize)) {
    const t = hostTensor('float32', shape);
    const data = t.data as Float32Array;
    let std = 0;
    if (name.endsWith('.g')) data.fill(1);
    else if (name.endsWith('.lora_a')) std = 1 / Math.sqrt(shape[0]);
    else if (name.endsWith('.lora_b') || name.endsWith('.b') || name.endsWith('out.w')) std = 0;
    else if (name.endsWith('.o.w') || name.endsWith('.proj.w')) std = 0.02 / Math.sqrt(2 * c.layers);
    else std = 0.02;
    if (std > 0) for (let i = 0; i < data.length; i++) data[i] = rng.normal() * std;
    w[name] = t;
  }
  return w;
}

/** A policy: its config, its tokenizer and its weights (host tensors, the checkpoint's content). */
export interface Vlm { cfg: VlmConfig; tok: Tokenizer; weights: Weights }

/** A fresh policy with initial weights. */
export function createVlm(cfg: VlmConfig, tok: Tokenizer): Vlm {
  return { cfg, tok, weights: initWeights(cfg, tok.vocabSize) };
}

/** The weights declared in one graph: tensors by weight name. */
export interface VlmParams {
  cfg: VlmConfig;
  tok: Tokenizer;
  t: Record<string, T>;
}

/**
 * Declares the weights as params of `g`, named `prefix + name` (a target network uses another prefix).
 * `trainable: false` freezes all of them (ONNX initializers); otherwise {@link isTrainable} decides.
 */
export function declareVlm(g: Graph, m: Vlm, opts: { prefix?: string; trainable?: boolean } = {}): VlmParams {
  const prefix = opts.prefix ?? '';
  const c = m.cfg, w = m.weights;
  const t: Record<string, T> = {};
  for (const [name, shape] of weightShapes(c, m.tok.vocabSize)) {
    const v = w[name];
    if (!v) throw new Error(`model weights: missing ${name} (expected float32[${shape}]); the weights do not match this model config`);
    if (v.shape.join() !== shape.join()) throw new Error(`model weights: ${name} is [${v.shape}], the config needs [${shape}]`);
    t[name] = g.param(prefix + name, v, { trainable: opts.trainable !== false && isTrainable(c, name) });
  }
  return { cfg: c, tok: m.tok, t };
}

function lin(p: VlmParams, name: string, x: T): T {
  const y = linear(x, p.t[`${name}.w`], p.t[`${name}.b`]);
  const a = p.t[`${name}.lora_a`];
  return a ? add(y, mul(matmul(matmul(x, a), p.t[`${name}.lora_b`]), p.cfg.loraAlpha / p.cfg.loraRank)) : y;
}

/** One text segment of a row batch: tokens and their position ids, both int64 [B, T_k]. */
export interface Segment { tokens: T; positions: T }

/** Per layer K and V, [B, H, L, d/H]. */
export interface KvCache { k: T[]; v: T[] }

export interface BackboneOut {
  /** hidden states of each text segment after the final LayerNorm, [B, T_k, d] */
  segments: T[];
  /** K and V of every column (past included), for a KV cache */
  present: KvCache;
}

/**
 * The transformer over [patches?, ...segments]. Without `past`, `image` [B, 3, S, S] gives the patch tokens.
 * With `past` (decode), there is no image and one segment of one token; `past.keyMask` [B, L_past] bool
 * marks the past columns that hold real tokens. Attention is causal over columns; pads are masked keys.
 *
 * Attention is written out here (not the engine's `attention`) because its causal mask needs the total
 * length as one dim, and the length of [patches, context, stream] is a sum of run-time dims.
 */
export function backbone(p: VlmParams, segs: Segment[], image: T | null, past?: { kv: KvCache; keyMask: T }): BackboneOut {
  const c = p.cfg, g = segs[0].tokens.graph;
  const d = c.dModel, H = c.heads, dh = d / H, P = numPatches(c), side = c.imageSize / c.patchSize;
  const parts: T[] = [];
  const keyMask: T[] = past ? [past.keyMask] : [];
  if (image) {
    const x = reshape(image, ['batch', 3, side, c.patchSize, side, c.patchSize]);
    const patches = reshape(transpose(x, [0, 2, 4, 1, 3, 5]), ['batch', P, 3 * c.patchSize * c.patchSize]);
    parts.push(add(lin(p, 'patch', patches), slice(p.t.pos_emb, [0], [P], [0])));
    keyMask.push(expand(g.constant(hostTensor('bool', [1, P], new Array(P).fill(1))), ['batch', P]));
  }
  const padId = g.constant(hostTensor('int64', [], [p.tok.special.pad]));
  for (const s of segs) {
    parts.push(add(embedding(p.t.tok_emb, s.tokens), embedding(p.t.pos_emb, s.positions)));
    keyMask.push(not(equal(s.tokens, padId)));
  }
  let x = parts.length === 1 ? parts[0] : concat(parts, 1);
  const keys = keyMask.length === 1 ? keyMask[0] : concat(keyMask, 1); // [B, L_all]
  let allowed: T; // [B, L_new | 1, L_all]
  if (past) {
    // one new column, after every past column: only pad keys are hidden
    if (segs.length !== 1 || segs[0].tokens.shape[1] !== 1) throw new Error('backbone: a decode step takes one segment of one token');
    allowed = unsqueeze(keys, [1]);
  } else {
    // column index of every column, [L] int64: patches, then the segments in order
    const i64 = (v: number) => g.constant(hostTensor('int64', [], [v]));
    const cols: T[] = image ? [arange(g, P)] : [];
    let next = i64(image ? P : 0);
    for (const s of segs) {
      const len = s.tokens.shape[1];
      cols.push(arange(g, len, next));
      next = add(next, typeof len === 'number' ? i64(len) : dimOf(g, len));
    }
    const col = cols.length === 1 ? cols[0] : concat(cols, 0);
    // key j visible to query i iff j ≤ i and j holds a real token
    allowed = and(unsqueeze(lessOrEqual(unsqueeze(col, [0]), unsqueeze(col, [1])), [0]), unsqueeze(keys, [1]));
  }
  const bias = unsqueeze(where(allowed, g.scalar(0), g.scalar(-1e9)), [1]); // additive, [B, 1, L_new, L_all]

  const heads = (t: T) => transpose(reshape(t, ['batch', -1, H, dh]), [0, 2, 1, 3]); // [B, H, L, dh]
  const present: KvCache = { k: [], v: [] };
  for (let l = 0; l < c.layers; l++) {
    const h = layerNorm(x, p.t[`l${l}.ln1.g`], p.t[`l${l}.ln1.b`]);
    const q = heads(lin(p, `l${l}.q`, h));
    let k = heads(lin(p, `l${l}.k`, h));
    let v = heads(lin(p, `l${l}.v`, h));
    if (past) {
      k = concat([past.kv.k[l], k], 2);
      v = concat([past.kv.v[l], v], 2);
    }
    present.k.push(k);
    present.v.push(v);
    const scores = add(mul(matmul(q, transpose(k, [0, 1, 3, 2])), 1 / Math.sqrt(dh)), bias);
    const att = matmul(softmax(scores, -1), v); // [B, H, L_new, dh]
    x = add(x, lin(p, `l${l}.o`, reshape(transpose(att, [0, 2, 1, 3]), ['batch', -1, d])));
    const h2 = layerNorm(x, p.t[`l${l}.ln2.g`], p.t[`l${l}.ln2.b`]);
    x = add(x, lin(p, `l${l}.proj`, gelu(lin(p, `l${l}.fc`, h2))));
  }
  x = layerNorm(x, p.t['ln_f.g'], p.t['ln_f.b']);
  const split = parts.length === 1 ? [x] : splitLike(x, parts, 1);
  return { segments: image ? split.slice(1) : split, present };
}

/** LM head: h [.., d] → logits [.., V]. */
export function lmHead(p: VlmParams, h: T): T {
  return matmul(h, p.t['lm_head.w']);
}

function headMlp(p: VlmParams, name: string, h: T): T {
  return lin(p, `${name}.out`, relu(lin(p, `${name}.fc`, h)));
}

/** Value head (RL4VLM): h [B, d] of the last prompt token → V [B]. */
export function valueHead(p: VlmParams, h: T): T {
  return squeeze(headMlp(p, 'value', h), [-1]);
}

/** Token-level Q head (VLM Q-Learning): h [.., d] → Q(h, v) for every vocabulary entry v, [.., V]. */
export function qHead(p: VlmParams, h: T): T {
  return headMlp(p, 'q_head', h);
}
