/**
 * Models for the engine's tests and benchmark (the engine itself holds no models): an MLP classifier and
 * a pre-LN transformer language model, the same architecture as tools/engine_golden.py.
 */
import {
  Graph, type HostTensor, type Tensor, add, attention, crossEntropy, embedding, gather, gelu, init, layerNorm, linear,
  arange, concat, dimOf, div, mean, mul, relu, reshape, sqrt, sub, sumAll, transpose,
} from '../../src/engine/index.ts';
import { Rng } from '../../src/util/rng.ts';

export interface LmConfig {
  vocab: number;
  dim: number;
  heads: number;
  layers: number;
  ffn: number;
  maxSeq: number;
}

/** Param values by name; a missing name is initialised from `rng`. */
export type Weights = Record<string, HostTensor>;

function declare(g: Graph, name: string, shape: number[], rng: Rng, weights: Weights, kind: 'w' | 'b' | 'g'): Tensor {
  const v = weights[name] ?? (kind === 'w' ? init.normal(rng, shape, 0.02) : kind === 'g' ? init.ones(shape) : init.zeros(shape));
  return g.param(name, v);
}

export interface Kv {
  /** [batch, heads, positions, head dim] */
  k: Tensor;
  v: Tensor;
}

/**
 * ids int64 [batch, seq] -> logits [batch, seq, vocab]. Params: tok, pos, l<i>.{ln1,ln2}.{g,b},
 * l<i>.{wq,wk,wv,wo,bo,w1,b1,w2,b2}, lnf.{g,b}, wout. With `past` (one Kv per layer, [batch, heads, past,
 * dh]) the ids continue those positions, and `present` holds past + new keys and values.
 */
export function transformerLM(g: Graph, ids: Tensor, cfg: LmConfig, seed: number, weights: Weights = {}, past?: Kv[]): { logits: Tensor; present: Kv[] } {
  const rng = new Rng(seed);
  const p = (name: string, shape: number[], kind: 'w' | 'b' | 'g') => declare(g, name, shape, rng, weights, kind);
  const [B, T] = ids.shape;
  const D = cfg.dim, H = cfg.heads, Dh = D / H;
  const positions = arange(g, T, past ? dimOf(g, past[0].k.shape[2]) : undefined);
  let x = add(embedding(p('tok', [cfg.vocab, D], 'w'), ids), gather(p('pos', [cfg.maxSeq, D], 'w'), positions, 0));
  const present: Kv[] = [];
  const heads = (t: Tensor) => transpose(reshape(t, [B, T, H, Dh]), [0, 2, 1, 3]);
  for (let l = 0; l < cfg.layers; l++) {
    const n = (s: string) => `l${l}.${s}`;
    const h = layerNorm(x, p(n('ln1.g'), [D], 'g'), p(n('ln1.b'), [D], 'b'));
    const q = heads(linear(h, p(n('wq'), [D, D], 'w')));
    let k = heads(linear(h, p(n('wk'), [D, D], 'w')));
    let v = heads(linear(h, p(n('wv'), [D, D], 'w')));
    if (past) {
      k = concat([past[l].k, k], 2);
      v = concat([past[l].v, v], 2);
    }
    present.push({ k, v });
    const a = reshape(transpose(attention(q, k, v, { causal: true }), [0, 2, 1, 3]), [B, T, D]);
    x = add(x, linear(a, p(n('wo'), [D, D], 'w'), p(n('bo'), [D], 'b')));
    const h2 = layerNorm(x, p(n('ln2.g'), [D], 'g'), p(n('ln2.b'), [D], 'b'));
    x = add(x, linear(gelu(linear(h2, p(n('w1'), [D, cfg.ffn], 'w'), p(n('b1'), [cfg.ffn], 'b'))), p(n('w2'), [cfg.ffn, D], 'w'), p(n('b2'), [D], 'b')));
  }
  return { logits: linear(layerNorm(x, p('lnf.g', [D], 'g'), p('lnf.b', [D], 'b')), p('wout', [D, cfg.vocab], 'w')), present };
}

/** A language-model graph: inputs ids, targets [batch, seq]; returns the loss and logits. */
export function lmGraph(cfg: LmConfig, seed: number, batch: number | string = 'batch', seq: number | string = 'seq', weights: Weights = {}): { g: Graph; loss: Tensor; logits: Tensor } {
  const g = new Graph();
  const ids = g.input('ids', 'int64', [batch, seq]);
  const targets = g.input('targets', 'int64', [batch, seq]);
  const { logits } = transformerLM(g, ids, cfg, seed, weights);
  return { g, loss: crossEntropy(logits, targets), logits };
}

/** MLP [in] -> hidden (ReLU) ... -> classes, inputs x [batch, in] float32 and y [batch] int64. */
export function mlpGraph(sizes: number[], seed: number): { g: Graph; loss: Tensor; logits: Tensor } {
  const rng = new Rng(seed);
  const g = new Graph();
  let h = g.input('x', 'float32', ['batch', sizes[0]]);
  const y = g.input('y', 'int64', ['batch']);
  for (let i = 0; i + 1 < sizes.length; i++) {
    h = linear(h, g.param(`w${i}`, init.linearInit(rng, sizes[i], sizes[i + 1])), g.param(`b${i}`, init.zeros([sizes[i + 1]])));
    if (i + 2 < sizes.length) h = relu(h);
  }
  return { g, loss: crossEntropy(h, y), logits: h };
}

/** LayerNorm over the last axis from primitives (the bench's comparison for the fused LayerNormalization). */
export function layerNormPrimitive(x: Tensor, gamma: Tensor, beta: Tensor, eps = 1e-5): Tensor {
  const c = sub(x, mean(x, [-1], true));
  return add(mul(div(c, sqrt(add(mean(mul(c, c), [-1], true), eps))), gamma), beta);
}

/** n LayerNorms in a row on x [rows, dim], loss = sum(y^2): the bench's LayerNorm comparison. */
export function layerNormStack(rows: number, dim: number, n: number, fused: boolean): { g: Graph; loss: Tensor } {
  const g = new Graph();
  let h = g.input('x', 'float32', [rows, dim]);
  for (let i = 0; i < n; i++) {
    const gm = g.param(`g${i}`, init.ones([dim])), bt = g.param(`b${i}`, init.zeros([dim]));
    h = fused ? layerNorm(h, gm, bt) : layerNormPrimitive(h, gm, bt);
  }
  return { g, loss: sumAll(mul(h, h)) };
}
