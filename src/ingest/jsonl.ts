/**
 * Canonical JSONL: one JSON object per line, one line per step, with the step-table fields (README
 * "Importing your logs"). `obs_image` is a string: a data URI, plain base64 of PNG/JPEG bytes, or a path
 * relative to the JSONL file's folder. `created_at` may be epoch milliseconds or an ISO 8601 text.
 * Read line by line (the file is never held whole).
 */
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { describeValue } from '../store/problems.ts';
import { imageFromString } from './images.ts';
import { problem, type Found, type Importer, type ReadContext } from './types.ts';

/** Every non-blank line of a text file with its 1-based number. */
export async function* textLines(file: string): AsyncGenerator<{ line: number; text: string }> {
  const rl = readline.createInterface({ input: fs.createReadStream(file, 'utf8'), crlfDelay: Infinity });
  let line = 0;
  try {
    for await (const text of rl) {
      line++;
      if (text.trim() !== '') yield { line, text };
    }
  } finally {
    rl.close();
  }
}

/** Parses one line as a JSON object, or says why it is not one. */
export function parseObjectLine(file: string, line: number, text: string): { value: Record<string, unknown> } | { bad: Found } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    return { bad: problem(file, line, '(line)', 'one JSON object per line', `text that is not JSON (${(e as Error).message})`) };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { bad: problem(file, line, '(line)', 'one JSON object per line', describeValue(value)) };
  }
  return { value: value as Record<string, unknown> };
}

export const jsonlImporter: Importer = {
  format: 'jsonl',
  async *read(input: string, ctx: ReadContext): AsyncIterable<Found> {
    const file = ctx.display(input);
    const dir = path.dirname(input);
    for await (const { line, text } of textLines(input)) {
      const parsed = parseObjectLine(file, line, text);
      if ('bad' in parsed) { yield parsed.bad; continue; }
      const values = parsed.value;
      let bad = false;
      if (typeof values.obs_image === 'string') {
        const img = imageFromString(values.obs_image, dir);
        if ('error' in img) { yield problem(file, line, 'obs_image', img.error, describeValue(values.obs_image)); bad = true; }
        else values.obs_image = img.bytes;
      }
      if (typeof values.created_at === 'string') {
        const ms = Date.parse(values.created_at);
        if (Number.isNaN(ms)) { yield problem(file, line, 'created_at', 'epoch milliseconds or an ISO 8601 time', describeValue(values.created_at)); bad = true; }
        else values.created_at = ms;
      }
      if (!bad) yield { kind: 'row', file, row: line, values };
    }
  },
};
