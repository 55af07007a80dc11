/**
 * A minimal protobuf writer for the part of onnx.proto that o2o emits: ModelProto, GraphProto, NodeProto,
 * AttributeProto, TensorProto, ValueInfoProto. Hand-written (about 150 lines) instead of a generated
 * protobufjs module: o2o only ever writes models, never reads them, and the encoder needs no schema file.
 *
 * Field numbers follow onnx/onnx.proto (IR version 8).
 */
import { DTYPES, type DType, type Dim } from './dtype.ts';

export const OPSET = 18;
export const IR_VERSION = 8;

export type AttrValue = number | bigint | string | number[] | bigint[] | TensorProto | GraphProto | { float: number } | { floats: number[] };

export interface NodeProto {
  opType: string;
  inputs: string[];
  outputs: string[];
  attrs?: Record<string, AttrValue>;
  domain?: string;
  /** Where the node comes from (an op record, '<Op>.grad', 'optimizer'); part of the node's name. */
  source?: string;
}

export interface TensorProto {
  kind: 'tensor';
  name: string;
  dtype: DType;
  dims: number[];
  /** Little-endian element bytes. */
  raw: Uint8Array;
}

export interface ValueInfo {
  name: string;
  dtype: DType;
  shape: Dim[];
}

export interface GraphProto {
  kind: 'graph';
  name: string;
  nodes: NodeProto[];
  initializers: TensorProto[];
  inputs: ValueInfo[];
  outputs: ValueInfo[];
}

class Writer {
  private chunks: Uint8Array[] = [];
  private buf = new Uint8Array(256);
  private pos = 0;

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    this.chunks.push(this.buf.subarray(0, this.pos));
    this.buf = new Uint8Array(Math.max(256, n));
    this.pos = 0;
  }

  varint(v: number | bigint): void {
    this.ensure(10);
    if (typeof v === 'number' && v >= 0 && v < 2 ** 31) {
      while (v > 127) {
        this.buf[this.pos++] = (v & 127) | 128;
        v >>>= 7;
      }
      this.buf[this.pos++] = v;
      return;
    }
    // int64 two's complement for negatives (10 bytes)
    let b = BigInt.asUintN(64, BigInt(v));
    while (b > 127n) {
      this.buf[this.pos++] = Number(b & 127n) | 128;
      b >>= 7n;
    }
    this.buf[this.pos++] = Number(b);
  }

  bytes(b: Uint8Array): void {
    this.varint(b.length);
    this.chunks.push(this.buf.subarray(0, this.pos));
    this.chunks.push(b);
    this.buf = new Uint8Array(256);
    this.pos = 0;
  }

  float32(v: number): void {
    this.ensure(4);
    new DataView(this.buf.buffer, this.buf.byteOffset + this.pos, 4).setFloat32(0, v, true);
    this.pos += 4;
  }

  tag(field: number, wire: number): void {
    this.varint((field << 3) | wire);
  }

  finish(): Uint8Array {
    this.chunks.push(this.buf.subarray(0, this.pos));
    const total = this.chunks.reduce((s, c) => s + c.length, 0);
    const out = new Uint8Array(total);
    let o = 0;
    for (const c of this.chunks) {
      out.set(c, o);
      o += c.length;
    }
    return out;
  }
}

const text = new TextEncoder();

function str(w: Writer, field: number, s: string): void {
  w.tag(field, 2);
  w.bytes(text.encode(s));
}
function msg(w: Writer, field: number, body: (w: Writer) => void): void {
  const inner = new Writer();
  body(inner);
  w.tag(field, 2);
  w.bytes(inner.finish());
}
function int(w: Writer, field: number, v: number | bigint): void {
  w.tag(field, 0);
  w.varint(v);
}

function tensor(w: Writer, t: TensorProto): void {
  for (const d of t.dims) int(w, 1, d);
  int(w, 2, DTYPES[t.dtype].onnx);
  str(w, 8, t.name);
  w.tag(9, 2);
  w.bytes(t.raw);
}

function valueInfo(w: Writer, v: ValueInfo): void {
  str(w, 1, v.name);
  msg(w, 2, (tp) =>
    msg(tp, 1, (tt) => {
      int(tt, 1, DTYPES[v.dtype].onnx);
      msg(tt, 2, (sh) => {
        for (const d of v.shape) msg(sh, 1, (dm) => (typeof d === 'number' ? int(dm, 1, d) : str(dm, 2, d)));
      });
    }),
  );
}

// AttributeProto.AttributeType
const A_FLOAT = 1, A_INT = 2, A_STRING = 3, A_TENSOR = 4, A_GRAPH = 5, A_FLOATS = 6, A_INTS = 7;

function attribute(w: Writer, name: string, v: AttrValue): void {
  str(w, 1, name);
  if (typeof v === 'number' || typeof v === 'bigint') {
    if (typeof v === 'number' && !Number.isInteger(v)) throw new Error(`attribute ${name}: integer expected, got ${v} (use {float: x})`);
    int(w, 3, v);
    int(w, 20, A_INT);
  } else if (typeof v === 'string') {
    w.tag(4, 2);
    w.bytes(text.encode(v));
    int(w, 20, A_STRING);
  } else if (Array.isArray(v)) {
    for (const x of v) int(w, 8, x);
    int(w, 20, A_INTS);
  } else if ('float' in v) {
    w.tag(2, 5);
    w.float32(v.float);
    int(w, 20, A_FLOAT);
  } else if ('floats' in v) {
    for (const x of v.floats) {
      w.tag(7, 5);
      w.float32(x);
    }
    int(w, 20, A_FLOATS);
  } else if (v.kind === 'tensor') {
    msg(w, 5, (t) => tensor(t, v));
    int(w, 20, A_TENSOR);
  } else {
    msg(w, 6, (g) => graph(g, v));
    int(w, 20, A_GRAPH);
  }
}

function node(w: Writer, n: NodeProto, i: number): void {
  for (const x of n.inputs) str(w, 1, x);
  for (const x of n.outputs) str(w, 2, x);
  str(w, 3, `n${i}_${n.source ? `${n.source}/` : ''}${n.opType}`);
  str(w, 4, n.opType);
  for (const [k, v] of Object.entries(n.attrs ?? {})) msg(w, 5, (a) => attribute(a, k, v));
  if (n.domain) str(w, 7, n.domain);
}

function graph(w: Writer, g: GraphProto): void {
  g.nodes.forEach((n, i) => msg(w, 1, (nw) => node(nw, n, i)));
  str(w, 2, g.name);
  for (const t of g.initializers) msg(w, 5, (tw) => tensor(tw, t));
  for (const v of g.inputs) msg(w, 11, (vw) => valueInfo(vw, v));
  for (const v of g.outputs) msg(w, 12, (vw) => valueInfo(vw, v));
}

/** Serialises a ModelProto holding `g`, opset {@link OPSET} of the default domain. */
export function encodeModel(g: GraphProto): Uint8Array {
  const w = new Writer();
  int(w, 1, IR_VERSION);
  str(w, 2, 'o2o');
  msg(w, 7, (gw) => graph(gw, g));
  msg(w, 8, (o) => {
    str(o, 1, '');
    int(o, 2, OPSET);
  });
  return w.finish();
}
