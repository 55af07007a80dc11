import type { InferenceSession } from 'onnxruntime-node';

export type Provider = 'cpu' | 'webgpu' | 'cuda';
export const PROVIDERS: readonly Provider[];
export const EP_NAMES: Record<Provider, string>;

export interface OpenOptions {
  provider: Provider;
  /** Intra-op threads (CPU kernels, including CPU fallbacks of a GPU session); onnxruntime's default when absent. */
  threads?: number;
  /** Where named outputs land ('gpu-buffer': stays on the WebGPU device); unnamed outputs land on the CPU. */
  outputLocation?: Record<string, 'cpu' | 'gpu-buffer'>;
  /** A file prefix: profile the runs until `endProfiling()` (see placement.mjs). */
  profilePrefix?: string;
}

export function parseProvider(s: string): Provider;
export function ortBinDir(): string;
export function openSession(model: Uint8Array, opts: OpenOptions): Promise<InferenceSession>;
export function providerError(provider: Provider, cause: unknown): Error;
