/**
 * A policy file: every weight of the VLM (safetensors) with the model config and the tokenizer in the
 * metadata, and the policy version (number of online updates behind it; 0 after offline training).
 * Written by `train offline` / `train online`, read by `eval`, `train online --from` and the pipeline.
 * One file (unlike src/models/io.ts's policy folder) so that a run folder's policy is a single artefact; the
 * weights go through io.ts's `importWeights`, which checks every name and shape against the config.
 * A tokenizer path in the config is resolved against the working directory, as it was given on the CLI.
 */
import { loadSafetensors, saveSafetensors } from '../engine/index.ts';
import { loadHfTokenizer } from '../models/hf-tokenizer.ts';
import { byteTokenizer, type Tokenizer } from '../models/tokenizer.ts';
import { importWeights } from '../models/io.ts';
import { vlmConfig, type Vlm } from '../models/vlm.ts';

export function makeTokenizer(spec: string): Tokenizer {
  return spec === 'byte' ? byteTokenizer() : loadHfTokenizer(spec);
}

export function savePolicy(file: string, m: Vlm, version: number): void {
  saveSafetensors(file, m.weights, { o2o_model: JSON.stringify(m.cfg), o2o_tokenizer: m.tok.id, o2o_policy_version: String(version) });
}

export function loadPolicy(file: string): { vlm: Vlm; version: number } {
  const { metadata } = loadSafetensors(file);
  if (!metadata.o2o_model) {
    throw new Error(`${file}: not an o2o policy file (no "o2o_model" in its metadata); pass the policy.safetensors of a run folder`);
  }
  const cfg = vlmConfig(JSON.parse(metadata.o2o_model));
  const tok = makeTokenizer(cfg.tokenizer);
  if (metadata.o2o_tokenizer && metadata.o2o_tokenizer !== tok.id) {
    throw new Error(`${file}: written with tokenizer ${metadata.o2o_tokenizer}, but the config's tokenizer is ${tok.id}`);
  }
  return { vlm: { cfg, tok, weights: importWeights(file, cfg, tok) }, version: Number(metadata.o2o_policy_version ?? 0) };
}
