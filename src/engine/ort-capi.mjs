// The CPU runner core on onnxruntime's C API, called through koffi on the libonnxruntime that
// onnxruntime-node ships. Same interface as the binding core in ort-core.mjs (types: ort-core.d.mts).
//
// Why: onnxruntime-node's run() copies every fetched output into a new ArrayBuffer, also one that
// onnxruntime wrote in place into a buffer the caller gave, so a training step paid a copy (and the
// allocation) of all its params and optimizer slots each update: 40 MB and about 14 ms per step of the
// bench's transformer, 4.9 MB and 1 ms of its MLP (README "Engine", round 4). Here carried outputs are
// written by onnxruntime straight into buffers this core owns (double buffering: the value a state entry
// held before the run), each wrapped once in an OrtValue, and nothing is copied or allocated for them.
//
// The OrtApi function table is append-only across onnxruntime releases (entries are never moved or
// removed), so the indices below hold for every version that has them; the core asks for API version 16
// and checks, on load, that four entries answer as they should (CreateStatus, GetErrorCode, GetErrorMessage,
// GetAvailableProviders).
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import koffi from '../util/koffi.mjs';
import { checkFeed } from './feed-check.mjs';

const API_VERSION = 16;

/** ONNX element types <-> o2o dtypes, with the typed array each is held in. */
const ONNX = { float32: 1, uint8: 2, int32: 6, int64: 7, bool: 9, float16: 10, float64: 11 };
const DTYPE_OF = Object.fromEntries(Object.entries(ONNX).map(([k, v]) => [v, k]));
const ARRAY = { float32: Float32Array, uint8: Uint8Array, int32: Int32Array, int64: BigInt64Array, bool: Uint8Array, float16: Uint16Array, float64: Float64Array };
const ONNX_NAMES = { 3: 'int8', 4: 'uint16', 5: 'int16', 8: 'string', 12: 'uint32', 13: 'uint64', 16: 'bfloat16' };

const OUT_PTR = koffi.out(koffi.pointer('void *'));
const OUT_SIZE = koffi.out(koffi.pointer('size_t'));
const OUT_INT = koffi.out(koffi.pointer('int'));

/** [index in OrtApi, result, argument types]; every function returning 'void *' returns an OrtStatus*. */
const TABLE = {
  CreateStatus: [0, 'void *', ['int', 'const char *']],
  GetErrorCode: [1, 'int', ['void *']],
  GetErrorMessage: [2, 'const char *', ['void *']],
  CreateEnv: [3, 'void *', ['int', 'const char *', OUT_PTR]],
  CreateSessionFromArray: [8, 'void *', ['void *', 'void *', 'size_t', 'void *', OUT_PTR]],
  Run: [9, 'void *', ['void *', 'void *', 'const char **', 'void **', 'size_t', 'const char **', 'size_t', koffi.inout(koffi.pointer('void *'))]],
  CreateSessionOptions: [10, 'void *', [OUT_PTR]],
  SetSessionExecutionMode: [13, 'void *', ['void *', 'int']],
  SetSessionGraphOptimizationLevel: [23, 'void *', ['void *', 'int']],
  SetIntraOpNumThreads: [24, 'void *', ['void *', 'int']],
  SetInterOpNumThreads: [25, 'void *', ['void *', 'int']],
  SessionGetInputCount: [30, 'void *', ['void *', OUT_SIZE]],
  SessionGetOutputCount: [31, 'void *', ['void *', OUT_SIZE]],
  SessionGetInputTypeInfo: [33, 'void *', ['void *', 'size_t', OUT_PTR]],
  SessionGetOutputTypeInfo: [34, 'void *', ['void *', 'size_t', OUT_PTR]],
  SessionGetInputName: [36, 'void *', ['void *', 'size_t', 'void *', OUT_PTR]],
  SessionGetOutputName: [37, 'void *', ['void *', 'size_t', 'void *', OUT_PTR]],
  CreateTensorWithDataAsOrtValue: [49, 'void *', ['void *', 'void *', 'size_t', 'void *', 'size_t', 'int', OUT_PTR]],
  GetTensorMutableData: [51, 'void *', ['void *', OUT_PTR]],
  CastTypeInfoToTensorInfo: [55, 'void *', ['void *', OUT_PTR]],
  GetTensorElementType: [60, 'void *', ['void *', OUT_INT]],
  GetDimensionsCount: [61, 'void *', ['void *', OUT_SIZE]],
  GetDimensions: [62, 'void *', ['void *', 'void *', 'size_t']],
  GetSymbolicDimensions: [63, 'void *', ['void *', 'void *', 'size_t']],
  GetTensorTypeAndShape: [65, 'void *', ['void *', OUT_PTR]],
  CreateCpuMemoryInfo: [69, 'void *', ['int', 'int', OUT_PTR]],
  AllocatorFree: [76, 'void *', ['void *', 'void *']],
  GetAllocatorWithDefaultOptions: [78, 'void *', [OUT_PTR]],
  ReleaseStatus: [93, 'void', ['void *']],
  ReleaseSession: [95, 'void', ['void *']],
  ReleaseValue: [96, 'void', ['void *']],
  ReleaseTypeInfo: [98, 'void', ['void *']],
  ReleaseTensorTypeAndShapeInfo: [99, 'void', ['void *']],
  ReleaseSessionOptions: [100, 'void', ['void *']],
  GetAvailableProviders: [125, 'void *', [OUT_PTR, OUT_INT]],
  ReleaseAvailableProviders: [126, 'void *', ['void *', 'int']],
};
const TABLE_SIZE = 127;

/** The shared library inside the installed onnxruntime-node, or null. */
function libraryPath() {
  let pkg;
  try {
    pkg = path.dirname(createRequire(import.meta.url).resolve('onnxruntime-node/package.json'));
  } catch {
    return null;
  }
  const base = path.join(pkg, 'bin');
  for (const napi of fs.existsSync(base) ? fs.readdirSync(base) : []) {
    const dir = path.join(base, napi, process.platform, process.arch);
    if (!fs.existsSync(dir)) continue;
    const lib = fs.readdirSync(dir).find((f) => /^libonnxruntime\.so\.\d+$/.test(f) || /^libonnxruntime\.[\d.]*dylib$/.test(f) || f === 'onnxruntime.dll');
    if (lib) return path.join(dir, lib);
  }
  return null;
}

let loaded;
/** The C API, loaded once per thread: { api, version, env, memInfo, allocator } or { why }. */
export function loadCapi() {
  if (loaded) return loaded;
  try {
    const file = libraryPath();
    if (!file) throw new Error('no libonnxruntime found inside the onnxruntime-node package');
    const lib = koffi.load(file);
    const base = koffi.decode(lib.func('void *OrtGetApiBase()')(), koffi.struct({ GetApi: 'void *', GetVersionString: 'void *' }));
    const version = koffi.call(base.GetVersionString, koffi.proto(null, 'const char *', []));
    const table = koffi.call(base.GetApi, koffi.proto(null, 'void *', ['uint32_t']), API_VERSION);
    if (!table) throw new Error(`onnxruntime ${version} does not serve C API version ${API_VERSION}`);
    const fns = koffi.decode(table, 'void *', TABLE_SIZE);
    const api = {};
    for (const [name, [i, result, args]] of Object.entries(TABLE)) api[name] = koffi.decode(fns[i], koffi.proto(null, result, args));
    // the table's layout, checked on entries with known answers
    const st = api.CreateStatus(6, 'o2o probe');
    const probe = api.GetErrorCode(st) === 6 && api.GetErrorMessage(st) === 'o2o probe';
    api.ReleaseStatus(st);
    const providers = [null], count = [0];
    check(api, api.GetAvailableProviders(providers, count), 'GetAvailableProviders');
    const names = koffi.decode(providers[0], 'const char *', count[0]);
    check(api, api.ReleaseAvailableProviders(providers[0], count[0]), 'ReleaseAvailableProviders');
    if (!probe || !names.includes('CPUExecutionProvider')) throw new Error(`onnxruntime ${version}: the C API table does not answer as expected`);
    const out = [null];
    check(api, api.CreateEnv(2, 'o2o', out), 'CreateEnv');
    const env = out[0];
    check(api, api.CreateCpuMemoryInfo(1, 0, out), 'CreateCpuMemoryInfo');
    const memInfo = out[0];
    check(api, api.GetAllocatorWithDefaultOptions(out), 'GetAllocatorWithDefaultOptions');
    loaded = { api, version, env, memInfo, allocator: out[0], file };
  } catch (e) {
    loaded = { why: e instanceof Error ? e.message : String(e) };
  }
  return loaded;
}

/** Throws the message of a non-null OrtStatus (and frees it). */
function check(api, status, what) {
  if (!status) return;
  const msg = api.GetErrorMessage(status);
  api.ReleaseStatus(status);
  throw new Error(`${what}: ${msg}`);
}

/**
 * The CPU core on the C API, or throws (with the reason) where the library cannot be loaded.
 * State entries are { dtype, shape, data, value } with value the OrtValue wrapping data (made on first use).
 */
export function createCapiCore(opts) {
  if ((opts.provider ?? 'cpu') !== 'cpu') throw new Error(`the C API core serves the cpu provider only, got ${JSON.stringify(opts.provider)}`);
  const C = loadCapi();
  if (C.why) throw new Error(`the onnxruntime C API is not available: ${C.why}`);
  const { api } = C;
  const ok = (status, what) => check(api, status, what);

  const state = new Map();
  // Buffers this core allocated: the only ones it ever lets onnxruntime write into. `spare` holds, per
  // state name, the owned buffer the next run's carried output goes to.
  const owned = new WeakSet();
  const spare = new Map();
  const sessions = new Map();
  let nextId = 1;

  /** An OrtValue over t.data (no copy); t.data must stay referenced while the value lives. */
  const wrap = (t) => {
    const out = [null];
    const shape = BigInt64Array.from(t.shape, (d) => BigInt(d));
    // an empty tensor still needs a non-null pointer; it is kept with t like any data
    const data = t.data.byteLength ? t.data : (t.pad ??= new ARRAY[t.dtype](1));
    ok(api.CreateTensorWithDataAsOrtValue(C.memInfo, data, t.data.byteLength, shape, shape.length, ONNX[t.dtype], out), 'CreateTensorWithDataAsOrtValue');
    return out[0];
  };
  const valueOf = (t) => (t.value ??= wrap(t));
  const release = (t) => {
    if (t?.value) api.ReleaseValue(t.value);
    if (t) t.value = null;
    // a view of memory onnxruntime allocated is gone with its value
    if (t?.adopted) t.data = null;
  };
  const entry = (name, t) => {
    if (!t || !t.data || !Array.isArray(t.shape)) throw new Error(`input ${name}: expected {dtype, shape, data}, got ${typeof t}`);
    if (!(t.dtype in ONNX)) throw new Error(`input ${name}: dtype ${JSON.stringify(t.dtype)} is not supported (${Object.keys(ONNX).join(', ')})`);
    if (!(t.data instanceof ARRAY[t.dtype])) throw new Error(`input ${name}: ${t.dtype} data must be a ${ARRAY[t.dtype].name}, got ${t.data?.constructor?.name}`);
    return { dtype: t.dtype, shape: [...t.shape], data: t.data, value: null };
  };
  const copyOut = (t) => ({ dtype: t.dtype, shape: [...t.shape], data: t.data.slice() });
  const sameShape = (a, b) => a.length === b.length && a.every((d, i) => d === b[i]);

  /**
   * dtype, shape and data of an OrtValue onnxruntime allocated: `copy` copies the data out (the caller frees
   * the value); else data is a view of onnxruntime's memory, valid until the value is released.
   */
  const readValue = (value, name, copy) => {
    const out = [null];
    ok(api.GetTensorTypeAndShape(value, out), 'GetTensorTypeAndShape');
    const info = out[0];
    try {
      const type = [0], rank = [0];
      ok(api.GetTensorElementType(info, type), 'GetTensorElementType');
      const dtype = DTYPE_OF[type[0]];
      if (!dtype) throw new Error(`run: output "${name}" has element type ${ONNX_NAMES[type[0]] ?? type[0]}, which o2o does not read`);
      ok(api.GetDimensionsCount(info, rank), 'GetDimensionsCount');
      const dims = new BigInt64Array(rank[0]);
      if (rank[0]) ok(api.GetDimensions(info, dims, rank[0]), 'GetDimensions');
      const shape = Array.from(dims, Number);
      const n = shape.reduce((a, b) => a * b, 1);
      let data = new ARRAY[dtype](copy ? n : 0);
      if (n) {
        ok(api.GetTensorMutableData(value, out), 'GetTensorMutableData');
        const view = new ARRAY[dtype](koffi.view(out[0], n * data.BYTES_PER_ELEMENT));
        if (copy) data.set(view);
        else data = view;
      }
      return { dtype, shape, data };
    } finally {
      api.ReleaseTensorTypeAndShapeInfo(info);
    }
  };

  /** Name, dtype and shape (numbers, dim names, or '' for unnamed free dims) of input/output i. */
  const describe = (session, i, kind) => {
    const out = [null];
    ok(api[`SessionGet${kind}Name`](session, i, C.allocator, out), `SessionGet${kind}Name`);
    const name = koffi.decode.string(out[0]);
    ok(api.AllocatorFree(C.allocator, out[0]), 'AllocatorFree');
    ok(api[`SessionGet${kind}TypeInfo`](session, i, out), `SessionGet${kind}TypeInfo`);
    const typeInfo = out[0];
    try {
      ok(api.CastTypeInfoToTensorInfo(typeInfo, out), 'CastTypeInfoToTensorInfo');
      if (!out[0]) return { name, isTensor: false, type: '', shape: [] };
      const info = out[0];
      const type = [0], rank = [0];
      ok(api.GetTensorElementType(info, type), 'GetTensorElementType');
      ok(api.GetDimensionsCount(info, rank), 'GetDimensionsCount');
      const dims = new BigInt64Array(rank[0]);
      const symbols = new BigUint64Array(rank[0]);
      if (rank[0]) {
        ok(api.GetDimensions(info, dims, rank[0]), 'GetDimensions');
        ok(api.GetSymbolicDimensions(info, symbols, rank[0]), 'GetSymbolicDimensions');
      }
      const names = rank[0] ? koffi.decode(symbols, 'const char *', rank[0]) : [];
      const shape = Array.from(dims, (d, j) => (d >= 0n ? Number(d) : (names[j] ?? '')));
      return { name, isTensor: true, type: DTYPE_OF[type[0]] ?? ONNX_NAMES[type[0]] ?? String(type[0]), shape };
    } finally {
      api.ReleaseTypeInfo(typeInfo);
    }
  };

  /** The owned buffer carried output `meta` is written into, replacing state entry `to`; null: onnxruntime allocates. */
  const outputEntry = (meta, to) => {
    const cur = state.get(to);
    if (!meta.isTensor || !cur || cur.dtype !== meta.type || !sameShape(meta.shape, cur.shape)) return null;
    const sp = spare.get(to);
    if (sp && sp.dtype === cur.dtype && sameShape(sp.shape, cur.shape)) return sp;
    const t = { dtype: cur.dtype, shape: [...cur.shape], data: new ARRAY[cur.dtype](cur.data.length), value: null };
    owned.add(t);
    spare.set(to, t);
    return t;
  };

  /** After a run: carried value t becomes state entry `name`; the entry it replaces is the next spare if owned. */
  const setEntry = (name, t) => {
    const old = state.get(name);
    state.set(name, t);
    if (spare.get(name) === t) spare.delete(name);
    if (old && old !== t && owned.has(old) && !spare.has(name)) spare.set(name, old);
    else if (old !== t) release(old);
  };

  return {
    async open(model, carry = {}) {
      const out = [null];
      ok(api.CreateSessionOptions(out), 'CreateSessionOptions');
      const so = out[0];
      let session;
      try {
        ok(api.SetSessionGraphOptimizationLevel(so, 99), 'SetSessionGraphOptimizationLevel');
        ok(api.SetSessionExecutionMode(so, 0), 'SetSessionExecutionMode');
        ok(api.SetInterOpNumThreads(so, 1), 'SetInterOpNumThreads');
        if (opts.threads) ok(api.SetIntraOpNumThreads(so, opts.threads), 'SetIntraOpNumThreads');
        try {
          ok(api.CreateSessionFromArray(C.env, model, model.length, so, out), 'CreateSessionFromArray');
        } catch (e) {
          throw new Error(`onnxruntime could not load the model: ${e.message}`);
        }
        session = out[0];
      } finally {
        api.ReleaseSessionOptions(so);
      }
      const count = [0];
      ok(api.SessionGetInputCount(session, count), 'SessionGetInputCount');
      const inputs = Array.from({ length: Number(count[0]) }, (_, i) => describe(session, i, 'Input'));
      ok(api.SessionGetOutputCount(session, count), 'SessionGetOutputCount');
      const outputs = Array.from({ length: Number(count[0]) }, (_, i) => describe(session, i, 'Output'));
      const id = nextId++;
      sessions.set(id, { session, carry, inputs, outputs, inputNames: inputs.map((m) => m.name), outputNames: outputs.map((m) => m.name) });
      return { id, inputNames: inputs.map((m) => m.name), outputNames: outputs.map((m) => m.name) };
    },

    async run(id, feeds, fetch) {
      const s = sessions.get(id);
      if (!s) throw new Error(`runner: session ${id} is closed`);
      const named = new Map();
      const fed = [];
      const values = [];
      const results = new Array(s.outputs.length).fill(null);
      const targets = new Array(s.outputs.length).fill(null);
      let committed = false;
      try {
        for (const meta of s.inputs) {
          const t = feeds[meta.name];
          const st = state.get(meta.name);
          if (!meta.isTensor) throw new Error(`run: input "${meta.name}" is not a tensor`);
          if (t) checkFeed(meta, { dtype: t.dtype, shape: t.shape, n: t.data?.length }, named, 'got');
          else if (st) checkFeed(meta, { dtype: st.dtype, shape: st.shape, n: st.data.length }, named, 'the state holds');
        }
        for (const meta of s.inputs) {
          if (feeds[meta.name]) {
            const e = entry(meta.name, feeds[meta.name]);
            fed.push(e);
            values.push(valueOf(e));
          } else if (state.has(meta.name)) values.push(valueOf(state.get(meta.name)));
          else throw new Error(`run: input ${JSON.stringify(meta.name)} was neither fed nor found in the runner's state (state holds: ${[...state.keys()].join(', ') || 'nothing'})`);
        }
        s.outputs.forEach((meta, i) => {
          if (meta.name in s.carry) targets[i] = outputEntry(meta, s.carry[meta.name]);
          results[i] = targets[i] ? valueOf(targets[i]) : null;
        });
        ok(api.Run(s.session, null, s.inputNames, values, values.length, s.outputNames, s.outputNames.length, results), 'run');
        const names = fetch ?? s.outputNames.filter((n) => !(n in s.carry));
        const host = {};
        s.outputs.forEach((meta, i) => {
          if (targets[i]) return;
          if (meta.name in s.carry) {
            // carried without a buffer of ours (its shape changes, as a KV cache's): the state adopts
            // onnxruntime's value and its memory as they are, no copy
            targets[i] = { ...readValue(results[i], meta.name, false), value: results[i], adopted: true };
          } else if (names.includes(meta.name)) host[meta.name] = readValue(results[i], meta.name, true);
        });
        for (const [from, to] of Object.entries(s.carry)) {
          const i = s.outputNames.indexOf(from);
          if (i >= 0) setEntry(to, targets[i]);
        }
        committed = true;
        const result = {};
        for (const n of names) {
          const i = s.outputNames.indexOf(n);
          if (i < 0) throw new Error(`run: no output ${JSON.stringify(n)} (outputs: ${s.outputNames.join(', ')})`);
          result[n] = n in s.carry ? copyOut(state.get(s.carry[n])) : host[n];
        }
        return result;
      } finally {
        for (const e of fed) release(e);
        results.forEach((v, i) => {
          if (v && !targets[i]) api.ReleaseValue(v);
          else if (v && targets[i].adopted && !committed) release(targets[i]);
        });
      }
    },

    setState(values) {
      for (const [name, t] of Object.entries(values)) {
        const e = entry(name, t);
        release(state.get(name));
        state.set(name, e);
      }
    },

    getState(names) {
      const result = {};
      for (const n of names ?? [...state.keys()]) {
        const t = state.get(n);
        if (!t) throw new Error(`getState: no state ${JSON.stringify(n)} (state holds: ${[...state.keys()].join(', ') || 'nothing'})`);
        result[n] = copyOut(t);
      }
      return result;
    },

    deleteState(names) {
      for (const n of names) {
        release(state.get(n));
        release(spare.get(n));
        state.delete(n);
        spare.delete(n);
      }
    },

    async closeSession(id) {
      const s = sessions.get(id);
      sessions.delete(id);
      if (s) api.ReleaseSession(s.session);
    },

    async close() {
      for (const id of [...sessions.keys()]) await this.closeSession(id);
      for (const t of state.values()) release(t);
      for (const t of spare.values()) release(t);
      state.clear();
      spare.clear();
    },
  };
}
