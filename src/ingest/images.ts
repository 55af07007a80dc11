/**
 * Image bytes at the import boundary. The store keeps PNG or JPEG bytes exactly as the source stored them;
 * raw pixel arrays are encoded losslessly as PNG. Every image is decoded once here, so that unreadable
 * bytes become a row problem instead of a failure in a later training batch.
 */
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
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
    if (kind === 'png') checkPng(buf);
    else jpeg.decode(buf, { useTArray: true, maxMemoryUsageInMB: 256 });
    return null;
  } catch (e) {
    return `${bytes.length} bytes of ${kind.toUpperCase()} that do not decode (${(e as Error).message})`;
  }
}

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

function crc32(buf: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < buf.length; i++) c = CRC_TABLE[(c ^ buf[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

const CHANNELS: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };

/**
 * Decodes a PNG as far as its pixel rows (PNG spec, ISO 15948): every chunk whole with a right CRC, IHDR
 * valid, the IDAT stream inflates to exactly height × (1 + row bytes) with a legal filter byte per row,
 * IEND last. Unfiltering to RGBA (pngjs's slow part) adds nothing to the check, so it is skipped;
 * interlaced images go through pngjs whole. Throws with the reason.
 */
function checkPng(buf: Buffer): void {
  let pos = 8;
  let ihdr: { width: number; height: number; depth: number; color: number; interlace: number } | null = null;
  const idat: Buffer[] = [];
  let ended = false;
  while (pos < buf.length && !ended) {
    if (pos + 12 > buf.length) throw new Error(`a chunk header cut off at byte ${pos}`);
    const len = buf.readUInt32BE(pos);
    const type = buf.toString('latin1', pos + 4, pos + 8);
    if (pos + 12 + len > buf.length) throw new Error(`the ${type} chunk at byte ${pos} is cut off`);
    const body = buf.subarray(pos + 8, pos + 8 + len);
    if (crc32(buf.subarray(pos + 4, pos + 8 + len)) !== buf.readUInt32BE(pos + 8 + len)) throw new Error(`the ${type} chunk at byte ${pos} has a wrong CRC`);
    if (type === 'IHDR') ihdr = { width: body.readUInt32BE(0), height: body.readUInt32BE(4), depth: body[8], color: body[9], interlace: body[12] };
    else if (type === 'IDAT') idat.push(body);
    else if (type === 'IEND') ended = true;
    pos += 12 + len;
  }
  if (!ihdr) throw new Error('no IHDR chunk');
  if (!ended) throw new Error('no IEND chunk (the file is cut off)');
  const channels = CHANNELS[ihdr.color];
  if (channels === undefined || ![1, 2, 4, 8, 16].includes(ihdr.depth) || ihdr.width === 0 || ihdr.height === 0) {
    throw new Error(`an invalid IHDR (${ihdr.width}x${ihdr.height}, colour type ${ihdr.color}, depth ${ihdr.depth})`);
  }
  if (ihdr.interlace !== 0) { PNG.sync.read(buf); return; }
  const raw = zlib.inflateSync(Buffer.concat(idat));
  const rowBytes = Math.ceil((ihdr.width * channels * ihdr.depth) / 8);
  if (raw.length !== ihdr.height * (1 + rowBytes)) throw new Error(`pixel data of ${raw.length} bytes, not ${ihdr.height * (1 + rowBytes)}`);
  for (let r = 0; r < ihdr.height; r++) if (raw[r * (1 + rowBytes)] > 4) throw new Error(`row ${r} has filter type ${raw[r * (1 + rowBytes)]}`);
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
