/** The VLM as the actor loop's policy: batched KV-cache generation at a sampling temperature. */
import type { Generator } from '../models/generate.ts';
import type { Vlm } from '../models/vlm.ts';
import type { ActorPolicy } from './actor.ts';

export function modelPolicy(gen: Generator, vlm: Vlm, version: number, temperature: number): ActorPolicy {
  return {
    version,
    tokenizer: vlm.tok.id,
    generate: (obs, seed) => gen.generate(obs, seed, { temperature }),
    value: (obs) => gen.values(obs),
  };
}
