import { afterEach, describe, expect, test } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { openTable, rowsToBatch } from '../../src/store/index.ts';
import { Rng } from '../../src/util/rng.ts';
import { makeRows, tempRoot } from './fixtures.ts';

const script = path.join(path.dirname(fileURLToPath(import.meta.url)), 'scripts', 'crasher.ts');
const ROWS_PER_COMMIT = 8;

const running = new Set<ChildProcess>();
afterEach(() => { for (const p of running) p.kill('SIGKILL'); running.clear(); });

/** Starts a writer, kills it with SIGKILL `delayMs` after it is ready; resolves with its stdout. */
function killedWriter(root: string, run: number, delayMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ['--import', 'tsx', script, root, 'crash', String(run)], { stdio: ['ignore', 'pipe', 'pipe'] });
    running.add(p);
    let out = '';
    let err = '';
    p.stdout.on('data', (d) => {
      const before = out;
      out += d;
      if (!before.includes('ready') && out.includes('ready')) setTimeout(() => p.kill('SIGKILL'), delayMs);
    });
    p.stderr.on('data', (d) => { err += d; });
    p.on('exit', (code, signal) => (running.delete(p), signal === 'SIGKILL' ? resolve(out) : reject(new Error(`writer exited ${code}: ${err}`))));
  });
}

describe('a writer killed mid-append', () => {
  test('SIGKILL at many points leaves every earlier commit intact and the table writable', async () => {
    const root = tempRoot();
    const rng = new Rng(8);
    const reported: Array<{ run: number; commit: number; version: number }> = [];
    for (let run = 0; run < 6; run++) {
      const out = await killedWriter(root, run, rng.int(500));
      for (const m of out.matchAll(/committed (\d+) (\d+) (\d+)/g)) reported.push({ run: Number(m[1]), commit: Number(m[2]), version: Number(m[3]) });
      const table = await openTable(root, 'crash');
      const history = await table.history();
      expect(history.map((h) => h.version)).toEqual(Array.from({ length: history.length }, (_, i) => i));
      // Every commit a writer reported is there, at its version; the latest snapshot reads whole.
      for (const r of reported) expect(history[r.version].o2o).toEqual({ run: String(r.run), commit: r.commit });
      const t = await (await table.snapshot()).read({ columns: ['episode_id', 'step', 'obs_image'] });
      expect(t.numRows).toBe((history.length - 1) * ROWS_PER_COMMIT);
    }
    // Every version (time travel) reads with exactly the rows of its commits.
    const table0 = await openTable(root, 'crash');
    for (const h of await table0.history()) {
      const t = await (await table0.snapshot(h.version)).read({ columns: ['episode_id', 'step', 'reward'] });
      expect(t.numRows).toBe(h.version * ROWS_PER_COMMIT);
    }
    expect(reported.length).toBeGreaterThan(0);
    // A hidden temp entry (a writer killed between writing and linking its log entry) is ignored.
    const logDir = path.join(root, 'crash', '_delta_log');
    fs.writeFileSync(path.join(logDir, '.o2o-killed.json.tmp'), '{"add":{"pa');
    const table = await openTable(root, 'crash');
    const before = (await table.snapshot()).numRows;
    const { version } = await table.append([rowsToBatch(makeRows({ episodes: 1, steps: 3, prefix: 'after' }))]);
    expect((await table.snapshot(version)).numRows).toBe(before + 3);
    // Parts of killed appends are unreferenced: vacuum removes them and nothing a commit names.
    const removed = await table.vacuum({ retentionMs: 0 });
    const snapFiles = new Set((await table.snapshot()).files.map((f) => decodeURIComponent(f.path)));
    for (const r of removed) expect(snapFiles.has(r)).toBe(false);
    expect((await (await table.snapshot()).read()).numRows).toBe(before + 3);
  }, 300_000);
});
