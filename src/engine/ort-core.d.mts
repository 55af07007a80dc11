import type { HostTensor } from './dtype.ts';

export type Binding = 'c-api' | 'onnxruntime-node';
export const BINDINGS: Binding[];

export interface CoreOptions {
  provider?: 'cpu' | 'cuda' | 'webgpu';
  threads?: number;
  /** CPU only: how o2o calls onnxruntime (default: 'c-api' where it loads). */
  binding?: Binding;
}

export interface Core {
  open(model: Uint8Array, carry?: Record<string, string>): Promise<{ id: number; inputNames: string[]; outputNames: string[] }>;
  run(id: number, feeds: Record<string, HostTensor>, fetch?: string[]): Promise<Record<string, HostTensor>>;
  setState(values: Record<string, HostTensor>): void;
  getState(names?: string[]): Record<string, HostTensor>;
  deleteState(names: string[]): void;
  closeSession(id: number): Promise<void>;
  close(): Promise<void>;
}

export function resolveBinding(opts: CoreOptions): Binding;
export function createCore(opts: CoreOptions): Core;
export function createBindingCore(opts: CoreOptions): Core;
