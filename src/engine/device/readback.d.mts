import type { Tensor } from 'onnxruntime-node';
import type { DType, HostTensor } from '../dtype.ts';
import type { Provider } from './provider.mjs';

export function identityModel(dtype: DType): Uint8Array;
export function hostCopy(t: Tensor): HostTensor;
export interface Readback {
  /** The host copy of `t`, wherever it lives; `t` stays valid. */
  read(t: Tensor): Promise<HostTensor>;
  close(): Promise<void>;
}
export function createReadback(provider: Provider): Readback;
