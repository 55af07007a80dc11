import { afterEach, describe, expect, test } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { openTable } from '../../src/store/index.ts';
import { tempRoot } from './fixtures.ts';

const script = path.join(path.dirname(fileURLToPath(import.meta.url)), 'scripts', 'appender.ts');

const running = new Set<ChildProcess>();
afterEach(() => { for (const p of running) p.kill('SIGKILL'); running.clear(); });

function writer(root: string, id: string, commits: number, rows: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ['--import', 'tsx', script, root, 'conc', id, String(commits), String(rows)], { stdio: ['ignore', 'pipe', 'pipe'] });
    running.add(p);
    let out = '';
    let err = '';
    p.stdout.on('data', (d) => { out += d; });
    p.stderr.on('data', (d) => { err += d; });
    p.on('exit', (code) => (running.delete(p), code === 0 ? resolve(out) : reject(new Error(`writer ${id} exited ${code}: ${err}`))));
  });
}

describe('concurrent appends', () => {
  test('4 processes x 25 commits give exactly 100 commits and every row', async () => {
    const root = tempRoot();
    await Promise.all(['w0', 'w1', 'w2', 'w3'].map((id) => writer(root, id, 25, 3)));
    const table = await openTable(root, 'conc');
    const history = await table.history();
    expect(history.map((h) => h.version)).toEqual(Array.from({ length: 101 }, (_, i) => i));
    const writes = history.filter((h) => h.operation === 'WRITE');
    expect(writes).toHaveLength(100);
    const perWriter = new Map<string, number[]>();
    for (const h of writes) {
      const info = h.o2o as { writer: string; commit: number };
      perWriter.set(info.writer, [...(perWriter.get(info.writer) ?? []), info.commit]);
    }
    for (const id of ['w0', 'w1', 'w2', 'w3']) expect(perWriter.get(id)).toEqual(Array.from({ length: 25 }, (_, i) => i));
    const snap = await table.snapshot();
    const t = await snap.read({ columns: ['episode_id', 'step'] });
    expect(t.numRows).toBe(300);
    const keys = new Set<string>();
    for (let i = 0; i < t.numRows; i++) keys.add(`${t.getChild('episode_id')!.get(i)}/${t.getChild('step')!.get(i)}`);
    expect(keys.size).toBe(300);
    for (const id of ['w0', 'w1', 'w2', 'w3']) for (let k = 0; k < 25; k++) for (let s = 0; s < 3; s++) expect(keys.has(`${id}-c${k}-0000/${s}`)).toBe(true);
  }, 300_000);
});
