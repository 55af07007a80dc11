import type { HostTensor } from './dtype.ts';

export interface CoreOptions {
  provider?: 'cpu' | 'cuda' | 'webgpu';
  threads?: number;
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

export function createCore(opts: CoreOptions): Core;
