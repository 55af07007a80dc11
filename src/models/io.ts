/**
 * A policy on disk, and its standalone ONNX export.
 *
 * Policy folder: `model.json` ({ format, config, tokenizer }) + `weights.safetensors` (float32, the names
 * of vlm.ts `weightShapes`). A relative `config.tokenizer` folder is resolved against the policy folder.
 *
 * Export folder: `prefill.onnx` and `decode.onnx` with every weight baked in as an initializer, so any
 * onnxruntime serves them without o2o, plus `policy.json` telling a server how to drive them:
 * image preprocessing, the token layout, the special ids and the cache names (generate.ts describes the
 * graphs; a server runs prefill once, then decode per token, feeding present.* back as past.*).
 */
import fs from 'node:fs';
import path from 'node:path';
import { formatShape, loadSafetensors, saveSafetensors } from '../engine/index.ts';
import { buildDecode, buildPrefill } from './generate.ts';
import { loadHfTokenizer } from './hf-tokenizer.ts';
import { type Tokenizer, byteTokenizer } from './tokenizer.ts';
import { type Vlm, type VlmConfig, type Weights, numPatches, vlmConfig, weightShapes } from './vlm.ts';

const FORMAT = 'o2o-vlm-1';

/** The tokenizer a config names: 'byte', or a folder with tokenizer.json (relative to `baseDir`). */
export function tokenizerFor(c: VlmConfig, baseDir: string): Tokenizer {
  return c.tokenizer === 'byte' ? byteTokenizer() : loadHfTokenizer(path.resolve(baseDir, c.tokenizer));
}

export function saveVlm(dir: string, m: Vlm): void {
  fs.mkdirSync(dir, { recursive: true });
  saveSafetensors(path.join(dir, 'weights.safetensors'), m.weights, { format: FORMAT, tokenizer: m.tok.id });
  const tmp = path.join(dir, `model.json.tmp-${process.pid}`);
  fs.writeFileSync(tmp, JSON.stringify({ format: FORMAT, config: m.cfg, tokenizer: m.tok.id }, null, 1));
  fs.renameSync(tmp, path.join(dir, 'model.json'));
}

export function loadVlm(dir: string): Vlm {
  const file = path.join(dir, 'model.json');
  if (!fs.existsSync(file)) throw new Error(`${file}: not found; expected a policy folder written by saveVlm (model.json + weights.safetensors)`);
  const meta = JSON.parse(fs.readFileSync(file, 'utf8')) as { format?: string; config?: unknown; tokenizer?: string };
  if (meta.format !== FORMAT) throw new Error(`${file}: format ${JSON.stringify(meta.format)}, expected ${JSON.stringify(FORMAT)}`);
  const cfg = vlmConfig(meta.config);
  const tok = tokenizerFor(cfg, dir);
  if (meta.tokenizer !== undefined && meta.tokenizer !== tok.id) {
    throw new Error(`${file}: the weights were trained with tokenizer ${meta.tokenizer}, but ${cfg.tokenizer} gives ${tok.id}`);
  }
  return { cfg, tok, weights: importWeights(path.join(dir, 'weights.safetensors'), cfg, tok) };
}

/**
 * The model's weights from a safetensors file: every name of `weightShapes` must be there with its shape
 * (float32). Optimizer state of a trainer checkpoint ('<opt>.<slot>/<param>', 'step') is skipped; any other
 * extra tensor is an error, as is every missing or misshapen one (all listed at once).
 */
export function importWeights(file: string, c: VlmConfig, tok: Tokenizer): Weights {
  const { tensors } = loadSafetensors(file);
  const problems: string[] = [];
  const out: Weights = {};
  const want = new Map(weightShapes(c, tok.vocabSize));
  for (const [name, shape] of want) {
    const t = tensors[name];
    if (!t) problems.push(`${name}: missing (expected float32${formatShape(shape)})`);
    else if (t.dtype !== 'float32' || formatShape(t.shape) !== formatShape(shape)) problems.push(`${name}: expected float32${formatShape(shape)}, got ${t.dtype}${formatShape(t.shape)}`);
    else out[name] = t;
  }
  for (const name of Object.keys(tensors)) {
    if (!want.has(name) && !name.includes('/') && name !== 'step') problems.push(`${name}: not a weight of this model`);
  }
  if (problems.length) throw new Error(`${file}: weights do not fit the model config:\n  ${problems.join('\n  ')}`);
  return out;
}

/** Writes prefill.onnx, decode.onnx (weights baked in) and policy.json into `dir`. */
export function exportOnnx(dir: string, m: Vlm): void {
  fs.mkdirSync(dir, { recursive: true });
  const prefill = buildPrefill(m, 'initializers');
  const decode = buildDecode(m, 'initializers');
  fs.writeFileSync(path.join(dir, 'prefill.onnx'), prefill.onnx);
  fs.writeFileSync(path.join(dir, 'decode.onnx'), decode.onnx);
  const io = (vs: typeof prefill.inputs) => vs.map((v) => ({ name: v.name, dtype: v.dtype, shape: v.shape }));
  const c = m.cfg;
  fs.writeFileSync(path.join(dir, 'policy.json'), JSON.stringify({
    format: FORMAT,
    config: c,
    tokenizer: { id: m.tok.id, vocabSize: m.tok.vocabSize, special: m.tok.special },
    image: { size: c.imageSize, layout: 'float32 [B, 3, S, S], RGB, area-averaged to S×S, x/127.5 − 1' },
    layout: {
      patches: numPatches(c),
      prompt: 'BOS + the last maxPromptTokens prompt tokens, left-padded with pad; position ids P + index over real tokens (pads 0)',
      decode: 'one token per run at position P + prompt length + step; past_mask marks the real cache columns (patches, prompt, fed tokens)',
      cache: 'feed present.k.<l> / present.v.<l> of one run as past.k.<l> / past.v.<l> of the next',
    },
    prefill: { inputs: io(prefill.inputs), outputs: io(prefill.outputs) },
    decode: { inputs: io(decode.inputs), outputs: io(decode.outputs) },
  }, null, 1));
}

