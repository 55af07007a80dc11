/**
 * Each method trains the heads it uses: SFT neither head, AFSFT the Q head, PPO/CoSo the value head. The
 * others are frozen in that method's step graph (ONNX initializers), so "every trainable tensor changes
 * after a step" holds, and their values pass through checkpoints unchanged.
 */
import type { Graph } from '../engine/index.ts';

export function freezeHeads(g: Graph, prefixes: readonly string[]): void {
  for (const [name, p] of g.params) if (prefixes.some((x) => name.startsWith(x))) p.trainable = false;
}
