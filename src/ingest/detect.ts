/**
 * Format detection from the content, never from the file name alone:
 * - a folder with `meta/info.json` naming a `codebase_version` → LeRobot;
 * - a folder with `metadata.json` naming a Minari `data_format` (or `data/metadata.json`) → Minari, and an
 *   HDF5 file (signature `\x89HDF\r\n\x1a\n`) → Minari HDF5;
 * - `PAR1` at both ends → Parquet; `ARROW1` (file) or an IPC stream's first message → Arrow IPC;
 * - text whose first non-blank line is a JSON object: with `prompt` and `utterance` → RL4VLM-style log,
 *   with `episode_id` or `step` → canonical JSONL.
 */
import fs from 'node:fs';
import path from 'node:path';
import { imageKind } from './images.ts';
import type { FormatName } from './types.ts';

const HDF5_MAGIC = Buffer.from([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]);

function readJson(file: string): unknown {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch {
    return undefined;
  }
}

function head(file: string, n: number): Buffer {
  const fd = fs.openSync(file, 'r');
  try {
    const buf = Buffer.alloc(n);
    const got = fs.readSync(fd, buf, 0, n, 0);
    return buf.subarray(0, got);
  } finally {
    fs.closeSync(fd);
  }
}

/** The first non-blank line of a text file, read in chunks (a line may hold an inline base64 image). */
function firstLine(file: string): string {
  const fd = fs.openSync(file, 'r');
  try {
    const chunks: Buffer[] = [];
    const buf = Buffer.alloc(1 << 16);
    let pos = 0;
    for (;;) {
      const got = fs.readSync(fd, buf, 0, buf.length, pos);
      if (got === 0) break;
      pos += got;
      chunks.push(Buffer.from(buf.subarray(0, got)));
      const text = Buffer.concat(chunks).toString('utf8').replace(/^\s+/, '');
      const nl = text.indexOf('\n');
      if (nl >= 0) return text.slice(0, nl);
    }
    return Buffer.concat(chunks).toString('utf8').trim();
  } finally {
    fs.closeSync(fd);
  }
}

/** The Minari data folder (the one holding metadata.json) of a folder, or null. */
export function minariDataDir(dir: string): string | null {
  for (const d of [dir, path.join(dir, 'data')]) {
    const meta = readJson(path.join(d, 'metadata.json')) as { data_format?: unknown } | undefined;
    if (meta && typeof meta.data_format === 'string') return d;
  }
  return null;
}

export function isLeRobotDir(dir: string): boolean {
  const info = readJson(path.join(dir, 'meta', 'info.json')) as { codebase_version?: unknown } | undefined;
  return !!info && typeof info.codebase_version === 'string';
}

/** The format of one file by its content, 'image' for PNG/JPEG files (referenced by logs), or null. */
export function detectFile(file: string): FormatName | 'image' | null {
  const h = head(file, 4096);
  if (h.subarray(0, 8).equals(HDF5_MAGIC)) return 'minari';
  if (h.subarray(0, 4).toString('latin1') === 'PAR1') return 'parquet';
  if (h.subarray(0, 6).toString('latin1') === 'ARROW1') return 'arrow';
  // An IPC stream starts with a message: the 0xFFFFFFFF continuation marker, then a flatbuffer length.
  if (h.length >= 8 && h.readUInt32LE(0) === 0xffffffff && h.readInt32LE(4) > 0) return 'arrow';
  if (imageKind(new Uint8Array(h)) !== null) return 'image';
  if (!h.toString('utf8').trimStart().startsWith('{')) return null;
  let obj: unknown;
  try {
    obj = JSON.parse(firstLine(file));
  } catch {
    return null;
  }
  if (typeof obj !== 'object' || obj === null) return null;
  if ('prompt' in obj && 'utterance' in obj) return 'rl4vlm';
  if ('episode_id' in obj || 'step' in obj) return 'jsonl';
  return null;
}

/** The format of a path: a dataset folder (Minari, LeRobot) or a file. */
export function detectFormat(p: string): FormatName | 'image' | null {
  if (fs.statSync(p).isDirectory()) {
    if (isLeRobotDir(p)) return 'lerobot';
    if (minariDataDir(p) !== null) return 'minari';
    return null;
  }
  return detectFile(p);
}
