/**
 * Zstandard decompression of one Parquet page (RFC 8878). A frame whose blocks are all stored raw or as
 * one repeated byte (what zstd writes for incompressible data such as PNG/JPEG images) is copied out
 * here; any other frame goes to libzstd (a native addon).
 */
import { Decoder } from '@toondepauw/node-zstd';

const decoder = new Decoder();

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

/**
 * The `size` bytes a zstd frame holds; throws when it holds another number of bytes. Stored frames are
 * copied into `scratch` when it is large enough (the result then views it: valid until its next use).
 */
export function unzstd(src: Uint8Array, size: number, scratch?: Uint8Array): Uint8Array {
  const blocks = storedBlocks(src);
  if (!blocks) {
    const out = decoder.decodeSync(Buffer.from(src.buffer, src.byteOffset, src.length));
    if (out.length !== size) throw new Error(`zstd: expected ${size} bytes, got ${out.length}`);
    return out;
  }
  const out = scratch && scratch.length >= size ? scratch.subarray(0, size) : new Uint8Array(size);
  let k = 0;
  for (const [start, n, rle] of blocks) {
    if (k + n > size) throw new Error(`zstd: expected ${size} bytes, got more`);
    if (rle) out.fill(src[start], k, k + n);
    else out.set(src.subarray(start, start + n), k);
    k += n;
  }
  if (k !== size) throw new Error(`zstd: expected ${size} bytes, got ${k}`);
  return out;
}

/**
 * Several zstd frames decompressed in one call (a call has a fixed cost that dominates small pages):
 * `sizes[i]` bytes from `srcs[i]`; the results view one buffer.
 */
export function unzstdMany(srcs: Uint8Array[], sizes: number[]): Uint8Array[] {
  const total = sizes.reduce((a, b) => a + b, 0);
  const out = decoder.decodeSync(Buffer.concat(srcs));
  if (out.length !== total) throw new Error(`zstd: expected ${total} bytes, got ${out.length}`);
  let k = 0;
  return sizes.map((n) => out.subarray(k, (k += n)));
}
