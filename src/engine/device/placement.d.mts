import type { InferenceSession } from 'onnxruntime-node';

export interface NodePlacement {
  /** The node's name in the model (o2o's emitter names nodes `n<index>_<OpType>`). */
  node: string;
  op: string;
  /** onnxruntime's provider name, e.g. 'WebGpuExecutionProvider', 'CPUExecutionProvider'. */
  provider: string;
}
export function parseProfile(json: string): NodePlacement[];
/** `read` ends profiling and returns the placements; `discard` removes the files of a session that never ran. */
export function profileTarget(): { prefix: string; read(session: InferenceSession): NodePlacement[]; discard(): void };
export function describeFallbacks(placements: NodePlacement[], epName: string): string[];
