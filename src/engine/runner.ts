/**
 * The runner: onnxruntime sessions plus a named tensor store ("state") that lives where the sessions live.
 * A session's inputs are taken from the feeds, else from the state; its `carry` map writes outputs back
 * into the state after each run (params and optimizer slots of a training step, a KV cache), so those
 * tensors never cross the thread boundary between runs.
 *
 * The CPU provider runs on ort-core.mjs (onnxruntime's C API by default: ort-capi.mjs); GPU providers on
 * device/device-core.mjs (same interface, state kept on the device where the provider allows).
 *
 * `thread: 'worker'` (default) runs onnxruntime in a worker thread, since `run()` blocks its thread;
 * `thread: 'inline'` runs it in the calling thread (lowest latency for small decode steps). Both give the
 * same {@link Runner} interface.
 */
import { Worker } from 'node:worker_threads';
import type { HostTensor } from './dtype.ts';
import { createDeviceCore } from './device/device-core.mjs';
import { BINDINGS, type Binding, type Core, createCore, resolveBinding } from './ort-core.mjs';

export type Provider = 'cpu' | 'cuda' | 'webgpu';

export interface RunnerOptions {
  /** Execution provider (default 'cpu'). */
  provider?: Provider;
  /** onnxruntime intra-op threads (default: onnxruntime's choice, one per physical core). */
  threads?: number;
  thread?: 'worker' | 'inline';
  /**
   * CPU provider only: how onnxruntime is called. 'c-api' (default where it loads): onnxruntime's C API
   * through koffi, on the library onnxruntime-node ships; carried outputs are written in place into
   * buffers the runner owns. 'onnxruntime-node': its JavaScript binding, which copies every output.
   */
  binding?: Binding;
}

export interface Session {
  readonly inputNames: string[];
  readonly outputNames: string[];
  /** Runs once; returns `fetch` (default: every output that is not carried into the state). */
  run(feeds: Record<string, HostTensor>, fetch?: string[]): Promise<Record<string, HostTensor>>;
  close(): Promise<void>;
}

export interface Runner {
  /** The binding in use ('onnxruntime-node' for GPU providers). */
  readonly binding: Binding;
  /** Loads a model; `carry` maps output names to the state names they replace after each run. */
  open(model: Uint8Array, carry?: Record<string, string>): Promise<Session>;
  setState(values: Record<string, HostTensor>): Promise<void>;
  /** All state, or the named entries. */
  getState(names?: string[]): Promise<Record<string, HostTensor>>;
  deleteState(names: string[]): Promise<void>;
  close(): Promise<void>;
}

const KEYS = new Set(['provider', 'threads', 'thread', 'binding']);
const PROVIDERS: Provider[] = ['cpu', 'cuda', 'webgpu'];

export async function openRunner(opts: RunnerOptions = {}): Promise<Runner> {
  for (const k of Object.keys(opts)) {
    if (!KEYS.has(k)) throw new Error(`openRunner: unknown option ${JSON.stringify(k)} (known: ${[...KEYS].join(', ')})`);
  }
  if (opts.threads !== undefined && (!Number.isInteger(opts.threads) || opts.threads < 1)) {
    throw new Error(`openRunner: threads must be an integer >= 1, got ${opts.threads}`);
  }
  const provider = opts.provider ?? 'cpu';
  if (!PROVIDERS.includes(provider)) throw new Error(`openRunner: provider must be one of ${PROVIDERS.join(', ')}, got ${JSON.stringify(provider)}`);
  if (opts.binding !== undefined && !BINDINGS.includes(opts.binding)) {
    throw new Error(`openRunner: binding must be one of ${BINDINGS.join(', ')}, got ${JSON.stringify(opts.binding)}`);
  }
  if (provider !== 'cpu' && opts.binding === 'c-api') throw new Error(`openRunner: binding 'c-api' serves the cpu provider only (${provider} runs on onnxruntime-node's binding)`);
  const binding = resolveBinding({ provider, binding: opts.binding });
  const coreOpts = { provider, threads: opts.threads, binding };
  const call =
    opts.thread === 'inline'
      ? inlineCaller(provider === 'cpu' ? createCore(coreOpts) : (createDeviceCore(coreOpts) as unknown as Core))
      : await workerCaller(coreOpts);
  return {
    binding,
    async open(model, carry = {}) {
      const s = await call('open', model, carry);
      const { id, inputNames, outputNames } = s as { id: number; inputNames: string[]; outputNames: string[] };
      return {
        inputNames,
        outputNames,
        run: (feeds, fetch) => call('run', id, feeds, fetch) as Promise<Record<string, HostTensor>>,
        close: async () => void (await call('closeSession', id)),
      };
    },
    setState: async (values) => void (await call('setState', values)),
    getState: (names) => call('getState', names) as Promise<Record<string, HostTensor>>,
    deleteState: async (names) => void (await call('deleteState', names)),
    close: async () => void (await call('close')),
  };
}

type Caller = (method: keyof Core, ...args: unknown[]) => Promise<unknown>;

function inlineCaller(core: Core): Caller {
  return async (method, ...args) => (core[method] as (...a: unknown[]) => unknown)(...args);
}

async function workerCaller(coreOpts: object): Promise<Caller> {
  const worker = new Worker(new URL('./worker.mjs', import.meta.url), { workerData: coreOpts });
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  let nextId = 0;
  let dead: Error | undefined;
  const failAll = (e: Error) => {
    dead = e;
    for (const p of pending.values()) p.reject(e);
    pending.clear();
  };
  worker.on('message', ({ id, result, error }: { id: number; result?: unknown; error?: string }) => {
    const p = pending.get(id);
    pending.delete(id);
    if (error !== undefined) p?.reject(new Error(error));
    else p?.resolve(result);
  });
  worker.on('error', (e) => failAll(e));
  worker.on('exit', (code) => failAll(new Error(`runner worker exited (code ${code})`)));
  worker.unref();
  return async (method, ...args) => {
    if (dead) throw dead;
    const id = nextId++;
    const p = new Promise((resolve, reject) => pending.set(id, { resolve, reject }));
    worker.ref();
    worker.postMessage({ id, method, args });
    try {
      return await p;
    } finally {
      if (pending.size === 0) worker.unref();
      if (method === 'close') await worker.terminate();
    }
  };
}
