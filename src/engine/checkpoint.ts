/**
 * Checkpoints in safetensors format (https://huggingface.co/docs/safetensors): an 8-byte little-endian
 * header length, a JSON header {name: {dtype, shape, data_offsets}, __metadata__: {string: string}}, then
 * the raw little-endian tensor bytes. Round trips are bit-exact. Written to a temp file and renamed, so a
 * crash never leaves a half-written checkpoint under the final name.
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { DTYPES, type DType, type HostTensor, numel, tensorBytes } from './dtype.ts';

const FROM_ST = Object.fromEntries(Object.entries(DTYPES).map(([k, v]) => [v.st, k as DType])) as Record<string, DType>;

export function encodeSafetensors(tensors: Record<string, HostTensor>, metadata: Record<string, string> = {}): Uint8Array {
  const names = Object.keys(tensors).sort();
  const header: Record<string, unknown> = { __metadata__: metadata };
  let off = 0;
  for (const n of names) {
    const t = tensors[n];
    const len = t.data.byteLength;
    header[n] = { dtype: DTYPES[t.dtype].st, shape: t.shape, data_offsets: [off, off + len] };
    off += len;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (json.length % 8)) % 8); // align the data to 8 bytes
  const head = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + head.length + off);
  new DataView(out.buffer).setBigUint64(0, BigInt(head.length), true);
  out.set(head, 8);
  let p = 8 + head.length;
  for (const n of names) {
    const b = tensorBytes(tensors[n]);
    out.set(b, p);
    p += b.length;
  }
  return out;
}

export function decodeSafetensors(buf: Uint8Array, file = 'checkpoint'): { tensors: Record<string, HostTensor>; metadata: Record<string, string> } {
  if (buf.length < 8) throw new Error(`${file}: not a safetensors file (${buf.length} bytes)`);
  const hlen = Number(new DataView(buf.buffer, buf.byteOffset, 8).getBigUint64(0, true));
  if (8 + hlen > buf.length) throw new Error(`${file}: header length ${hlen} exceeds the file size ${buf.length}`);
  const header = JSON.parse(new TextDecoder().decode(buf.subarray(8, 8 + hlen))) as Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }>;
  const base = 8 + hlen;
  const tensors: Record<string, HostTensor> = {};
  for (const [name, e] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const dtype = FROM_ST[e.dtype];
    if (!dtype) throw new Error(`${file}: tensor ${name}: unsupported dtype ${e.dtype}`);
    const [a, b] = e.data_offsets;
    const n = numel(e.shape);
    if (b - a !== n * DTYPES[dtype].bytes || base + b > buf.length) throw new Error(`${file}: tensor ${name}: offsets [${a}, ${b}] do not fit ${e.dtype}[${e.shape}]`);
    const data = new DTYPES[dtype].array(n);
    new Uint8Array(data.buffer).set(buf.subarray(base + a, base + b));
    tensors[name] = { dtype, shape: e.shape, data };
  }
  return { tensors, metadata: (header.__metadata__ as unknown as Record<string, string>) ?? {} };
}

export function saveSafetensors(file: string, tensors: Record<string, HostTensor>, metadata: Record<string, string> = {}): void {
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, encodeSafetensors(tensors, metadata));
  renameSync(tmp, file);
}

export function loadSafetensors(file: string): { tensors: Record<string, HostTensor>; metadata: Record<string, string> } {
  return decodeSafetensors(readFileSync(file), file);
}
