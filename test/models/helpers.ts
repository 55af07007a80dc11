import { Graph, type HostTensor, type Runner, buildInference } from '../../src/engine/index.ts';
import { encodePng } from '../../src/ingest/images.ts';
import { encodeTeacherForced, teacherForced, teacherForcedInputs, tokenLogprobs, values, type TfRow } from '../../src/models/policy.ts';
import { byteTokenizer } from '../../src/models/tokenizer.ts';
import { type Vlm, createVlm, declareVlm, vlmConfig } from '../../src/models/vlm.ts';
import { Rng } from '../../src/util/rng.ts';

/** A tiny policy; `eosBias` makes EOS likely (~10% a step) so rows end at different lengths. */
export function tinyVlm(over: Record<string, number | string> = {}, eosBias = true): Vlm {
  const cfg = vlmConfig({ imageSize: 16, patchSize: 8, dModel: 32, layers: 2, heads: 2, ffn: 64, headHidden: 16, maxPromptTokens: 24, maxNewTokens: 16, ...over });
  const m = createVlm(cfg, byteTokenizer());
  const rng = new Rng(9);
  // non-zero head outputs, so values and Q are not trivially 0
  for (const n of ['value.out.w', 'q_head.out.w', 'value.out.b']) {
    const d = m.weights[n].data as Float32Array;
    for (let i = 0; i < d.length; i++) d[i] = rng.normal() * 0.3;
  }
  if (eosBias) {
    (m.weights['ln_f.b'].data as Float32Array).fill(0.5);
    const w = m.weights['lm_head.w'], V = w.shape[1];
    for (let i = 0; i < w.shape[0]; i++) (w.data as Float32Array)[i * V + m.tok.special.eos] += 0.1;
  }
  return m;
}

export function randomPng(rng: Rng, h = 20, w = 24): Uint8Array {
  return encodePng(Array.from({ length: h * w * 3 }, () => rng.int(256)), h, w, 3);
}

export const OBS = (rng: Rng) => [
  { text: 'Move to the target. {"action": "+"} or "-"', image: randomPng(rng) },
  { text: 'short', image: randomPng(rng, 30, 10) },
  { text: 'a prompt much longer than the model keeps: only its last tokens are seen by the policy', image: null },
];

/** Teacher-forced log π_T and V(o) of rows, from a graph with the weights baked in (independent of any state). */
export async function teacherForcedEval(runner: Runner, m: Vlm, rows: TfRow[], temperature: number): Promise<{ logp: HostTensor; value: HostTensor }> {
  const g = new Graph();
  const p = declareVlm(g, m);
  const x = teacherForcedInputs(g, m.cfg);
  const o = teacherForced(p, x);
  const model = buildInference(g, { outputs: { logp: tokenLogprobs(o.logits, x.targets, temperature), value: values(p, o.h) } });
  const s = await runner.open(model.onnx);
  try {
    const feeds = encodeTeacherForced(m, rows);
    const r = await s.run(Object.fromEntries(s.inputNames.map((n) => [n, feeds[n]])));
    return { logp: r.logp, value: r.value };
  } finally {
    await s.close();
  }
}
