// Reading device tensors back to the host, safely. Types: readback.d.mts.
//
// Trap: in onnxruntime-node 1.30 a 'gpu-buffer' output's `getData()` calls a native `download` that throws a
// C string, which aborts the whole process ("terminate called after throwing an instance of 'char const*'"),
// and `.data` throws "The data is not on CPU". Nothing in o2o calls either on a device tensor: a device tensor
// is read by running it through an Identity model whose output lives on the CPU.
import { openSession } from './provider.mjs';

// ONNX element types (onnx.proto TensorProto.DataType).
const ELEM = { float32: 1, uint8: 2, int32: 6, int64: 7, bool: 9, float16: 10, float64: 11 };

/**
 * The ModelProto bytes of y = Identity(x) for one element type and any shape (inputs and outputs without a
 * shape field), IR 8, opset 18. Written by hand (every length fits one varint byte) so that this file needs no
 * TypeScript: the worker thread imports it as it is.
 */
export function identityModel(dtype) {
  const elem = ELEM[dtype];
  if (elem === undefined) throw new Error(`identityModel: unsupported dtype ${JSON.stringify(dtype)}`);
  const enc = new TextEncoder();
  const field = (n, bytes) => [(n << 3) | 2, bytes.length, ...bytes];
  const str = (n, s) => field(n, [...enc.encode(s)]);
  const valueInfo = (name) => [...str(1, name), ...field(2, field(1, [(1 << 3) | 0, elem]))];
  const node = [...str(1, 'x'), ...str(2, 'y'), ...str(3, 'identity'), ...str(4, 'Identity')];
  const graph = [...field(1, node), ...str(2, `identity_${dtype}`), ...field(11, valueInfo('x')), ...field(12, valueInfo('y'))];
  const opset = [(2 << 3) | 0, 18];
  return new Uint8Array([(1 << 3) | 0, 8, ...field(7, graph), ...field(8, opset)]);
}

/** The host copy of an onnxruntime tensor whose data is on the CPU ({dtype, shape, data}, owning its memory). */
export function hostCopy(t) {
  if (t.location !== 'cpu') throw new Error(`hostCopy: tensor is on '${t.location}', expected 'cpu' (read device tensors with a Readback)`);
  return { dtype: t.type, shape: [...t.dims], data: t.data.slice() };
}

/** Reads tensors of one provider's sessions back to the host: one Identity session per dtype, opened on first use. */
export function createReadback(provider) {
  const sessions = new Map();
  return {
    async read(t) {
      if (t.location === 'cpu') return hostCopy(t);
      if (t.location !== 'gpu-buffer') throw new Error(`readback: a tensor on '${t.location}' cannot be read (disposed?)`);
      let s = sessions.get(t.type);
      if (!s) {
        s = openSession(identityModel(t.type), { provider });
        sessions.set(t.type, s);
      }
      const out = await (await s).run({ x: t });
      return hostCopy(out.y);
    },
    async close() {
      for (const s of sessions.values()) await (await s).release();
      sessions.clear();
    },
  };
}
