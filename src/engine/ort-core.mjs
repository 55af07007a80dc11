// The onnxruntime side of the runner for the CPU provider, used by the worker thread (worker.mjs) and the
// in-thread runner; GPU providers use device/device-core.mjs, which has the same interface. Two cores: on
// onnxruntime's C API (ort-capi.mjs, the default where it loads: carried state is written in place, no
// copies) and on onnxruntime-node's binding (below). Plain JavaScript so that the worker starts without a
// TypeScript loader. Types: ort-core.d.mts.
import ort from 'onnxruntime-node';
import { createCapiCore, loadCapi } from './ort-capi.mjs';
import { checkFeed } from './feed-check.mjs';

export const BINDINGS = ['c-api', 'onnxruntime-node'];

/**
 * The binding a CPU core uses: opts.binding when given ('c-api' fails with the reason where the library
 * cannot be used), else 'c-api' where it loads and 'onnxruntime-node' where not. GPU providers: always
 * 'onnxruntime-node'.
 */
export function resolveBinding(opts) {
  if ((opts.provider ?? 'cpu') !== 'cpu' || opts.binding === 'onnxruntime-node') return 'onnxruntime-node';
  const C = loadCapi();
  if (!C.why) return 'c-api';
  if (opts.binding === 'c-api') throw new Error(`runner: binding 'c-api' is not available here: ${C.why}`);
  return 'onnxruntime-node';
}

/** The CPU core for `opts` (see resolveBinding). */
export function createCore(opts) {
  return resolveBinding(opts) === 'c-api' ? createCapiCore(opts) : createBindingCore(opts);
}

/** A tensor store plus sessions on onnxruntime-node's binding: the state travels between runs inside this thread only. */
export function createBindingCore(opts) {
  const provider = opts.provider ?? 'cpu';
  if (provider !== 'cpu') throw new Error(`ort-core serves the cpu provider only, got ${JSON.stringify(provider)} (use createDeviceCore)`);
  const state = new Map();
  // Carried outputs are written into buffers this core owns: the value a state entry held before the last
  // run (double buffering), so a training step allocates (and page-faults) nothing for params and slots.
  // Only tensors allocated here are ever overwritten; getState and fetched carried outputs are copies.
  const owned = new WeakSet();
  const spare = new Map();
  const sessions = new Map();
  let nextId = 1;

  const toOrt = (name, t) => {
    if (!t || !t.data || !Array.isArray(t.shape)) throw new Error(`input ${name}: expected {dtype, shape, data}, got ${typeof t}`);
    return new ort.Tensor(t.dtype, t.data, t.shape);
  };
  const toHost = (t) => ({ dtype: t.type, shape: [...t.dims], data: t.data });
  const copyToHost = (t) => ({ dtype: t.type, shape: [...t.dims], data: t.data.slice() });

  /** A buffer for carried output `meta` replacing state entry `to`, or null (onnxruntime allocates). */
  const outputBuffer = (meta, to) => {
    const cur = state.get(to);
    if (!meta.isTensor || !cur || cur.type !== meta.type || !meta.shape.every((d, i) => d === cur.dims[i]) || meta.shape.length !== cur.dims.length) return null;
    const sp = spare.get(to);
    if (sp && sp.type === cur.type && sp.dims.length === cur.dims.length && sp.dims.every((d, i) => d === cur.dims[i])) return sp;
    const t = new ort.Tensor(cur.type, new cur.data.constructor(cur.data.length), cur.dims);
    owned.add(t);
    return t;
  };

  return {
    async open(model, carry = {}) {
      const options = {
        executionProviders: [provider],
        graphOptimizationLevel: 'all',
        executionMode: 'sequential',
        interOpNumThreads: 1,
        ...(opts.threads ? { intraOpNumThreads: opts.threads } : {}),
      };
      let session;
      try {
        session = await ort.InferenceSession.create(model, options);
      } catch (e) {
        throw new Error(`onnxruntime could not load the model: ${e instanceof Error ? e.message : String(e)}`);
      }
      const id = nextId++;
      sessions.set(id, { session, carry });
      return { id, inputNames: [...session.inputNames], outputNames: [...session.outputNames] };
    },

    async run(id, feeds, fetch) {
      const s = sessions.get(id);
      if (!s) throw new Error(`runner: session ${id} is closed`);
      // feeds that are not inputs are ignored: models drop the inputs their outputs do not use, so one batch
      // record can feed several models
      const inputs = {};
      const named = new Map();
      for (const meta of s.session.inputMetadata) {
        const t = feeds[meta.name];
        const st = state.get(meta.name);
        if (t) checkFeed(meta, { dtype: t.dtype, shape: t.shape, n: t.data?.length }, named, 'got');
        else if (st) checkFeed(meta, { dtype: st.type, shape: st.dims, n: st.size }, named, 'the state holds');
      }
      for (const name of s.session.inputNames) {
        if (feeds[name]) inputs[name] = toOrt(name, feeds[name]);
        else if (state.has(name)) inputs[name] = state.get(name);
        else throw new Error(`run: input ${JSON.stringify(name)} was neither fed nor found in the runner's state (state holds: ${[...state.keys()].join(', ') || 'nothing'})`);
      }
      const fetches = {};
      for (const meta of s.session.outputMetadata) fetches[meta.name] = meta.name in s.carry ? outputBuffer(meta, s.carry[meta.name]) : null;
      const out = await s.session.run(inputs, fetches);
      for (const [from, to] of Object.entries(s.carry)) {
        const old = state.get(to);
        // onnxruntime-node hands back a copy even of an output written into a given buffer: keep the buffer
        state.set(to, fetches[from] ?? out[from]);
        if (fetches[from] && old && owned.has(old)) spare.set(to, old);
        else spare.delete(to);
      }
      const names = fetch ?? s.session.outputNames.filter((n) => !(n in s.carry));
      const result = {};
      for (const n of names) {
        if (!out[n]) throw new Error(`run: no output ${JSON.stringify(n)} (outputs: ${s.session.outputNames.join(', ')})`);
        result[n] = n in s.carry ? copyToHost(out[n]) : toHost(out[n]);
      }
      return result;
    },

    setState(values) {
      for (const [name, t] of Object.entries(values)) {
        state.set(name, toOrt(name, t));
        spare.delete(name);
      }
    },

    getState(names) {
      const result = {};
      for (const n of names ?? [...state.keys()]) {
        const t = state.get(n);
        if (!t) throw new Error(`getState: no state ${JSON.stringify(n)} (state holds: ${[...state.keys()].join(', ') || 'nothing'})`);
        result[n] = copyToHost(t);
      }
      return result;
    },

    deleteState(names) {
      for (const n of names) {
        state.delete(n);
        spare.delete(n);
      }
    },

    async closeSession(id) {
      const s = sessions.get(id);
      sessions.delete(id);
      if (s) await s.session.release();
    },

    async close() {
      for (const id of [...sessions.keys()]) await this.closeSession(id);
      state.clear();
      spare.clear();
    },
  };
}
