/** `o2o env serve` as a user starts it: loopback by default, health answers, SIGTERM stops it; refusals. */
import { execFile, spawn } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '../..');
const BIN = path.join(ROOT, 'bin/o2o.mjs');

it('serves on 127.0.0.1, answers /v1/health, stops on SIGTERM', async () => {
  const child = spawn(process.execPath, [BIN, 'env', 'serve', '--task', 'numberline', '--task', 'blackjack', '--port', '0', '--quiet'], { cwd: ROOT });
  try {
    const url = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (d) => {
        out += d;
        const m = /at (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
        if (m) resolve(m[1]);
      });
      child.once('exit', (code) => reject(new Error(`exited ${code}: ${out}`)));
    });
    const health = (await (await fetch(`${url}/v1/health`)).json()) as { tasks: string[] };
    expect(health.tasks).toEqual(['gym_cards/NumberLine-v0', 'gym_cards/Blackjack-v0']);
  } finally {
    child.kill('SIGTERM');
  }
  const code = await new Promise((resolve) => child.once('exit', (c, s) => resolve(c ?? s)));
  expect(code).toBe(0);
});

it('refuses a non-loopback host without a token, and a missing --task', async () => {
  const run = promisify(execFile);
  await expect(run(process.execPath, [BIN, 'env', 'serve', '--task', 'numberline', '--host', '0.0.0.0', '--port', '0'], { cwd: ROOT, env: { ...process.env, O2O_ENV_TOKEN: '' } }))
    .rejects.toMatchObject({ code: 1, stderr: expect.stringMatching(/binding 0\.0\.0\.0 \(not loopback\) requires a bearer token/) });
  await expect(run(process.execPath, [BIN, 'env', 'serve', '--port', '0'], { cwd: ROOT }))
    .rejects.toMatchObject({ code: 2, stderr: expect.stringMatching(/--task is required/) });
});
