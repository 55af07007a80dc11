// The runner's core for GPU providers: the same interface as ../ort-core.mjs (sessions plus a named state
// store, see ../runner.ts), with the state left on the device between runs. Plain JavaScript for the worker
// thread. Types: device-core.d.mts.
//
// A session's carried outputs (params, optimizer slots, step, a KV cache) are requested as device buffers
// (`preferredOutputLocation: 'gpu-buffer'`) and stored as they are; the next run takes them from the state
// as inputs, so only fed inputs (batch, lr) go up and only fetched outputs (metrics) come down. The state
// is read back to the host only by getState (checkpoints, evaluation on the host), through an Identity
// session whose output lives on the CPU (see readback.mjs for the getData() trap). Frozen weights are
// initializers, uploaded once when a session opens.
//
// Where the state lives between runs (RESIDENCY):
// - webgpu: on the device.
// - cuda: on the host. onnxruntime-node 1.30's Node binding hands out device outputs only as WebGPU buffers,
//   so a CUDA run copies its state in and out; the K-step Loop model amortises that over K updates.
// - cpu: on the host, which is the device.
//
// The first run of each session on a GPU provider is profiled to learn where each node ran; nodes that
// fell back to the CPU are listed on stderr once (they cost copies every run) and by placement(id).
//
// Trap: a device output belongs to the session that produced it; once that session is released, reading the
// tensor aborts the process and disposing it segfaults. So closeSession first reads the state tensors the
// session owns back to the host (they go up again with the next run), and close disposes before releasing.
//
// Invariant: a run that throws leaves the state as it was (old tensors are released only after the run).
import ort from 'onnxruntime-node';
import { describeFallbacks, profileTarget } from './placement.mjs';
import { EP_NAMES, openSession, parseProvider } from './provider.mjs';
import { createReadback } from './readback.mjs';

export const RESIDENCY = { cpu: 'host', webgpu: 'device', cuda: 'host' };

const BYTES = { float32: 4, float64: 8, float16: 2, int64: 8, int32: 4, uint8: 1, bool: 1 };
const byteSize = (t) => t.dims.reduce((a, b) => a * b, 1) * BYTES[t.type];

const toOrt = (name, t) => {
  if (!t || !t.data || !Array.isArray(t.shape)) throw new Error(`input ${name}: expected {dtype, shape, data}, got ${typeof t}`);
  return new ort.Tensor(t.dtype, t.data, t.shape);
};

export function createDeviceCore(opts) {
  const provider = parseProvider(opts.provider ?? 'cpu');
  const residency = opts.residency ?? RESIDENCY[provider];
  if (!['device', 'host'].includes(residency)) throw new Error(`device core: residency must be "device" or "host", got ${JSON.stringify(residency)}`);
  const reportFallbacks = opts.reportFallbacks ?? true;
  const gpu = provider !== 'cpu';
  const state = new Map();
  /** device tensor -> id of the session whose allocator holds it */
  const owner = new Map();
  const sessions = new Map();
  const readback = createReadback(provider);
  let nextId = 1;
  let traffic = { toDevice: 0, toHost: 0 };

  const release = (t) => {
    owner.delete(t);
    if (t?.location === 'gpu-buffer') t.dispose();
  };
  const replace = (name, t) => {
    const old = state.get(name);
    state.set(name, t);
    if (old !== t) release(old);
  };

  return {
    async open(model, carry = {}) {
      const outputLocation = {};
      if (residency === 'device') for (const from of Object.keys(carry)) outputLocation[from] = 'gpu-buffer';
      const profile = gpu ? profileTarget() : undefined;
      let session;
      try {
        session = await openSession(model, { provider, threads: opts.threads, outputLocation, profilePrefix: profile?.prefix });
        const unknown = Object.keys(carry).filter((from) => !session.outputNames.includes(from));
        if (unknown.length) throw new Error(`open: carried output ${JSON.stringify(unknown[0])} is not an output of the model (outputs: ${session.outputNames.join(', ')})`);
      } catch (e) {
        await session?.release();
        profile?.discard();
        throw e;
      }
      const id = nextId++;
      sessions.set(id, { session, carry, profile, placement: undefined });
      return { id, inputNames: [...session.inputNames], outputNames: [...session.outputNames] };
    },

    async run(id, feeds, fetch) {
      const s = sessions.get(id);
      if (!s) throw new Error(`runner: session ${id} is closed`);
      const inputs = {};
      for (const name of s.session.inputNames) {
        if (feeds[name]) inputs[name] = toOrt(name, feeds[name]);
        else if (state.has(name)) inputs[name] = state.get(name);
        else throw new Error(`run: input ${JSON.stringify(name)} was neither fed nor found in the runner's state (state holds: ${[...state.keys()].join(', ') || 'nothing'})`);
      }
      const names = fetch ?? s.session.outputNames.filter((n) => !(n in s.carry));
      for (const n of names) {
        if (!s.session.outputNames.includes(n)) throw new Error(`run: no output ${JSON.stringify(n)} (outputs: ${s.session.outputNames.join(', ')})`);
      }
      const out = await s.session.run(inputs);
      if (s.profile) {
        s.placement = s.profile.read(s.session);
        s.profile = undefined;
        const lines = describeFallbacks(s.placement, EP_NAMES[provider]);
        if (reportFallbacks && lines.length) {
          console.warn(`o2o engine (${provider}): nodes of session ${id} ran off the ${provider} provider; each costs host<->device copies per run:\n  ${lines.join('\n  ')}`);
        }
      }
      let toDevice = 0;
      let toHost = 0;
      if (gpu) {
        for (const t of Object.values(inputs)) if (t.location === 'cpu') toDevice += byteSize(t);
        for (const t of Object.values(out)) if (t.location === 'cpu') toHost += byteSize(t);
      }
      const result = {};
      for (const n of names) result[n] = await readback.read(out[n]);
      for (const [from, to] of Object.entries(s.carry)) {
        if (out[from].location === 'gpu-buffer') owner.set(out[from], id);
        replace(to, out[from]);
      }
      for (const [n, t] of Object.entries(out)) if (!(n in s.carry)) release(t);
      traffic = { toDevice, toHost };
      return result;
    },

    setState(values) {
      for (const [name, t] of Object.entries(values)) replace(name, toOrt(name, t));
    },

    async getState(names) {
      const result = {};
      for (const n of names ?? [...state.keys()]) {
        const t = state.get(n);
        if (!t) throw new Error(`getState: no state ${JSON.stringify(n)} (state holds: ${[...state.keys()].join(', ') || 'nothing'})`);
        result[n] = await readback.read(t);
      }
      return result;
    },

    deleteState(names) {
      for (const n of names) {
        release(state.get(n));
        state.delete(n);
      }
    },

    async closeSession(id) {
      const s = sessions.get(id);
      if (!s) return;
      for (const [name, t] of [...state]) {
        if (owner.get(t) === id) {
          const host = await readback.read(t);
          replace(name, toOrt(name, host));
        }
      }
      sessions.delete(id);
      await s.session.release();
      s.profile?.discard(); // after release: a session still profiling writes its file when released
    },

    async close() {
      for (const t of state.values()) release(t);
      state.clear();
      for (const s of sessions.values()) {
        await s.session.release();
        s.profile?.discard();
      }
      sessions.clear();
      await readback.close();
    },

    traffic: () => traffic,
    placement: (id) => sessions.get(id)?.placement,
    residency: () => residency,
  };
}

