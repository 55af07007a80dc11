import { describe, expect, test } from 'vitest';
import { randomFillSync } from 'node:crypto';
import { Encoder } from '@toondepauw/node-zstd';
import { storedBlocks, unzstd, unzstdMany } from '../../src/store/zstd.ts';

const encoder = new Encoder(3);
/** Bytes zstd compresses (token-like int32 values) and bytes it stores raw (random). */
function samples(): Uint8Array[] {
  const tokens = new Int32Array(50_000);
  for (let i = 0; i < tokens.length; i++) tokens[i] = (i * 7919) % 1_000;
  return [new Uint8Array(tokens.buffer), randomFillSync(new Uint8Array(300_000)), new Uint8Array(0), new Uint8Array(10).fill(7)];
}

describe('zstd pages', () => {
  test('frames written by another zstd come back exactly, one by one, several at once, and into a scratch buffer', () => {
    const raw = samples();
    const frames = raw.map((r) => new Uint8Array(encoder.encodeSync(Buffer.from(r))));
    expect(storedBlocks(frames[0])).toBeNull();
    expect(storedBlocks(frames[1])).not.toBeNull();
    for (let i = 0; i < raw.length; i++) expect(Buffer.from(unzstd(frames[i], raw[i].length)).equals(Buffer.from(raw[i]))).toBe(true);
    const many = unzstdMany(frames, raw.map((r) => r.length));
    many.forEach((m, i) => expect(Buffer.from(m).equals(Buffer.from(raw[i]))).toBe(true));
    const scratch = new Uint8Array(1 << 20);
    const out = unzstd(frames[0], raw[0].length, scratch);
    expect(out.buffer).toBe(scratch.buffer);
    expect(Buffer.from(out).equals(Buffer.from(raw[0]))).toBe(true);
  });

  test('a frame holding another size than the page header says, or damaged, is an error', () => {
    const raw = samples()[0];
    const frame = new Uint8Array(encoder.encodeSync(Buffer.from(raw)));
    expect(() => unzstd(frame, raw.length - 1)).toThrow(/zstd/);
    expect(() => unzstd(frame, raw.length + 1)).toThrow(/zstd/);
    const torn = frame.slice(0, frame.length >> 1);
    expect(() => unzstd(torn, raw.length)).toThrow(/zstd/);
    expect(() => unzstdMany([frame, torn], [raw.length, raw.length])).toThrow(/zstd/);
  });
});
