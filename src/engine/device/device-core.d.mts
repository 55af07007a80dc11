import type { Core, CoreOptions } from '../ort-core.mjs';
import type { NodePlacement } from './placement.mjs';
import type { Provider } from './provider.mjs';

/** Where carried state lives between runs. */
export type Residency = 'device' | 'host';
export const RESIDENCY: Record<Provider, Residency>;

/** Bytes that crossed between host and device in one run, from the sizes of the tensors that crossed. */
export interface Traffic {
  toDevice: number;
  toHost: number;
}

export interface DeviceCoreOptions extends CoreOptions {
  /** Override RESIDENCY (the benchmark's "copy the state every run" case is 'host' on webgpu). */
  residency?: Residency;
  /** Print the nodes that ran off the provider (default true). */
  reportFallbacks?: boolean;
}

export interface DeviceCore extends Omit<Core, 'getState'> {
  getState(names?: string[]): Promise<Record<string, import('../dtype.ts').HostTensor>>;
  /** Traffic of the last run (0 both ways on the CPU provider). */
  traffic(): Traffic;
  /** Where each node of session `id` ran in its first run (GPU providers; undefined before that or on cpu). */
  placement(id: number): NodePlacement[] | undefined;
  residency(): Residency;
}

export function createDeviceCore(opts: DeviceCoreOptions): DeviceCore;
