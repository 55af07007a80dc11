import type { Provider } from './provider.mjs';

export type ProbeResult = { ok: true } | { ok: false; reason: string };
export function probeProvider(provider: Provider): Promise<ProbeResult>;
