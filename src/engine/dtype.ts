/**
 * Element types, dims and host tensors (plain data that crosses worker boundaries and files).
 */
export type DType = 'float32' | 'float64' | 'float16' | 'int64' | 'int32' | 'uint8' | 'bool';

/** A dimension: a fixed size, or a name for a size known only at run time (same name = same size). */
export type Dim = number | string;

export type HostData = Float32Array | Float64Array | Uint16Array | BigInt64Array | Int32Array | Uint8Array;

/** A tensor's values on the host. `data` is row-major; bool is stored as Uint8Array of 0/1. */
export interface HostTensor {
  dtype: DType;
  shape: number[];
  data: HostData;
}

export const DTYPES: Record<DType, { onnx: number; bytes: number; st: string; array: new (n: number) => HostData }> = {
  float32: { onnx: 1, bytes: 4, st: 'F32', array: Float32Array },
  uint8: { onnx: 2, bytes: 1, st: 'U8', array: Uint8Array },
  int32: { onnx: 6, bytes: 4, st: 'I32', array: Int32Array },
  int64: { onnx: 7, bytes: 8, st: 'I64', array: BigInt64Array },
  bool: { onnx: 9, bytes: 1, st: 'BOOL', array: Uint8Array },
  float16: { onnx: 10, bytes: 2, st: 'F16', array: Uint16Array },
  float64: { onnx: 11, bytes: 8, st: 'F64', array: Float64Array },
};

export function isFloat(d: DType): boolean {
  return d === 'float32' || d === 'float64' || d === 'float16';
}

export function numel(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** A host tensor from plain numbers (int64 values are converted to BigInt). */
export function hostTensor(dtype: DType, shape: number[], values?: ArrayLike<number> | ArrayLike<bigint>): HostTensor {
  const n = numel(shape);
  const data = new DTYPES[dtype].array(n);
  if (values) {
    if (values.length !== n) throw new Error(`hostTensor: shape [${shape}] holds ${n} values, got ${values.length}`);
    if (data instanceof BigInt64Array) for (let i = 0; i < n; i++) data[i] = BigInt(values[i]);
    else for (let i = 0; i < n; i++) (data as Float64Array)[i] = Number(values[i]);
  }
  return { dtype, shape, data };
}

/** The little-endian bytes of a host tensor (a view, no copy). */
export function tensorBytes(t: HostTensor): Uint8Array {
  return new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
}

export function formatShape(s: readonly Dim[]): string {
  return `[${s.join(', ')}]`;
}
