/**
 * The remote-env protocol: a plain-Python (standard library) client plays full episodes against the real
 * server; the TypeScript client matches a local env bit for bit; bad requests and the token check.
 * Servers bind 127.0.0.1 only.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GymCardsEnv } from '../../src/envs/env.ts';
import { RemoteEnv, RemoteEnvError } from '../../src/envs/remote/client.ts';
import { MAX_BODY_BYTES } from '../../src/envs/remote/protocol.ts';
import { startEnvServer, type EnvServer } from '../../src/envs/remote/server.ts';
import { VecEnv } from '../../src/envs/vec.ts';

const run = promisify(execFile);
const CLIENT = path.resolve(import.meta.dirname, '../../tools/remote_env_client.py');
const sha = (b: Uint8Array | null) => createHash('sha256').update(b!).digest('hex');

let open: EnvServer;
let locked: EnvServer;
beforeAll(async () => {
  open = await startEnvServer({ tasks: ['numberline', 'blackjack', 'points24'] });
  locked = await startEnvServer({ tasks: ['ezpoints'], token: 's3cret' });
});
afterAll(async () => {
  await open.close();
  await locked.close();
});

async function python(args: string[]) {
  const { stdout } = await run('python3', [CLIENT, ...args], { timeout: 60_000 });
  return stdout.trim().split('\n').map((l) => JSON.parse(l));
}

/** The same episode on a local env: the observation hash after each step. */
async function replayLocal(task: string, seed: number, actions: string[]) {
  const env = new GymCardsEnv(task, { seed });
  const hashes = [sha((await env.reset()).image)];
  const rewards: number[] = [];
  for (let i = 0; ; i++) {
    const r = await env.step(JSON.stringify({ thoughts: 'scripted', action: actions[i % actions.length] }));
    hashes.push(sha(r.obs.image));
    rewards.push(r.reward);
    if (r.terminated || r.truncated) return { hashes, rewards };
  }
}

describe('Python standard-library client', () => {
  it('plays a full NumberLine episode to truncation; every image and reward matches a local replay', async () => {
    expect(open.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const lines = await python(['--url', open.url, '--task', 'numberline', '--seed', '7', '--actions=-,+']);
    const steps = lines.filter((l) => l.step !== undefined);
    const summary = lines.at(-1).summary;
    expect(summary.task).toBe('gym_cards/NumberLine-v0');
    const local = await replayLocal('numberline', 7, ['-', '+']);
    expect(steps.map((s) => s.reward)).toEqual(local.rewards);
    expect([lines[0].reset.obs?.png_sha256 ?? lines[0].reset.png_sha256, ...steps.map((s) => s.obs.png_sha256)]).toEqual(local.hashes);
    expect(lines[0].reset.width).toBe(300);
    expect(lines[0].reset.height).toBe(300);
    const last = steps.at(-1);
    expect(last.terminated || last.truncated).toBe(true);
    expect(summary.steps).toBe(steps.length);
  });

  it('plays Blackjack (hit until the end) and authenticates with a bearer token on EZPoints', async () => {
    const bj = await python(['--url', open.url, '--task', 'blackjack', '--seed', '3', '--actions', 'hit']);
    const local = await replayLocal('blackjack', 3, ['hit']);
    expect(bj.filter((l) => l.step).map((l) => l.reward)).toEqual(local.rewards);
    const ez = await python(['--url', locked.url, '--task', 'ezpoints', '--seed', '1', '--token', 's3cret', '--actions', '=']);
    expect(ez.at(-1).summary).toEqual({ task: 'gym_cards/EZPoints-v0', steps: 1, return: -1 });
  });

  it('exits with the server\'s error message on a bad token', async () => {
    await expect(python(['--url', locked.url, '--task', 'ezpoints', '--token', 'nope', '--actions', '='])).rejects.toThrow(/401 unauthorized: the bearer token does not match/);
  });
});

describe('TypeScript client', () => {
  it('a RemoteEnv and a local env with the same seed give identical episodes, also inside a VecEnv', async () => {
    const remote = await RemoteEnv.create(open.url, { task: 'points24', seed: 12 });
    const local = new GymCardsEnv('points24', { seed: 12 });
    const vec = new VecEnv([remote, local]);
    const [a, b] = await vec.reset();
    expect(a).toEqual(b);
    const texts = ['{"action": "("}', 'nonsense', '{"action": "10"}', '{"action": "+"}', '{"action": "="}'];
    for (let i = 0; i < 8; i++) {
      const [ra, rb] = await vec.step([texts[i % texts.length], texts[i % texts.length]]);
      expect(ra).toEqual({ ...rb, ...(rb.episode ? { episode: { ...rb.episode, env: 0 } } : {}) });
    }
    expect(vec.episodes.length).toBe(2);
    await vec.close();
    await expect(remote.reset()).rejects.toMatchObject({ status: 404, code: 'unknown_env' });
  });

  it('needs the token when the server has one', async () => {
    await expect(RemoteEnv.create(locked.url, { seed: 1 })).rejects.toMatchObject({ status: 401 });
    const e = await RemoteEnv.create(locked.url, { seed: 1, token: 's3cret' });
    expect(e.task).toBe('gym_cards/EZPoints-v0');
    expect((await e.reset()).legalActions).toHaveLength(13);
    await e.close();
  });
});

describe('bad requests get 4xx JSON errors', () => {
  const req = async (method: string, p: string, body?: string, headers: Record<string, string> = {}) => {
    const res = await fetch(`${open.url}${p}`, { method, body, headers: { 'content-type': 'application/json', ...headers } });
    return { status: res.status, body: (await res.json()) as { error: { status: number; code: string; message: string } } };
  };
  const created = async () => (await req('POST', '/v1/envs', JSON.stringify({ task: 'numberline', seed: 1 }))).body as unknown as { id: string };

  it('bad JSON, a non-object, missing and mistyped fields, unknown task', async () => {
    expect((await req('POST', '/v1/envs', '{"task": ')).body.error).toMatchObject({ status: 400, code: 'bad_json' });
    expect((await req('POST', '/v1/envs', '[1,2]')).body.error).toMatchObject({ status: 400, code: 'bad_json', message: expect.stringMatching(/expected a JSON object, got \[1,2\] \(array\)/) });
    expect((await req('POST', '/v1/envs', JSON.stringify({ task: 'numberline' }))).body.error).toMatchObject({ status: 400, code: 'missing_field', message: expect.stringMatching(/"seed" is required/) });
    expect((await req('POST', '/v1/envs', JSON.stringify({ task: 'numberline', seed: -2 }))).body.error).toMatchObject({ status: 400, code: 'bad_field', message: expect.stringMatching(/"seed": expected a non-negative integer, got -2/) });
    expect((await req('POST', '/v1/envs', JSON.stringify({ seed: 1 }))).body.error).toMatchObject({ status: 400, code: 'missing_field', message: expect.stringMatching(/"task" is required: this server serves/) });
    expect((await req('POST', '/v1/envs', JSON.stringify({ task: 'ezpoints', seed: 1 }))).body.error).toMatchObject({ status: 400, code: 'unknown_task' });
  });
  it('unknown env id, step before reset, bad action', async () => {
    expect((await req('POST', '/v1/envs/nope/reset', '{}')).body.error).toMatchObject({ status: 404, code: 'unknown_env' });
    const { id } = await created();
    expect((await req('POST', `/v1/envs/${id}/step`, JSON.stringify({ action: '+' }))).body.error).toMatchObject({ status: 409, code: 'episode_over' });
    await req('POST', `/v1/envs/${id}/reset`, '');
    expect((await req('POST', `/v1/envs/${id}/step`, '{}')).body.error).toMatchObject({ status: 400, code: 'missing_field' });
    expect((await req('POST', `/v1/envs/${id}/step`, JSON.stringify({ action: 5 }))).body.error).toMatchObject({ status: 400, code: 'bad_field', message: expect.stringMatching(/integer in 0\.\.1\), got 5/) });
    const ok = await req('POST', `/v1/envs/${id}/step`, JSON.stringify({ action: 1 }));
    expect(ok.status).toBe(200);
    expect((await req('DELETE', `/v1/envs/${id}`)).status).toBe(200);
    expect((await req('DELETE', `/v1/envs/${id}`)).status).toBe(404);
  });
  it('too large bodies, unknown routes and wrong methods', async () => {
    const big = JSON.stringify({ action: 'x'.repeat(MAX_BODY_BYTES) });
    const { id } = await created();
    expect((await req('POST', `/v1/envs/${id}/step`, big)).body.error).toMatchObject({ status: 413, code: 'too_large' });
    expect((await req('GET', '/v2/envs')).body.error).toMatchObject({ status: 404 });
    expect((await req('GET', '/v1/nothing')).body.error).toMatchObject({ status: 404, code: 'not_found' });
    expect((await req('GET', `/v1/envs/${id}/step`)).body.error).toMatchObject({ status: 405, code: 'bad_method' });
    expect((await req('GET', '/v1/health')).body).toMatchObject({ ok: true, tasks: ['gym_cards/NumberLine-v0', 'gym_cards/Blackjack-v0', 'gym_cards/Points24-v0'] });
  });
  it('binding a non-loopback address without a token is refused before listening', async () => {
    await expect(startEnvServer({ tasks: ['numberline'], host: '0.0.0.0' })).rejects.toThrow(/requires a bearer token; pass --token/);
  });
  it('the client surfaces server errors as RemoteEnvError', async () => {
    await expect(RemoteEnv.create(open.url, { task: 'chess', seed: 1 })).rejects.toBeInstanceOf(RemoteEnvError);
  });
});
