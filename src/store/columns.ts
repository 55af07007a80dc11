/**
 * Column kernels over Arrow `Data`, one code path per Arrow type kind (not per field), for the types the
 * step schema uses: fixed-width numbers (Int32, Float32, Timestamp as BigInt64), Bool, Utf8/Binary,
 * List<fixed-width>, Dictionary<Utf8>.
 *
 * - `buildColumn(type, values)` builds a column from JS values (rows → batch).
 * - `gatherColumn(type, parts)` concatenates rows picked from several columns of the same type
 *   (partitioning an append, concatenating parts, and the sampler's minibatches).
 */
import { Data, DataType, makeData, makeVector, Type, Vector, type Dictionary, type List } from 'apache-arrow';

/** Rows picked from one column: all of them (`idx` null) or those at `idx` (in that order). */
export interface Pick {
  data: Data;
  idx: ArrayLike<number> | null;
}

const encoder = new TextEncoder();

function pickCount(p: Pick): number {
  return p.idx ? p.idx.length : p.data.length;
}

/** Validity bitmap for n rows (null when every row is valid). `valid(k)` says whether output row k is valid. */
function bitmap(n: number, valid: (k: number) => boolean): { bits: Uint8Array | undefined; nulls: number } {
  let nulls = 0;
  const bits = new Uint8Array((n + 7) >> 3);
  for (let k = 0; k < n; k++) {
    if (valid(k)) bits[k >> 3] |= 1 << (k & 7);
    else nulls++;
  }
  return { bits: nulls ? bits : undefined, nulls };
}

function gatherValidity(parts: Pick[], n: number): { bits: Uint8Array | undefined; nulls: number } {
  if (parts.every((p) => p.data.nullCount === 0)) return { bits: undefined, nulls: 0 };
  const owner: Data[] = [];
  const row: number[] = [];
  for (const p of parts) {
    const m = pickCount(p);
    for (let k = 0; k < m; k++) { owner.push(p.data); row.push(p.idx ? p.idx[k] : k); }
  }
  return bitmap(n, (k) => owner[k].getValid(row[k]));
}

/** Concatenates the picked rows of several columns of one type into one column. */
export function gatherColumn(type: DataType, parts: Pick[]): Data {
  const n = parts.reduce((s, p) => s + pickCount(p), 0);
  const { bits, nulls } = gatherValidity(parts, n);
  switch (type.typeId) {
    case Type.Int: case Type.Float: case Type.Timestamp: {
      const out = new (type.ArrayType as Int32ArrayConstructor)(n);
      let k = 0;
      for (const p of parts) {
        const src = p.data.values as Int32Array;
        if (!p.idx) { out.set(src.subarray(0, p.data.length), k); k += p.data.length; continue; }
        for (let j = 0; j < p.idx.length; j++) out[k++] = src[p.idx[j]];
      }
      return makeData({ type, length: n, nullCount: nulls, nullBitmap: bits, data: out } as never);
    }
    case Type.Bool: {
      const out = new Uint8Array((n + 7) >> 3);
      let k = 0;
      for (const p of parts) {
        const src = p.data.values as Uint8Array;
        const m = pickCount(p);
        for (let j = 0; j < m; j++, k++) {
          const i = p.data.offset + (p.idx ? p.idx[j] : j);
          if (src[i >> 3] & (1 << (i & 7))) out[k >> 3] |= 1 << (k & 7);
        }
      }
      return makeData({ type, length: n, nullCount: nulls, nullBitmap: bits, data: out } as never);
    }
    case Type.Utf8: case Type.Binary: case Type.List: {
      const offsets = new Int32Array(n + 1);
      let k = 0;
      for (const p of parts) {
        const off = p.data.valueOffsets as Int32Array;
        const m = pickCount(p);
        for (let j = 0; j < m; j++) {
          const i = p.idx ? p.idx[j] : j;
          offsets[k + 1] = offsets[k] + (off[i + 1] - off[i]);
          k++;
        }
      }
      const total = offsets[n];
      if (type.typeId === Type.List) {
        const childType = (type as List).valueType;
        const child = new (childType.ArrayType as Int32ArrayConstructor)(total);
        copyRanges(parts, child, (d) => d.children[0].values as Int32Array);
        const childData = makeData({ type: childType, length: total, data: child } as never);
        return makeData({ type, length: n, nullCount: nulls, nullBitmap: bits, valueOffsets: offsets, child: childData } as never);
      }
      const values = new Uint8Array(total);
      copyRanges(parts, values, (d) => d.values as Uint8Array);
      return makeData({ type, length: n, nullCount: nulls, nullBitmap: bits, valueOffsets: offsets, data: values } as never);
    }
    case Type.Dictionary: {
      // Dictionaries differ between batches: re-index every part against one merged dictionary.
      const words = new Map<string, number>();
      const indices = new Int32Array(n);
      let k = 0;
      for (const p of parts) {
        const dict = p.data.dictionary as Vector;
        const remap = new Int32Array(dict.length);
        for (let d = 0; d < dict.length; d++) {
          const w = dict.get(d) as string;
          let id = words.get(w);
          if (id === undefined) { id = words.size; words.set(w, id); }
          remap[d] = id;
        }
        const src = p.data.values as Int32Array;
        const m = pickCount(p);
        for (let j = 0; j < m; j++) indices[k++] = remap[src[p.idx ? p.idx[j] : j]];
      }
      const dictType = (type as Dictionary).dictionary;
      const dictionary = makeVector(buildColumn(dictType, [...words.keys()]));
      return makeData({ type, length: n, nullCount: nulls, nullBitmap: bits, data: indices, dictionary } as never);
    }
    default:
      throw new Error(`gatherColumn: the step schema has no column of type ${type}`);
  }
}

/** Copies each picked row's value range (by the part's offsets) into `out`, one after another. */
function copyRanges<A extends Uint8Array | Int32Array>(parts: Pick[], out: A, valuesOf: (d: Data) => A): void {
  let pos = 0;
  for (const p of parts) {
    const off = p.data.valueOffsets as Int32Array;
    const src = valuesOf(p.data);
    if (!p.idx) {
      const a = off[0];
      const b = off[p.data.length];
      out.set(src.subarray(a, b), pos);
      pos += b - a;
      continue;
    }
    for (let j = 0; j < p.idx.length; j++) {
      const i = p.idx[j];
      const a = off[i];
      const b = off[i + 1];
      if (b - a === 1) out[pos] = src[a];
      else out.set(src.subarray(a, b), pos);
      pos += b - a;
    }
  }
}

/** Builds a column of `type` from JS values (null for a null row). Values must already be valid. */
export function buildColumn(type: DataType, values: readonly unknown[]): Data {
  const n = values.length;
  const { bits, nulls } = bitmap(n, (k) => values[k] !== null && values[k] !== undefined);
  switch (type.typeId) {
    case Type.Int: case Type.Float: {
      const out = new (type.ArrayType as Int32ArrayConstructor)(n);
      for (let k = 0; k < n; k++) out[k] = (values[k] as number | null) ?? 0;
      return makeData({ type, length: n, nullCount: nulls, nullBitmap: bits, data: out } as never);
    }
    case Type.Timestamp: {
      const out = new BigInt64Array(n);
      for (let k = 0; k < n; k++) out[k] = BigInt((values[k] as number | null) ?? 0);
      return makeData({ type, length: n, nullCount: nulls, nullBitmap: bits, data: out } as never);
    }
    case Type.Bool: {
      const out = new Uint8Array((n + 7) >> 3);
      for (let k = 0; k < n; k++) if (values[k]) out[k >> 3] |= 1 << (k & 7);
      return makeData({ type, length: n, nullCount: nulls, nullBitmap: bits, data: out } as never);
    }
    case Type.Utf8: case Type.Binary: {
      const chunks = values.map((v) => (v === null || v === undefined ? new Uint8Array(0)
        : typeof v === 'string' ? encoder.encode(v) : (v as Uint8Array)));
      const offsets = new Int32Array(n + 1);
      for (let k = 0; k < n; k++) offsets[k + 1] = offsets[k] + chunks[k].length;
      const data = new Uint8Array(offsets[n]);
      for (let k = 0; k < n; k++) data.set(chunks[k], offsets[k]);
      return makeData({ type, length: n, nullCount: nulls, nullBitmap: bits, valueOffsets: offsets, data } as never);
    }
    case Type.List: {
      const childType = (type as List).valueType;
      const offsets = new Int32Array(n + 1);
      for (let k = 0; k < n; k++) offsets[k + 1] = offsets[k] + (((values[k] as ArrayLike<number> | null)?.length) ?? 0);
      const child = new (childType.ArrayType as Int32ArrayConstructor)(offsets[n]);
      for (let k = 0; k < n; k++) {
        const v = values[k] as ArrayLike<number> | null;
        if (v) child.set(v, offsets[k]);
      }
      const childData = makeData({ type: childType, length: offsets[n], data: child } as never);
      return makeData({ type, length: n, nullCount: nulls, nullBitmap: bits, valueOffsets: offsets, child: childData } as never);
    }
    case Type.Dictionary: {
      const words = new Map<string, number>();
      const indices = new Int32Array(n);
      for (let k = 0; k < n; k++) {
        const w = values[k] as string | null;
        if (w === null || w === undefined) continue;
        let id = words.get(w);
        if (id === undefined) { id = words.size; words.set(w, id); }
        indices[k] = id;
      }
      const dictionary = makeVector(buildColumn((type as Dictionary).dictionary, [...words.keys()]));
      return makeData({ type, length: n, nullCount: nulls, nullBitmap: bits, data: indices, dictionary } as never);
    }
    default:
      throw new Error(`buildColumn: the step schema has no column of type ${type}`);
  }
}
