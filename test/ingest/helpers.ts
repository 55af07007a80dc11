/** Shared by the ingest tests: temp store roots and a store's content as plain facts. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openTable } from '../../src/store/index.ts';

export const SAMPLES = path.join('datasets', 'samples');

export function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'o2o-'));
}

/** The table's version, its file list (from the log) and every file on disk under it. */
export async function tableState(root: string, dataset: string) {
  const dir = path.join(root, dataset);
  if (!fs.existsSync(dir)) return { exists: false, version: -1, files: [] as string[], disk: [] as string[] };
  const snap = await (await openTable(root, dataset)).snapshot();
  const disk = (fs.readdirSync(dir, { recursive: true }) as string[]).sort();
  return { exists: true, version: snap.version, files: snap.files.map((f) => f.file).sort(), disk };
}

/** Every row of a table as plain objects (the columns given). */
export async function tableRows(root: string, dataset: string, columns: string[]): Promise<Record<string, unknown>[]> {
  const snap = await (await openTable(root, dataset)).snapshot();
  const t = await snap.read({ columns: columns as never });
  const out: Record<string, unknown>[] = [];
  for (let i = 0; i < t.numRows; i++) {
    const r: Record<string, unknown> = {};
    for (const c of columns) r[c] = t.getChild(c)!.get(i);
    out.push(r);
  }
  return out;
}
