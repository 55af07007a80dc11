/**
 * Image bytes at the import boundary. The store keeps PNG or JPEG bytes exactly as the source stored them;
 * raw pixel arrays are encoded losslessly as PNG. Every image is decoded once here, so that unreadable
 * bytes become a row problem instead of a failure in a later training batch.
 */
import fs from 'node:fs';
import path from 'node:path';
import { PNG } from 'pngjs';
import jpeg from 'jpeg-js';

const PNG_MAGIC = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const JPEG_MAGIC = [0xff, 0xd8, 0xff];

export type ImageKind = 'png' | 'jpeg';

function startsWith(bytes: Uint8Array, magic: number[]): boolean {
  return bytes.length >= magic.length && magic.every((b, i) => bytes[i] === b);
}

export function imageKind(bytes: Uint8Array): ImageKind | null {
  if (startsWith(bytes, PNG_MAGIC)) return 'png';
  if (startsWith(bytes, JPEG_MAGIC)) return 'jpeg';
  return null;
}

/**
 * Why these bytes are not a readable PNG/JPEG image, or null when they decode. Decoding is the check:
 * a right magic number with a torn body is still unreadable.
 */
export function imageDefect(bytes: Uint8Array): string | null {
  const kind = imageKind(bytes);
  if (kind === null) return `${bytes.length} bytes that are neither PNG nor JPEG (no PNG or JPEG signature)`;
  try {
    const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    if (kind === 'png') PNG.sync.read(buf);
    else jpeg.decode(buf, { useTArray: true, maxMemoryUsageInMB: 256 });
    return null;
  } catch (e) {
    return `${bytes.length} bytes of ${kind.toUpperCase()} that do not decode (${(e as Error).message})`;
  }
}

/**
 * Encodes raw pixels losslessly as PNG. `pixels`: [H, W, C] row-major uint8 with C = 1 (grey), 3 (RGB)
 * or 4 (RGBA).
 */
export function encodePng(pixels: ArrayLike<number>, height: number, width: number, channels: number): Uint8Array {
  if (![1, 3, 4].includes(channels)) throw new Error(`encodePng: expected 1, 3 or 4 channels, got ${channels}`);
  if (pixels.length !== height * width * channels) {
    throw new Error(`encodePng: expected ${height}x${width}x${channels} = ${height * width * channels} values, got ${pixels.length}`);
  }
  const colorType = channels === 1 ? 0 : channels === 3 ? 2 : 6;
  const options = { colorType, inputColorType: colorType, inputHasAlpha: channels === 4 } as const;
  const png = new PNG({ width, height, ...options });
  png.data = Buffer.from(Uint8Array.from(pixels));
  return new Uint8Array(PNG.sync.write(png, options));
}

/** Decodes PNG bytes to RGBA pixels (tests compare pixels this way). */
export function decodePng(bytes: Uint8Array): { width: number; height: number; rgba: Uint8Array } {
  const png = PNG.sync.read(Buffer.from(bytes));
  return { width: png.width, height: png.height, rgba: new Uint8Array(png.data) };
}

/** Base64 prefixes of the PNG and JPEG signatures: how a plain base64 image string is recognised. */
export const PNG_BASE64_PREFIX = 'iVBORw0KGgo';
export const JPEG_BASE64_PREFIX = '/9j/';

/**
 * An image given as a string in a log: a `data:image/png;base64,…` or `data:image/jpeg;base64,…` URI,
 * plain base64 of PNG/JPEG bytes (recognised by the signature's base64 prefix), or else a file path
 * relative to the folder of the log file (`baseDir`). Returns the bytes or why they could not be had.
 */
export function imageFromString(s: string, baseDir: string): { bytes: Uint8Array } | { error: string } {
  if (s.startsWith('data:')) {
    const m = /^data:image\/(png|jpeg|jpg);base64,(.*)$/s.exec(s);
    if (!m) return { error: `a data URI "data:image/png;base64,…" or "data:image/jpeg;base64,…" (got ${JSON.stringify(s.slice(0, 40))}…)` };
    return { bytes: new Uint8Array(Buffer.from(m[2], 'base64')) };
  }
  if (s.startsWith(PNG_BASE64_PREFIX) || s.startsWith(JPEG_BASE64_PREFIX)) {
    return { bytes: new Uint8Array(Buffer.from(s, 'base64')) };
  }
  if (path.isAbsolute(s)) return { error: `a path relative to the log file's folder (got the absolute path ${JSON.stringify(s)})` };
  const full = path.join(baseDir, s);
  try {
    return { bytes: new Uint8Array(fs.readFileSync(full)) };
  } catch (e) {
    return { error: `an image file at ${JSON.stringify(s)} relative to the log (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})` };
  }
}
