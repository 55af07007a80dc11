/**
 * Zstandard decompression of Parquet pages (RFC 8878). A frame whose blocks are all stored raw or as one
 * repeated byte (what zstd writes for incompressible data such as PNG/JPEG images) is copied out here; any
 * other frame goes to the system's libzstd (called through koffi, straight into the destination buffer),
 * or, where no libzstd can be loaded, to the `@toondepauw/node-zstd` addon (2-2.5x slower on token and
 * log-prob pages here: 540 vs 1,300-1,470 MB/s and 340-380 vs 830-840 MB/s, one thread, idle).
 */
import koffi from '../util/koffi.mjs';
import { Decoder } from '@toondepauw/node-zstd';

/** `decompress(dst, src)`: bytes written to `dst` (exactly one frame), or an error. */
interface Native { decompress(dst: Uint8Array, src: Uint8Array): number }

function loadLibzstd(): Native | null {
  for (const name of ['libzstd.so.1', 'libzstd.1.dylib']) {
    let lib: ReturnType<typeof koffi.load>;
    try { lib = koffi.load(name); } catch { continue; }
    const createDCtx = lib.func('void *ZSTD_createDCtx()');
    const decompressDCtx = lib.func('size_t ZSTD_decompressDCtx(void *dctx, uint8_t *dst, size_t dstCapacity, const uint8_t *src, size_t srcSize)');
    const isError = lib.func('unsigned int ZSTD_isError(size_t code)');
    const getErrorName = lib.func('const char *ZSTD_getErrorName(size_t code)');
    // One context per thread (each worker loads this module once).
    const dctx = createDCtx();
    return {
      decompress(dst, src) {
        const r = decompressDCtx(dctx, dst, dst.length, src, src.length);
        if (isError(r)) throw new Error(`zstd: ${getErrorName(r)}`);
        return Number(r);
      },
    };
  }
  return null;
}

const native = loadLibzstd();
const addon = native ? null : new Decoder();

const MAGIC = 0xfd2fb528;

/**
 * Block layout of a single-frame input ([start, size, is RLE] per block, in order), or null when it has
 * compressed blocks or is not one plain frame.
 */
export function storedBlocks(src: Uint8Array): Array<[start: number, size: number, rle: boolean]> | null {
  if (src.length < 6) return null;
  const view = new DataView(src.buffer, src.byteOffset, src.length);
  if (view.getUint32(0, true) !== MAGIC) return null;
  const fhd = src[4];
  const single = (fhd >> 5) & 1;
  const fcsFlag = fhd >> 6;
  const checksum = (fhd >> 2) & 1;
  const dictBytes = [0, 1, 2, 4][fhd & 3];
  const fcsBytes = fcsFlag === 0 ? single : [0, 2, 4, 8][fcsFlag];
  let pos = 5 + (single ? 0 : 1) + dictBytes + fcsBytes;
  const blocks: Array<[number, number, boolean]> = [];
  for (;;) {
    if (pos + 3 > src.length) return null;
    const h = src[pos] | (src[pos + 1] << 8) | (src[pos + 2] << 16);
    pos += 3;
    const type = (h >> 1) & 3;
    const size = h >>> 3;
    if (type === 0) { blocks.push([pos, size, false]); pos += size; }
    else if (type === 1) { blocks.push([pos, size, true]); pos += 1; }
    else return null;
    if (h & 1) break;
  }
  return pos + (checksum ? 4 : 0) === src.length ? blocks : null;
}

/** Decompresses one compressed frame into `dst`, which it must fill exactly. */
function inflateInto(src: Uint8Array, dst: Uint8Array): void {
  if (native) {
    const n = native.decompress(dst, src);
    if (n !== dst.length) throw new Error(`zstd: expected ${dst.length} bytes, got ${n}`);
    return;
  }
  const out = addon!.decodeSync(Buffer.from(src.buffer, src.byteOffset, src.length));
  if (out.length !== dst.length) throw new Error(`zstd: expected ${dst.length} bytes, got ${out.length}`);
  dst.set(out);
}

/** Decompresses a zstd frame into `dst`, which it must fill exactly; throws when it holds another size. */
export function unzstdInto(src: Uint8Array, dst: Uint8Array): void {
  const blocks = storedBlocks(src);
  if (!blocks) {
    inflateInto(src, dst);
    return;
  }
  const size = dst.length;
  let k = 0;
  for (const [start, n, rle] of blocks) {
    if (k + n > size) throw new Error(`zstd: expected ${size} bytes, got more`);
    if (rle) dst.fill(src[start], k, k + n);
    else dst.set(src.subarray(start, start + n), k);
    k += n;
  }
  if (k !== size) throw new Error(`zstd: expected ${size} bytes, got ${k}`);
}

/**
 * The `size` bytes a zstd frame holds; throws when it holds another number of bytes. The result is
 * written into `scratch` when it is large enough (the result then views it: valid until its next use).
 */
export function unzstd(src: Uint8Array, size: number, scratch?: Uint8Array): Uint8Array {
  const out = scratch && scratch.length >= size ? scratch.subarray(0, size) : new Uint8Array(size);
  unzstdInto(src, out);
  return out;
}

/**
 * Several zstd frames decompressed at once: `sizes[i]` bytes from `srcs[i]`; the results view one buffer.
 * (The addon's fixed cost per call dominates small pages, so without libzstd they go in one call.)
 */
export function unzstdMany(srcs: Uint8Array[], sizes: number[]): Uint8Array[] {
  let total = 0;
  for (const n of sizes) total += n;
  if (native) {
    const out = new Uint8Array(total);
    const dsts: Uint8Array[] = [];
    for (let i = 0, k = 0; i < srcs.length; k += sizes[i++]) {
      const dst = out.subarray(k, k + sizes[i]);
      inflateInto(srcs[i], dst);
      dsts.push(dst);
    }
    return dsts;
  }
  const all = addon!.decodeSync(Buffer.concat(srcs));
  if (all.length !== total) throw new Error(`zstd: expected ${total} bytes, got ${all.length}`);
  let k = 0;
  return sizes.map((n) => all.subarray(k, (k += n)));
}
