/**
 * Decoding of the column chunks of o2o's part files straight into Arrow buffers, in JavaScript, for the
 * page layouts o2o's writer produces (data pages v1; PLAIN or dictionary encoding; RLE levels; zstd or no
 * compression) and the step schema's types. `decodeColumns` throws `Unsupported` for any other layout, and
 * the caller then decodes the file with parquet-wasm: the results are the same, bit for bit (test/store/decode.test.ts).
 *
 * Parquet encodings: https://github.com/apache/parquet-format/blob/master/Encodings.md
 */
import fs from 'node:fs';
import { Type, makeData, makeVector, type Data, type DataType, type Dictionary, type List } from 'apache-arrow';
import { STEP_FIELDS } from './schema.ts';
import { sameType } from './validate.ts';
import { Codec, PhysicalType, readFooter, type ColumnChunk, type Footer, type Leaf } from './footer.ts';
import { ThriftReader, type ThriftStruct } from './thrift.ts';
import { storedBlocks, unzstd, unzstdInto, unzstdMany } from './zstd.ts';

/** A layout the JavaScript decoder does not handle (the file is then read with parquet-wasm). */
export class Unsupported extends Error {}

/**
 * One decoded column as plain buffers (transferable between threads). `values`: the numbers (Int32,
 * Float32, Timestamp as BigInt64), the bytes (Utf8, Binary), the list elements (List), the bits (Bool), or
 * the indices into `dictionary` (Dictionary). Rows: `length`; `validity`: one bit per row, absent when no
 * row is null.
 */
export interface ColumnBuffers {
  length: number;
  nullCount: number;
  validity?: Uint8Array;
  offsets?: Int32Array;
  values: Uint8Array | Int32Array | Float32Array | BigInt64Array;
  dictionary?: ColumnBuffers;
}

export interface DecodedColumns { numRows: number; columns: ColumnBuffers[] }

const Encoding = { PLAIN: 0, PLAIN_DICTIONARY: 2, RLE: 3, RLE_DICTIONARY: 8 } as const;
const PageType = { DATA: 0, DICTIONARY: 2 } as const;

/** Decodes `count` values of `width` bits of the RLE / bit-packed hybrid encoding at buf[pos..end). */
function hybrid(buf: Uint8Array, pos: number, end: number, width: number, count: number): Int32Array {
  const out = new Int32Array(count);
  const bytes = (width + 7) >> 3;
  const mask = width === 32 ? -1 : (1 << width) - 1;
  let k = 0;
  while (k < count) {
    if (pos >= end) throw new Error(`parquet: levels or indices end after ${k} of ${count} values`);
    let h = 0;
    let mul = 1;
    for (;;) { const b = buf[pos++]; h += (b & 0x7f) * mul; if (b < 0x80) break; mul *= 128; }
    if (h & 1) {
      const n = Math.min((h >>> 1) * 8, count - k);
      const groupEnd = pos + (h >>> 1) * width;
      if (groupEnd > end) throw new Error('parquet: bit-packed run past the end of its data');
      if (width <= 16) {
        // A bit accumulator: `acc` holds `nb` unread bits (nb < width + 8 <= 24, so it stays a small integer).
        let acc = 0;
        let nb = 0;
        let p = pos;
        for (let i = 0; i < n; i++) {
          while (nb < width) { acc |= buf[p++] << nb; nb += 8; }
          out[k++] = acc & mask;
          acc >>>= width;
          nb -= width;
        }
      } else {
        let bit = pos * 8;
        for (let i = 0; i < n; i++, bit += width) {
          const b = bit >>> 3;
          const shift = bit & 7;
          let v = 0;
          for (let j = 0; j < 5 && b + j < groupEnd; j++) v += buf[b + j] * 2 ** (8 * j);
          out[k++] = Math.floor(v / 2 ** shift) % 2 ** width;
        }
      }
      pos = groupEnd;
    } else {
      let v = 0;
      for (let i = 0; i < bytes; i++) v |= buf[pos + i] << (8 * i);
      pos += bytes;
      const n = Math.min(h >>> 1, count - k);
      out.fill(v, k, k + n);
      k += n;
    }
  }
  return out;
}

/** Whether the hybrid encoding at buf[pos..end) holds `count` times `value` in RLE runs only. */
function allEqual(buf: Uint8Array, pos: number, end: number, width: number, count: number, value: number): boolean {
  const bytes = (width + 7) >> 3;
  let k = 0;
  while (k < count) {
    if (pos >= end) return false;
    let h = 0;
    let mul = 1;
    for (;;) { const b = buf[pos++]; h += (b & 0x7f) * mul; if (b < 0x80) break; mul *= 128; }
    if (h & 1) return false;
    let v = 0;
    for (let i = 0; i < bytes; i++) v |= buf[pos + i] << (8 * i);
    pos += bytes;
    if (v !== value) return false;
    k += h >>> 1;
  }
  return true;
}

const text = new TextDecoder();
const encoder = new TextEncoder();
const bufferCopy = Buffer.prototype.copy;

/**
 * Copies src[start..start+len) to dst[at..], by the means measured fastest for its length (a byte loop up
 * to ~40 bytes; above, Buffer's copy, a little faster than `set(subarray)` here: 15.5 vs 17.3 ms per 100k
 * copies of 150 bytes).
 */
function copyBytes(src: Uint8Array, start: number, len: number, dst: Uint8Array, at: number): void {
  if (len < 40) for (let b = 0; b < len; b++) dst[at + b] = src[start + b];
  else bufferCopy.call(src, dst, at, start, start + len);
}

/** Sets bits [from, to) of a validity bitmap. */
function setBits(bits: Uint8Array, from: number, to: number): void {
  for (; from < to && (from & 7); from++) bits[from >> 3] |= 1 << (from & 7);
  const whole = (to - from) >> 3;
  bits.fill(0xff, from >> 3, (from >> 3) + whole);
  for (from += whole * 8; from < to; from++) bits[from >> 3] |= 1 << (from & 7);
}
const bitWidth = (max: number) => (max === 0 ? 0 : 32 - Math.clz32(max));

/** What the decoder fills for one column: flat (one value per row) or a list of fixed-width values. */
type Kind = 'bytes' | 'dict-words' | 'i32' | 'f32' | 'i64' | 'bool' | 'list-i32' | 'list-f32';

function kindOf(type: DataType): Kind {
  switch (type.typeId) {
    case Type.Utf8: case Type.Binary: return 'bytes';
    case Type.Dictionary: return 'dict-words';
    case Type.Int: return 'i32';
    case Type.Float: return 'f32';
    case Type.Timestamp: return 'i64';
    case Type.Bool: return 'bool';
    case Type.List: return (type as List).valueType.typeId === Type.Int ? 'list-i32' : 'list-f32';
    default: throw new Unsupported(`no decoder for ${type}`);
  }
}

const PHYSICAL: Record<Kind, number> = {
  'bytes': PhysicalType.BYTE_ARRAY, 'dict-words': PhysicalType.BYTE_ARRAY, 'i32': PhysicalType.INT32, 'f32': PhysicalType.FLOAT,
  'i64': PhysicalType.INT64, 'bool': PhysicalType.BOOLEAN, 'list-i32': PhysicalType.INT32, 'list-f32': PhysicalType.FLOAT,
};
const WIDTH: Partial<Record<Kind, number>> = { 'i32': 4, 'f32': 4, 'i64': 8, 'list-i32': 4, 'list-f32': 4 };

/** Growable byte buffer. */
class Bytes {
  buf: Uint8Array;
  len = 0;
  // Not zero-filled: every byte below `len` is written before it is read.
  constructor(cap: number) { this.buf = Buffer.allocUnsafeSlow(Math.max(cap, 64)); }
  reserve(n: number): void {
    if (this.len + n <= this.buf.length) return;
    const next = Buffer.allocUnsafeSlow(Math.max(this.len + n, this.buf.length * 2));
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }
}

/** A decoded dictionary page: fixed-width values as 32-bit words, or byte strings as (start, length) in `data`. */
interface Dict {
  n: number; data: Uint8Array; words?: Int32Array; starts?: Int32Array; lens?: Int32Array; ids?: Int32Array;
  /** Views of the byte strings, made on first use (a view per copied value costs more than the copy). */
  views?: Array<Uint8Array | undefined>;
}

/** Bytes before a list column's values, where the levels of its first page can land (see inPlaceListPage). */
const LIST_HEADROOM = 16 << 10;

/** The state of one column being decoded across pages and row groups. */
class Column {
  readonly width: number;
  readonly list: boolean;
  rows = 0;
  nulls = 0;
  readonly validity: Uint8Array;
  readonly offsets?: Int32Array;
  /** Fixed-width values (flat: one slot per row; list: the elements) as bytes and as 32-bit words. */
  fixed?: Uint8Array;
  fixed32?: Int32Array;
  /** The buffer under `fixed`: for lists, LIST_HEADROOM bytes more in front (see inPlaceListPage). */
  whole?: Uint8Array;
  elems = 0;
  bytes?: Bytes;
  bits?: Uint8Array;
  words?: Map<string, number>;
  wordIds?: Int32Array;

  constructor(readonly kind: Kind, readonly numRows: number, readonly maxDef: number, numValues: number, uncompressed: number) {
    this.width = WIDTH[kind] ?? 0;
    this.list = kind === 'list-i32' || kind === 'list-f32';
    this.validity = new Uint8Array((numRows + 7) >> 3);
    if (kind === 'bytes' || this.list) this.offsets = new Int32Array(numRows + 1);
    if (this.width) {
      // Not zero-filled (fresh zeroed memory costs a page fault per 4 KiB): every slot is written, nulls as 0;
      // list elements past the ones present are cut off in finish().
      const bytes = (this.list ? numValues : numRows) * this.width;
      this.whole = Buffer.allocUnsafeSlow((this.list ? LIST_HEADROOM : 0) + bytes);
      this.fixed = this.whole.subarray(this.whole.length - bytes);
      this.fixed32 = new Int32Array(this.fixed.buffer, this.fixed.byteOffset, bytes >> 2);
    }
    if (kind === 'bytes') this.bytes = new Bytes(uncompressed);
    if (kind === 'bool') this.bits = new Uint8Array((numRows + 7) >> 3);
    if (kind === 'dict-words') { this.words = new Map(); this.wordIds = new Int32Array(numRows); }
  }

  /** Reads `n` PLAIN values of this column's physical type at page[pos..end) into a dictionary. */
  plainDict(page: Uint8Array, pos: number, end: number, n: number): Dict {
    if (this.kind === 'bool') throw new Unsupported('dictionary-encoded BOOLEAN');
    if (this.width) {
      if (pos + n * this.width > end) throw new Error('parquet: dictionary page too short');
      const words = new Int32Array(n * this.width / 4);
      new Uint8Array(words.buffer).set(page.subarray(pos, pos + n * this.width));
      return { n, data: page, words };
    }
    const starts = new Int32Array(n);
    const lens = new Int32Array(n);
    const view = new DataView(page.buffer, page.byteOffset, page.length);
    for (let i = 0; i < n; i++) {
      if (pos + 4 > end) throw new Error('parquet: dictionary page too short');
      const len = view.getUint32(pos, true);
      starts[i] = pos + 4; lens[i] = len; pos += 4 + len;
      if (pos > end) throw new Error('parquet: dictionary page too short');
    }
    return { n, data: page, starts, lens };
  }

  /**
   * Appends the values of one data page: `defs` (null when every value is present), `reps` for lists
   * (where their levels lie in the page).
   */
  page(page: Uint8Array, pos: number, end: number, n: number, defs: Int32Array | null, reps: [number, number] | null, encoding: number, dict: Dict | null): void {
    let present = n;
    const maxDef = this.maxDef;
    if (defs) { present = 0; for (let i = 0; i < n; i++) if (defs[i] === maxDef) present++; }
    // Values: as (dictionary index) or (PLAIN position), in order of the present entries.
    let idx: Int32Array | null = null;
    if (encoding === Encoding.PLAIN_DICTIONARY || encoding === Encoding.RLE_DICTIONARY) {
      if (!dict) throw new Error('parquet: dictionary-encoded page without a dictionary page');
      idx = hybrid(page, pos + 1, end, page[pos], present);
      let top = 0;
      for (let i = 0; i < present; i++) if (idx[i] > top) top = idx[i];
      if (present && top >= dict.n) throw new Error(`parquet: dictionary index ${top} out of ${dict.n}`);
    } else if (encoding !== Encoding.PLAIN) {
      throw new Unsupported(`encoding ${encoding}`);
    }
    if (this.list) {
      if (defs) this.listPage(page, pos, end, n, defs, hybrid(page, reps![0], reps![1], 1, n), idx, dict);
      else this.denseListPage(page, pos, end, n, reps!, idx, dict);
    }
    else this.flatPage(page, pos, end, n, defs, idx, dict);
  }

  private listPage(page: Uint8Array, pos: number, end: number, n: number, defs: Int32Array, reps: Int32Array, idx: Int32Array | null, dict: Dict | null): void {
    const w = this.width;
    const offsets = this.offsets!;
    const first = this.elems;
    const maxDef = this.maxDef;
    const validity = this.validity;
    let rows = this.rows;
    let elems = this.elems;
    for (let i = 0; i < n; i++) {
      if (reps[i] === 0) {
        if (rows >= this.numRows) throw new Error(`parquet: more than ${this.numRows} rows`);
        const r = rows++;
        offsets[rows] = elems;
        if (defs[i] === 0) this.nulls++;
        else validity[r >> 3] |= 1 << (r & 7);
      }
      if (defs[i] === maxDef) offsets[rows] = ++elems;
    }
    this.rows = rows;
    this.elems = elems;
    this.listValues(page, pos, end, first, this.elems - first, idx, dict);
  }

  /**
   * A list page whose entries all hold a value: rows start where the repetition level is 0, read run by run
   * (a run of 1s, the inside of a list, costs one step).
   */
  private denseListPage(page: Uint8Array, pos: number, end: number, n: number, reps: [number, number], idx: Int32Array | null, dict: Dict | null): void {
    const offsets = this.offsets!;
    const validity = this.validity;
    const first = this.elems;
    let rows = this.rows;
    const maxRows = this.numRows;
    let q = reps[0];
    let k = 0;
    while (k < n) {
      if (q >= reps[1]) throw new Error(`parquet: repetition levels end after ${k} of ${n} values`);
      let h = 0;
      let mul = 1;
      for (;;) { const b = page[q++]; h += (b & 0x7f) * mul; if (b < 0x80) break; mul *= 128; }
      if (h & 1) {
        const m = Math.min((h >>> 1) * 8, n - k);
        for (let i = 0; i < m; i++) {
          if (((page[q + (i >> 3)] >> (i & 7)) & 1) !== 0) continue;
          if (rows >= maxRows) throw new Error(`parquet: more than ${maxRows} rows`);
          offsets[rows++] = first + k + i;
        }
        q += h >>> 1;
        k += m;
      } else {
        const m = Math.min(h >>> 1, n - k);
        if (page[q] === 0) {
          if (rows + m > maxRows) throw new Error(`parquet: more than ${maxRows} rows`);
          for (let i = 0; i < m; i++) offsets[rows++] = first + k + i;
        }
        q += 1;
        k += m;
      }
    }
    if (rows === 0 || (this.rows === 0 && offsets[0] !== 0)) throw new Error('parquet: a list page starts inside a row');
    setBits(validity, this.rows, rows);
    this.rows = rows;
    this.elems = first + n;
    offsets[rows] = this.elems;
    this.listValues(page, pos, end, first, n, idx, dict);
  }

  /** Copies `present` list elements (PLAIN at page[pos..], or by dictionary index) to element `first` on. */
  private listValues(page: Uint8Array, pos: number, end: number, first: number, present: number, idx: Int32Array | null, dict: Dict | null): void {
    const w = this.width;
    if ((first + present) * w > this.fixed!.length) throw new Error('parquet: more list elements than the chunk declares');
    // Already in place (inPlaceListPage).
    if (!idx && page.buffer === this.fixed!.buffer && page.byteOffset + pos === this.fixed!.byteOffset + first * w) return;
    if (idx) {
      const words = dict!.words!;
      const out = this.fixed32!;
      const k = w / 4;
      for (let v = 0; v < present; v++) for (let j = 0; j < k; j++) out[(first + v) * k + j] = words[idx[v] * k + j];
    } else {
      if (pos + present * w > end) throw new Error('parquet: data page too short');
      this.fixed!.set(page.subarray(pos, pos + present * w), first * w);
    }
  }

  private flatPage(page: Uint8Array, pos: number, end: number, n: number, defs: Int32Array | null, idx: Int32Array | null, dict: Dict | null): void {
    if (this.rows + n > this.numRows) throw new Error(`parquet: more than ${this.numRows} rows`);
    const r0 = this.rows;
    this.rows += n;
    const maxDef = this.maxDef;
    const validity = this.validity;
    if (!defs) setBits(validity, r0, r0 + n);
    else {
      for (let i = 0; i < n; i++) {
        const r = r0 + i;
        if (defs[i] === maxDef) validity[r >> 3] |= 1 << (r & 7);
        else this.nulls++;
      }
    }
    // One loop per kind; `v` counts the values present (nulls have none in the page).
    let v = 0;
    switch (this.kind) {
      case 'i32': case 'f32': case 'i64': {
        const w = this.width;
        if (!defs && !idx) {
          if (pos + n * w > end) throw new Error('parquet: data page too short');
          this.fixed!.set(page.subarray(pos, pos + n * w), r0 * w);
          return;
        }
        if (idx) {
          // Indices were checked against the dictionary's size.
          const words = dict!.words!;
          const out = this.fixed32!;
          if (w === 4 && !defs) for (let i = 0; i < n; i++) out[r0 + i] = words[idx[i]];
          else {
            const k = w >> 2;
            for (let i = 0; i < n; i++) {
              const r = (r0 + i) * k;
              if (defs && defs[i] !== maxDef) { for (let j = 0; j < k; j++) out[r + j] = 0; continue; }
              const e = idx[v++] * k;
              for (let j = 0; j < k; j++) out[r + j] = words[e + j];
            }
          }
          return;
        }
        const fixed = this.fixed!;
        for (let i = 0; i < n; i++) {
          const r = (r0 + i) * w;
          if (defs![i] !== maxDef) { fixed.fill(0, r, r + w); continue; }
          const s = pos + v * w;
          if (s + w > end) throw new Error('parquet: data page too short');
          for (let b = 0; b < w; b++) fixed[r + b] = page[s + b];
          v++;
        }
        return;
      }
      case 'bool': {
        if (idx) throw new Unsupported('dictionary-encoded BOOLEAN');
        const bits = this.bits!;
        for (let i = 0; i < n; i++) {
          if (defs && defs[i] !== maxDef) continue;
          const r = r0 + i;
          const bitPos = pos * 8 + v;
          if ((bitPos >> 3) >= end) throw new Error('parquet: data page too short');
          if (page[bitPos >> 3] & (1 << (bitPos & 7))) bits[r >> 3] |= 1 << (r & 7);
          v++;
        }
        return;
      }
      case 'bytes': {
        const out = this.bytes!;
        const offsets = this.offsets!;
        if (idx) {
          // The page's bytes are known from the dictionary: one reservation, then the copies.
          const { data, starts, lens } = dict!;
          const views = (dict!.views ??= new Array(dict!.n));
          let total = 0;
          for (let e = 0; e < idx.length; e++) total += lens![idx[e]];
          if (out.len + total > 0x7fffffff) throw new Unsupported('a column over 2 GiB');
          out.reserve(total);
          const buf = out.buf;
          let at = out.len;
          for (let i = 0; i < n; i++) {
            if (!defs || defs[i] === maxDef) {
              const e = idx[v++];
              const len = lens![e];
              if (len < 40) copyBytes(data, starts![e], len, buf, at);
              else buf.set(views[e] ??= data.subarray(starts![e], starts![e] + len), at);
              at += len;
            }
            offsets[r0 + i + 1] = at;
          }
          out.len = at;
          return;
        }
        const view = new DataView(page.buffer, page.byteOffset, page.length);
        for (let i = 0; i < n; i++) {
          if (!defs || defs[i] === maxDef) {
            if (pos + 4 > end) throw new Error('parquet: data page too short');
            const len = view.getUint32(pos, true);
            const s = pos + 4;
            pos = s + len;
            if (pos > end) throw new Error('parquet: data page too short');
            out.reserve(len);
            copyBytes(page, s, len, out.buf, out.len);
            out.len += len;
            if (out.len > 0x7fffffff) throw new Unsupported('a column over 2 GiB');
          }
          offsets[r0 + i + 1] = out.len;
        }
        return;
      }
      case 'dict-words': {
        const view = new DataView(page.buffer, page.byteOffset, page.length);
        // Each dictionary entry is decoded once (word id -1: not yet seen).
        const ids = idx ? (dict!.ids ??= new Int32Array(dict!.n).fill(-1)) : null;
        const wordIds = this.wordIds!;
        for (let i = 0; i < n; i++) {
          if (defs && defs[i] !== maxDef) continue;
          const r = r0 + i;
          if (ids) {
            const e = idx![v];
            if (ids[e] < 0) ids[e] = this.wordId(dict!.data, dict!.starts![e], dict!.lens![e]);
            wordIds[r] = ids[e];
          } else {
            if (pos + 4 > end) throw new Error('parquet: data page too short');
            const len = view.getUint32(pos, true);
            if (pos + 4 + len > end) throw new Error('parquet: data page too short');
            wordIds[r] = this.wordId(page, pos + 4, len);
            pos += 4 + len;
          }
          v++;
        }
        return;
      }
      default: throw new Unsupported(this.kind);
    }
  }

  /** Appends a PLAIN page of byte strings (Utf8, Binary) read in place from a stored zstd frame. */
  storedBytesPage(st: StoredPage, n: number): void {
    let defs: Int32Array | null = null;
    if (this.maxDef) {
      const len = st.u32();
      const lv = new Uint8Array(len);
      st.copy(lv, 0, len);
      const w = bitWidth(this.maxDef);
      if (!allEqual(lv, 0, len, w, n, this.maxDef)) defs = hybrid(lv, 0, len, w, n);
    }
    if (this.rows + n > this.numRows) throw new Error(`parquet: more than ${this.numRows} rows`);
    const out = this.bytes!;
    for (let i = 0; i < n; i++) {
      const r = this.rows++;
      if (!defs || defs[i] === this.maxDef) {
        this.validity[r >> 3] |= 1 << (r & 7);
        const len = st.u32();
        out.reserve(len);
        st.copy(out.buf, out.len, len);
        out.len += len;
        if (out.len > 0x7fffffff) throw new Unsupported('a column over 2 GiB');
      } else {
        this.nulls++;
      }
      this.offsets![r + 1] = out.len;
    }
  }

  /** The id of a word (a Dictionary column's value) in this column's dictionary, added when new. */
  private wordId(src: Uint8Array, start: number, len: number): number {
    const word = text.decode(src.subarray(start, start + len));
    let id = this.words!.get(word);
    if (id === undefined) { id = this.words!.size; this.words!.set(word, id); }
    return id;
  }

  finish(): ColumnBuffers {
    if (this.rows !== this.numRows) throw new Error(`parquet: expected ${this.numRows} rows, got ${this.rows}`);
    const validity = this.nulls ? this.validity : undefined;
    const base = { length: this.numRows, nullCount: this.nulls, validity };
    switch (this.kind) {
      case 'i32': case 'list-i32': return { ...base, offsets: this.offsets, values: new Int32Array(this.fixed!.buffer, this.fixed!.byteOffset, this.list ? this.elems : this.numRows) };
      case 'f32': case 'list-f32': return { ...base, offsets: this.offsets, values: new Float32Array(this.fixed!.buffer, this.fixed!.byteOffset, this.list ? this.elems : this.numRows) };
      case 'i64': return { ...base, values: new BigInt64Array(this.fixed!.buffer, this.fixed!.byteOffset, this.numRows) };
      case 'bool': return { ...base, values: this.bits! };
      case 'bytes': {
        const b = this.bytes!;
        // An exact copy when the buffer grew well past the data (it crosses threads whole).
        const values = b.len < b.buf.length / 2 ? new Uint8Array(b.buf.subarray(0, b.len)) : b.buf.subarray(0, b.len);
        return { ...base, offsets: this.offsets, values };
      }
      case 'dict-words': {
        const words = [...this.words!.keys()].map((w) => encoder.encode(w));
        const offsets = new Int32Array(words.length + 1);
        words.forEach((w, i) => { offsets[i + 1] = offsets[i] + w.length; });
        const data = new Uint8Array(offsets[words.length]);
        words.forEach((w, i) => data.set(w, offsets[i]));
        return { ...base, values: this.wordIds!, dictionary: { length: words.length, nullCount: 0, offsets, values: data } };
      }
    }
  }
}

/**
 * A page held by the raw blocks of a zstd frame, read in place: byte strings go from the file's bytes
 * straight to the column (no decompressed copy of the page in between).
 */
class StoredPage {
  private b = 0;
  private off = 0;
  private readonly word = new Uint8Array(4);
  constructor(private readonly src: Uint8Array, private readonly blocks: Array<[number, number, boolean]>) {}

  /** Copies the next `n` bytes of the page to dst[at..]. */
  copy(dst: Uint8Array, at: number, n: number): void {
    while (n > 0) {
      const blk = this.blocks[this.b];
      if (!blk) throw new Error('parquet: data page too short');
      const take = Math.min(n, blk[1] - this.off);
      const s = blk[0] + this.off;
      copyBytes(this.src, s, take, dst, at);
      at += take; n -= take; this.off += take;
      if (this.off === blk[1]) { this.b++; this.off = 0; }
    }
  }

  u32(): number {
    this.copy(this.word, 0, 4);
    return (this.word[0] | (this.word[1] << 8) | (this.word[2] << 16) | (this.word[3] << 24)) >>> 0;
  }
}

// Reused between row groups and pages (one decode at a time per thread): the row group's chunks as read,
// large pages decompressed, and the values a list page's levels land over (inPlaceListPage).
let groupScratch = Buffer.allocUnsafeSlow(1 << 20);
let pageScratch = new Uint8Array(1 << 20);
let keptScratch = new Uint8Array(64 << 10);
/** Compressed pages up to this size are decompressed ahead, into one buffer per row group. */
const SMALL_PAGE = 128 << 10;

/** One page of a column chunk: its header, its bytes as stored, and (when decompressed ahead) its bytes. */
interface PageRef { h: ThriftStruct; usize: number; body: Uint8Array; page?: Uint8Array }

function pagesOf(chunk: Uint8Array, meta: ColumnChunk): PageRef[] {
  if (meta.codec !== Codec.ZSTD && meta.codec !== Codec.UNCOMPRESSED) throw new Unsupported(`codec ${meta.codec}`);
  const out: PageRef[] = [];
  let pos = 0;
  while (pos < chunk.length) {
    const r = new ThriftReader(chunk, pos);
    const h = r.struct();
    pos = r.pos + (h[3] as number);
    if (pos > chunk.length) throw new Error('parquet: page runs past its column chunk');
    out.push({ h, usize: h[2] as number, body: chunk.subarray(r.pos, pos) });
  }
  return out;
}

/** Decodes one column chunk's pages into `col`. */
function decodeChunk(pages: PageRef[], meta: ColumnChunk, leaf: Leaf, col: Column): void {
  let dict: Dict | null = null;
  for (const { h, usize, body, page: ahead } of pages) {
    if (h[1] === PageType.DICTIONARY) {
      const dh = h[7] as ThriftStruct;
      if (dh[2] !== Encoding.PLAIN && dh[2] !== Encoding.PLAIN_DICTIONARY) throw new Unsupported(`dictionary encoding ${dh[2]}`);
      // Not in a scratch buffer: the dictionary outlives the next page.
      const page = ahead ?? (meta.codec === Codec.ZSTD ? unzstd(body, usize) : body);
      if (page.length !== usize) throw new Error(`parquet: page holds ${page.length} bytes, header says ${usize}`);
      dict = col.plainDict(page, 0, page.length, dh[1] as number);
      continue;
    }
    if (!ahead && h[1] === PageType.DATA && meta.codec === Codec.ZSTD && col.kind === 'bytes' && leaf.maxRep === 0) {
      const dh = h[5] as ThriftStruct;
      const blocks = dh[2] === Encoding.PLAIN && (leaf.maxDef === 0 || dh[3] === Encoding.RLE) ? storedBlocks(body) : null;
      if (blocks && rawBytes(blocks) === usize) {
        col.storedBytesPage(new StoredPage(body, blocks), dh[1] as number);
        continue;
      }
    }
    if (!ahead && h[1] === PageType.DATA && meta.codec === Codec.ZSTD && col.list && inPlaceListPage(col, body, usize, h[5] as ThriftStruct, leaf)) continue;
    if (usize > pageScratch.length) pageScratch = new Uint8Array(Math.max(usize, 2 * pageScratch.length));
    const page = ahead ?? (meta.codec === Codec.ZSTD ? unzstd(body, usize, pageScratch) : body);
    if (page.length !== usize) throw new Error(`parquet: page holds ${page.length} bytes, header says ${usize}`);
    if (h[1] !== PageType.DATA) throw new Unsupported(`page type ${h[1]}`);
    dataPage(col, page, h[5] as ThriftStruct, leaf, dict);
  }
}

/** The bytes of a zstd frame's blocks when all are raw (-1 when one is RLE). */
function rawBytes(blocks: Array<[number, number, boolean]>): number {
  let t = 0;
  for (const b of blocks) { if (b[2]) return -1; t += b[1]; }
  return t;
}

/**
 * A level section of a data page at page[p..]: a 4-byte length, then the hybrid encoding; its [start, end)
 * (null when the levels' maximum is 0: no section).
 */
function levelRegion(page: Uint8Array, p: number, max: number, encoding: unknown): [number, number] | null {
  if (max === 0) return null;
  if (encoding !== Encoding.RLE) throw new Unsupported(`level encoding ${encoding}`);
  const len = page[p] | (page[p + 1] << 8) | (page[p + 2] << 16) | (page[p + 3] << 24);
  if (len < 0 || p + 4 + len > page.length) throw new Error('parquet: levels run past their page');
  return [p + 4, p + 4 + len];
}

/** Decodes one data page (v1, decompressed) into `col`. */
function dataPage(col: Column, page: Uint8Array, dh: ThriftStruct, leaf: Leaf, dict: Dict | null): void {
  const n = dh[1] as number;
  // Definition levels all at the maximum (no null, no empty list) are not expanded: `defs` stays null.
  const reps = levelRegion(page, 0, leaf.maxRep, dh[4]);
  const defRegion = levelRegion(page, reps ? reps[1] : 0, leaf.maxDef, dh[3]);
  const p = defRegion ? defRegion[1] : reps ? reps[1] : 0;
  const defWidth = bitWidth(leaf.maxDef);
  const defs = defRegion && !allEqual(page, defRegion[0], defRegion[1], defWidth, n, leaf.maxDef)
    ? hybrid(page, defRegion[0], defRegion[1], defWidth, n) : null;
  col.page(page, p, page.length, n, defs, reps, dh[2] as number, dict);
}

/**
 * Decompresses a PLAIN list page straight into the column: placed so that its values land where they
 * belong (when every entry holds a value, the page is `levels` bytes of levels then n values), its levels
 * over the end of the values before, which are kept aside and put back. No copy of the values is made.
 * Returns false, having done nothing, when the page cannot be placed so.
 */
function inPlaceListPage(col: Column, body: Uint8Array, usize: number, dh: ThriftStruct, leaf: Leaf): boolean {
  const n = dh[1] as number;
  const levels = usize - n * col.width;
  const whole = col.whole!;
  const at = col.fixed!.byteOffset - whole.byteOffset + col.elems * col.width;
  if (dh[2] !== Encoding.PLAIN || levels < 0 || levels > at || at + n * col.width > whole.length) return false;
  if (levels > keptScratch.length) keptScratch = new Uint8Array(Math.max(levels, 2 * keptScratch.length));
  const kept = keptScratch.subarray(0, levels);
  kept.set(whole.subarray(at - levels, at));
  const page = whole.subarray(at - levels, at - levels + usize);
  try {
    unzstdInto(body, page);
    dataPage(col, page, dh, leaf, null);
  } finally {
    whole.set(kept, at - levels);
  }
  return true;
}

/** Reads the given chunks of one row group (adjacent chunks in one read), as views of one scratch buffer. */
function readChunks(fd: number, chunks: ColumnChunk[]): Uint8Array[] {
  let total = 0;
  for (const c of chunks) total += c.size;
  if (total > groupScratch.length) groupScratch = Buffer.allocUnsafeSlow(Math.max(total, 2 * groupScratch.length));
  // Chunk indices by offset (insertion sort: a row group has a few tens of chunks).
  const order: number[] = [];
  for (let i = 0; i < chunks.length; i++) {
    let j = order.length;
    while (j > 0 && chunks[order[j - 1]].offset > chunks[i].offset) j--;
    order.splice(j, 0, i);
  }
  const views: Uint8Array[] = new Array(chunks.length);
  let at = 0;
  for (let k = 0; k < order.length;) {
    // A run of chunks that follow each other in the file.
    let end = k + 1;
    while (end < order.length && chunks[order[end]].offset === chunks[order[end - 1]].offset + chunks[order[end - 1]].size) end++;
    const first = chunks[order[k]];
    const len = chunks[order[end - 1]].offset + chunks[order[end - 1]].size - first.offset;
    if (fs.readSync(fd, groupScratch, at, len, first.offset) !== len) throw new Error('parquet: column chunk runs past the end of the file');
    for (let j = k; j < end; j++) { views[order[j]] = groupScratch.subarray(at, at + chunks[order[j]].size); at += chunks[order[j]].size; }
    k = end;
  }
  return views;
}

/** The leaf of `name` when its layout is one the decoder handles for `kind`. */
function leafOf(footer: Footer, name: string, kind: Kind): number {
  let idx = -1;
  for (let i = 0; i < footer.leaves.length; i++) {
    if (footer.leaves[i].path[0] !== name) continue;
    if (idx >= 0) throw new Unsupported(`column ${name}`);
    idx = i;
  }
  if (idx < 0) throw new Unsupported(`column ${name}`);
  const leaf = footer.leaves[idx];
  const reps = leaf.repetitions.join(',');
  const ok = kind === 'list-i32' || kind === 'list-f32' ? reps === '1,2,0' : reps === '0' || reps === '1';
  if (!ok || leaf.physical !== PHYSICAL[kind]) throw new Unsupported(`layout of ${name}`);
  return idx;
}

const footers = new Map<string, Footer>();

const STEP_FIELD_BY_NAME = new Map<string, { type: DataType; nullable: boolean }>(STEP_FIELDS.map((f) => [f.name, f]));

function fieldNamed<F extends { name: string }>(fields: readonly F[], name: string): F | undefined {
  for (const f of fields) if (f.name === name) return f;
  return undefined;
}

/**
 * Decodes `columns` (step columns) of the given row groups (all when absent, in the order given) of an
 * o2o part file. Throws `Unsupported` when the file is laid out otherwise, any other error when it is damaged.
 */
export function decodeColumns(file: string, columns: readonly string[], rowGroups?: number[]): DecodedColumns {
  const fd = fs.openSync(file, 'r');
  try {
    const st = fs.fstatSync(fd);
    const key = `${file}:${st.size}:${st.mtimeMs}`;
    let footer = footers.get(key);
    if (!footer) {
      footer = readFooter(fd, st.size);
      if (footers.size >= 256) footers.delete(footers.keys().next().value!);
      footers.set(key, footer);
    }
    const groups = rowGroups ?? Array.from(footer.rowGroups.keys());
    let numRows = 0;
    for (const g of groups) {
      if (!footer.rowGroups[g]) throw new Unsupported(`row group ${g}`);
      numRows += footer.rowGroups[g].numRows;
    }
    const plan: Array<{ leaf: Leaf; chunks: ColumnChunk[]; col: Column }> = [];
    for (const name of columns) {
      const field = STEP_FIELD_BY_NAME.get(name);
      const stored = footer.arrowSchema ? fieldNamed(footer.arrowSchema.fields, name) : undefined;
      if (!field || !stored || stored.nullable !== field.nullable
        || !(sameType(stored.type, field.type) || (stored.type.typeId === Type.Timestamp && field.type.typeId === Type.Timestamp))) {
        throw new Unsupported(`column ${name} as stored`);
      }
      if (field.type.typeId === Type.Dictionary && (field.type as Dictionary).dictionary.typeId !== Type.Utf8) throw new Unsupported(name);
      const kind = kindOf(field.type);
      const li = leafOf(footer, name, kind);
      const chunks: ColumnChunk[] = [];
      let numValues = 0;
      let uncompressed = 0;
      for (const g of groups) {
        const c = footer.rowGroups[g].chunks[li];
        chunks.push(c);
        numValues += c.numValues;
        uncompressed += c.uncompressedSize;
      }
      plan.push({ leaf: footer.leaves[li], chunks, col: new Column(kind, numRows, footer.leaves[li].maxDef, numValues, uncompressed) });
    }
    // Plain loops, no closures: a closure made per call loses its optimized code at every major GC (the code
    // is held weakly), and recompiling them took ~14% of a read's CPU time.
    const metas: ColumnChunk[] = new Array(plan.length);
    for (let gi = 0; gi < groups.length; gi++) {
      for (let c = 0; c < plan.length; c++) metas[c] = plan[c].chunks[gi];
      const bytes = readChunks(fd, metas);
      const pages: PageRef[][] = [];
      const small: PageRef[] = [];
      for (let c = 0; c < plan.length; c++) {
        pages.push(pagesOf(bytes[c], metas[c]));
        if (metas[c].codec !== Codec.ZSTD) continue;
        for (const r of pages[c]) if (r.usize <= SMALL_PAGE && !storedBlocks(r.body)) small.push(r);
      }
      if (small.length > 1) {
        const srcs: Uint8Array[] = [];
        const sizes: number[] = [];
        for (const r of small) { srcs.push(r.body); sizes.push(r.usize); }
        const out = unzstdMany(srcs, sizes);
        for (let i = 0; i < small.length; i++) small[i].page = out[i];
      }
      for (let c = 0; c < plan.length; c++) decodeChunk(pages[c], metas[c], plan[c].leaf, plan[c].col);
    }
    const out: ColumnBuffers[] = [];
    for (const p of plan) out.push(p.col.finish());
    return { numRows, columns: out };
  } finally {
    fs.closeSync(fd);
  }
}

/** The distinct ArrayBuffers under decoded columns (to transfer them between threads). */
export function buffersOf(d: DecodedColumns): ArrayBuffer[] {
  const set = new Set<ArrayBuffer>();
  for (const c of d.columns) addBuffers(c, set);
  return [...set];
}

function addBuffers(c: ColumnBuffers, set: Set<ArrayBuffer>): void {
  if (c.validity) set.add(c.validity.buffer as ArrayBuffer);
  if (c.offsets) set.add(c.offsets.buffer as ArrayBuffer);
  set.add(c.values.buffer as ArrayBuffer);
  if (c.dictionary) addBuffers(c.dictionary, set);
}

/** The Arrow data of a decoded column of `type` (zero-copy: it views the buffers). */
export function toData(type: DataType, c: ColumnBuffers): Data {
  const base = { type, length: c.length, nullCount: c.nullCount, nullBitmap: c.validity };
  switch (type.typeId) {
    case Type.List: {
      const childType = (type as List).valueType;
      const child = makeData({ type: childType, length: c.values.length, data: c.values } as never);
      return makeData({ ...base, valueOffsets: c.offsets, child } as never);
    }
    case Type.Utf8: case Type.Binary: return makeData({ ...base, valueOffsets: c.offsets, data: c.values } as never);
    case Type.Dictionary: {
      const dictionary = makeVector(toData((type as Dictionary).dictionary, c.dictionary!));
      return makeData({ ...base, data: c.values, dictionary } as never);
    }
    default: return makeData({ ...base, data: c.values } as never);
  }
}
