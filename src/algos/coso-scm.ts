/**
 * CoSo's action classifier (the "SCM", spec §3): token sequence → parsed-action class.
 * Reference: 3-layer transformer encoder, hidden 128, 4 heads, FFN 512, mean-pool, linear (~0.01B with a
 * 32k vocabulary). Scaled down by default for 2 CPU cores: 2 layers, hidden 64, 4 heads, FFN 128, learned
 * positions over the last `maxLen` = 48 tokens (the action is at the end of an utterance). The null token that
 * replaces a counterfactual window is an extra vocabulary entry (id = vocabSize), never a real token.
 *
 *   h = Emb(ids) + Pos;  L × [h += MHA(LN(h), keyMask);  h += FFN(LN(h))];  p = softmax(W·meanpool(LN(h)))
 * ids: int64 [batch, seq]; keyMask: bool [batch, seq] (false = padding); labels: int64 [batch].
 */
import {
  add, adamw, attention, buildInference, buildTrainStep, cast, crossEntropy, div, gather, gelu, Graph, hostTensor,
  init, layerNorm, linear, maximum, mul, openTrainer, reshape, softmax, sum, transpose, unsqueeze, arange,
  type HostTensor, type Runner, type Session, type Tensor, type Trainer,
} from '../engine/index.ts';
import { Rng } from '../util/rng.ts';
import type { ActionClassifier } from './coso.ts';

export interface ScmShape { layers: number; dim: number; heads: number; ffn: number; maxLen: number }
export const SCM_SMALL: ScmShape = { layers: 2, dim: 64, heads: 4, ffn: 128, maxLen: 48 };

export interface Scm {
  readonly nullToken: number;
  /** the classifier reads the last `tail` tokens of a sequence */
  readonly tail: number;
  /**
   * One AdamW step on a batch of (sequence, class); returns the loss, and with `withAcc` the accuracy on
   * that batch after the step (one more forward pass; NaN without).
   */
  trainStep(seqs: number[][], labels: number[], lr: number, withAcc?: boolean): Promise<{ loss: number; acc: number }>;
  classify: ActionClassifier;
  save(file: string): Promise<void>;
  load(file: string): Promise<void>;
  close(): Promise<void>;
}

export async function openScm(
  runner: Runner, o: { vocabSize: number; classes: number; seed: number; shape?: ScmShape; prefix?: string },
): Promise<Scm> {
  const s = o.shape ?? SCM_SMALL;
  const P = o.prefix ?? 'scm';
  const rng = new Rng(o.seed).fork('scm-init');
  const g = new Graph();
  const ids = g.input('ids', 'int64', ['batch', 'seq']);
  const keyMask = g.input('keyMask', 'bool', ['batch', 'seq']);
  const labels = g.input('labels', 'int64', ['batch']);
  const d = s.dim, dh = d / s.heads;
  const p = (name: string, v: HostTensor) => g.param(`${P}.${name}`, v);
  const ln = (x: Tensor, name: string) => layerNorm(x, p(`${name}.g`, init.ones([d])), p(`${name}.b`, init.zeros([d])));
  const lin = (x: Tensor, name: string, i: number, j: number) => linear(x, p(`${name}.w`, init.linearInit(rng, i, j)), p(`${name}.b`, init.zeros([j])));
  const heads = (x: Tensor) => transpose(reshape(x, ['batch', 'seq', s.heads, dh]), [0, 2, 1, 3]);

  let h = add(gather(p('emb', init.normal(rng, [o.vocabSize + 1, d], 0.02)), ids, 0),
    gather(p('pos', init.normal(rng, [s.maxLen, d], 0.02)), arange(g, 'seq'), 0));
  for (let l = 0; l < s.layers; l++) {
    const x = ln(h, `l${l}.ln1`);
    const att = attention(heads(lin(x, `l${l}.q`, d, d)), heads(lin(x, `l${l}.k`, d, d)), heads(lin(x, `l${l}.v`, d, d)), { causal: false, keyMask });
    h = add(h, lin(reshape(transpose(att, [0, 2, 1, 3]), ['batch', 'seq', d]), `l${l}.o`, d, d));
    h = add(h, lin(gelu(lin(ln(h, `l${l}.ln2`), `l${l}.ff1`, d, s.ffn)), `l${l}.ff2`, s.ffn, d));
  }
  const m = unsqueeze(cast(keyMask, 'float32'), [-1]);
  const pooled = div(sum(mul(ln(h, 'lnf'), m), [1]), maximum(sum(m, [1]), 1)); // an empty sequence pools to 0, not NaN
  const logits = lin(pooled, 'head', d, o.classes);
  const probs = softmax(logits, -1);
  const model = buildTrainStep(g, { loss: crossEntropy(logits, labels), optimizer: adamw({ weightDecay: 0 }), clipNorm: 1.0 });
  const trainer: Trainer = await openTrainer(runner, model);
  const inf: Session = await runner.open(buildInference(g, { outputs: { probs }, weights: 'inputs' }).onnx);
  const nullToken = o.vocabSize;

  const batch = (seqs: number[][]) => {
    const L = Math.min(s.maxLen, Math.max(1, ...seqs.map((q) => q.length)));
    const B = seqs.length;
    const idv = new BigInt64Array(B * L), km = new Uint8Array(B * L);
    seqs.forEach((q, b) => {
      const tail = q.length > L ? q.slice(q.length - L) : q;
      tail.forEach((t, i) => { idv[b * L + i] = BigInt(t); km[b * L + i] = 1; });
    });
    return { ids: { dtype: 'int64', shape: [B, L], data: idv } as HostTensor, keyMask: { dtype: 'bool', shape: [B, L], data: km } as HostTensor };
  };

  return {
    nullToken,
    tail: s.maxLen,
    async trainStep(seqs, lab, lr, withAcc = true) {
      const r = await trainer.step({ ...batch(seqs), labels: hostTensor('int64', [lab.length], lab) }, lr);
      if (!withAcc) return { loss: (r.loss.data as Float32Array)[0], acc: NaN };
      const pr = await inf.run(batch(seqs), ['probs']);
      const C = o.classes, pd = pr.probs.data as Float32Array;
      let right = 0;
      lab.forEach((y, b) => {
        let best = 0;
        for (let c = 1; c < C; c++) if (pd[b * C + c] > pd[b * C + best]) best = c;
        if (best === y) right++;
      });
      return { loss: (r.loss.data as Float32Array)[0], acc: right / lab.length };
    },
    async classify(seqs) {
      const out: Float32Array[] = [];
      const C = o.classes;
      for (let i = 0; i < seqs.length; i += 512) {
        const chunk = seqs.slice(i, i + 512);
        const pd = (await inf.run(batch(chunk), ['probs'])).probs.data as Float32Array;
        chunk.forEach((_, b) => out.push(pd.slice(b * C, b * C + C)));
      }
      return out;
    },
    save: (file) => trainer.save(file),
    load: async (file) => { await trainer.load(file); },
    close: async () => { await inf.close(); await trainer.close(); },
  };
}
