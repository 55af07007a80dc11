/**
 * A client for the remote-env protocol (docs/remote-env.md) that implements the same `Env` interface as
 * the in-process envs, so the rollout loop and `VecEnv` use both alike.
 */
import type { Env, EnvObservation, EnvStepResult } from '../types.ts';
import { API, fromWireObservation, fromWireStep, type WireError, type WireObservation, type WireStep } from './protocol.ts';

export interface RemoteEnvOptions {
  task?: string;
  seed: number;
  token?: string;
  formatPenalty?: number;
}

export class RemoteEnvError extends Error {
  constructor(readonly status: number, readonly code: string, message: string) {
    super(message);
  }
}

export class RemoteEnv implements Env {
  private constructor(readonly baseUrl: string, readonly id: string, readonly task: string, readonly actions: string[], private readonly token?: string) {}

  /** Creates an env on the server at `baseUrl` (e.g. "http://127.0.0.1:8300"). */
  static async create(baseUrl: string, o: RemoteEnvOptions): Promise<RemoteEnv> {
    const url = baseUrl.replace(/\/$/, '');
    const r = await call<{ id: string; task: string; actions: string[] }>(url, 'POST', `${API}/envs`, { task: o.task, seed: o.seed, formatPenalty: o.formatPenalty }, o.token);
    return new RemoteEnv(url, r.id, r.task, r.actions, o.token);
  }

  async reset(seed?: number): Promise<EnvObservation> {
    const r = await call<{ observation: WireObservation }>(this.baseUrl, 'POST', `${API}/envs/${this.id}/reset`, seed === undefined ? {} : { seed }, this.token);
    return fromWireObservation(r.observation);
  }

  async step(action: string | number): Promise<EnvStepResult> {
    return fromWireStep(await call<WireStep>(this.baseUrl, 'POST', `${API}/envs/${this.id}/step`, { action }, this.token));
  }

  async close(): Promise<void> {
    await call(this.baseUrl, 'DELETE', `${API}/envs/${this.id}`, undefined, this.token);
  }
}

async function call<T>(base: string, method: string, path: string, body: unknown, token?: string): Promise<T> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  const res = await fetch(`${base}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const json = (await res.json()) as T | WireError;
  if (!res.ok) {
    const e = (json as WireError).error;
    throw new RemoteEnvError(res.status, e?.code ?? 'http', `${method} ${base}${path}: ${res.status} ${e?.message ?? res.statusText}`);
  }
  return json as T;
}
