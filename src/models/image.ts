/**
 * Image preprocessing for the policy: PNG/JPEG bytes → RGB → area-average downscale to size×size (the
 * aspect ratio is not kept) → values mapped from [0, 255] to [−1, 1], channel-major → per-image
 * standardization (x − mean) / max(std, 1/√N) over all N values (TensorFlow's per_image_standardization).
 *
 * Why standardize: the gym_cards images are mostly flat background with a few glyphs. In [−1, 1] the
 * background dominates every patch embedding and the glyphs are a small perturbation; a small VLM trained
 * from scratch then did not learn to read NumberLine's two digits in 1,000 SFT steps (chance: 5/30 states),
 * with standardization it read all 30 states after 300 steps (the glyph pixels become the large values).
 *
 * Area averaging: output pixel (y, x) is the mean of the source rectangle [y·sy, (y+1)·sy) × [x·sx, (x+1)·sx)
 * with fractional edge pixels weighted by their covered fraction (a box filter; no aliasing, unlike
 * nearest-neighbour sampling). Upscaling is the same formula (each output covers part of one source pixel).
 */
import { PNG } from 'pngjs';
import jpeg from 'jpeg-js';
import { imageKind } from '../ingest/images.ts';

/** Decoded RGBA pixels. rgba: [height, width, 4] uint8. */
export interface Rgba { width: number; height: number; rgba: Uint8Array }

export function decodeImage(bytes: Uint8Array): Rgba {
  const kind = imageKind(bytes);
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (kind === 'png') {
    const png = PNG.sync.read(buf);
    return { width: png.width, height: png.height, rgba: new Uint8Array(png.data.buffer, png.data.byteOffset, png.data.byteLength) };
  }
  if (kind === 'jpeg') {
    const img = jpeg.decode(buf, { useTArray: true, formatAsRGBA: true, maxMemoryUsageInMB: 256 });
    return { width: img.width, height: img.height, rgba: img.data };
  }
  throw new Error(`image: expected PNG or JPEG bytes, got ${bytes.length} bytes starting ${Array.from(bytes.slice(0, 4), (b) => b.toString(16).padStart(2, '0')).join(' ')}`);
}

/** Per-axis box-filter weights: for each output index, the source indices and their weights (sum 1). */
function boxWeights(src: number, dst: number): { idx: Int32Array; w: Float32Array; start: Int32Array } {
  const scale = src / dst;
  const idx: number[] = [];
  const w: number[] = [];
  const start = new Int32Array(dst + 1);
  for (let o = 0; o < dst; o++) {
    start[o] = idx.length;
    const a = o * scale, b = (o + 1) * scale;
    for (let s = Math.floor(a); s < Math.min(src, Math.ceil(b)); s++) {
      const cover = Math.min(b, s + 1) - Math.max(a, s);
      if (cover > 0) { idx.push(s); w.push(cover / scale); }
    }
  }
  start[dst] = idx.length;
  return { idx: Int32Array.from(idx), w: Float32Array.from(w), start };
}

/** Area-average resize of RGBA pixels to [3, size, size] floats in [−1, 1] (alpha dropped). */
export function resizeNormalize(img: Rgba, size: number): Float32Array {
  const { width: W, height: H, rgba } = img;
  if (rgba.length !== W * H * 4) throw new Error(`image: expected ${W}x${H}x4 = ${W * H * 4} RGBA bytes, got ${rgba.length}`);
  const bx = boxWeights(W, size), by = boxWeights(H, size);
  // horizontal pass: [H, size, 3]
  const tmp = new Float32Array(H * size * 3);
  for (let y = 0; y < H; y++) {
    const row = y * W * 4;
    for (let x = 0; x < size; x++) {
      let r = 0, g = 0, b = 0;
      for (let k = bx.start[x]; k < bx.start[x + 1]; k++) {
        const p = row + bx.idx[k] * 4, wk = bx.w[k];
        r += rgba[p] * wk; g += rgba[p + 1] * wk; b += rgba[p + 2] * wk;
      }
      const t = (y * size + x) * 3;
      tmp[t] = r; tmp[t + 1] = g; tmp[t + 2] = b;
    }
  }
  // vertical pass and normalisation: [3, size, size]
  const out = new Float32Array(3 * size * size);
  const plane = size * size;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      let r = 0, g = 0, b = 0;
      for (let k = by.start[y]; k < by.start[y + 1]; k++) {
        const t = (by.idx[k] * size + x) * 3, wk = by.w[k];
        r += tmp[t] * wk; g += tmp[t + 1] * wk; b += tmp[t + 2] * wk;
      }
      const o = y * size + x;
      out[o] = r / 127.5 - 1;
      out[plane + o] = g / 127.5 - 1;
      out[2 * plane + o] = b / 127.5 - 1;
    }
  }
  return out;
}

/** In place: x ← (x − mean) / max(std, 1/√N) over all N values (a flat image becomes all zeros). */
export function standardize(x: Float32Array): Float32Array {
  const n = x.length;
  let mean = 0;
  for (let i = 0; i < n; i++) mean += x[i];
  mean /= n;
  let ss = 0;
  for (let i = 0; i < n; i++) ss += (x[i] - mean) ** 2;
  const inv = 1 / Math.max(Math.sqrt(ss / n), 1 / Math.sqrt(n));
  for (let i = 0; i < n; i++) x[i] = (x[i] - mean) * inv;
  return x;
}

/** PNG/JPEG bytes → [3, size, size] standardized floats (module comment); null (no image) → all zeros. */
export function preprocessImage(bytes: Uint8Array | null, size: number): Float32Array {
  if (bytes === null) return new Float32Array(3 * size * size);
  return standardize(resizeNormalize(decodeImage(bytes), size));
}

/**
 * Memoised {@link preprocessImage} for training loops that feed the same images many times (offline steps,
 * PPO epochs): keyed by the bytes object, at most `maxBytes` of floats (the oldest entries go first).
 */
export class PixelCache {
  private readonly map = new Map<Uint8Array, Float32Array>();
  private bytes = 0;
  constructor(readonly size: number, readonly maxBytes = 256 * 2 ** 20) {}

  get(image: Uint8Array | null): Float32Array {
    if (image === null) return preprocessImage(null, this.size);
    let px = this.map.get(image);
    if (px) return px;
    px = preprocessImage(image, this.size);
    this.map.set(image, px);
    this.bytes += px.byteLength;
    for (const [k, v] of this.map) {
      if (this.bytes <= this.maxBytes) break;
      this.map.delete(k);
      this.bytes -= v.byteLength;
    }
    return px;
  }
}
