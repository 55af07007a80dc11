/**
 * The remote-env server (docs/remote-env.md): gym_cards envs behind HTTP+JSON. Binds 127.0.0.1 unless
 * told otherwise; a bearer token is required whenever the host is not a loopback address. Every bad
 * request gets a 4xx JSON error naming what was expected and what arrived.
 */
import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { GymCardsEnv } from '../env.ts';
import { getTask } from '../registry.ts';
import { API, MAX_BODY_BYTES, MAX_ENVS, toWireObservation, toWireStep } from './protocol.ts';

export interface EnvServerOptions {
  /** tasks this server serves (short or store names) */
  tasks: string[];
  host?: string;
  port?: number;
  /** bearer token; required unless `host` is a loopback address */
  token?: string;
  /** log one line per request to this function */
  log?: (line: string) => void;
}

export interface EnvServer {
  url: string;
  server: Server;
  close(): Promise<void>;
}

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

class HttpError extends Error {
  constructor(readonly status: number, readonly code: string, message: string) {
    super(message);
  }
}

export async function startEnvServer(o: EnvServerOptions): Promise<EnvServer> {
  const host = o.host ?? '127.0.0.1';
  if (!LOOPBACK.has(host) && !o.token) {
    throw new Error(`env serve: binding ${host} (not loopback) requires a bearer token; pass --token, or bind 127.0.0.1`);
  }
  if (o.tasks.length === 0) throw new Error('env serve: expected at least one --task');
  const tasks = o.tasks.map((t) => getTask(t));
  const envs = new Map<string, GymCardsEnv>();
  const tokenHash = o.token ? createHash('sha256').update(o.token).digest() : null;

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    if (tokenHash) {
      const got = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
      const ok = got !== undefined && timingSafeEqual(createHash('sha256').update(got).digest(), tokenHash);
      if (!ok) throw new HttpError(401, 'unauthorized', got === undefined ? 'expected an "Authorization: Bearer <token>" header, got none' : 'the bearer token does not match the server\'s --token');
    }
    const url = new URL(req.url ?? '/', 'http://x');
    const parts = url.pathname.split('/').filter(Boolean); // ["v1", "envs", id?, verb?]
    if (`/${parts[0]}` !== API) throw new HttpError(404, 'not_found', `no route ${req.method} ${url.pathname}; routes start with ${API}/`);
    const route = `${req.method} ${parts.slice(1).map((p, i) => (i === 1 ? ':id' : p)).join('/')}`;
    const body = req.method === 'POST' ? await readJson(req) : {};
    const env = () => {
      const e = envs.get(parts[2]);
      if (!e) throw new HttpError(404, 'unknown_env', `no env with id ${JSON.stringify(parts[2])}; create one with POST ${API}/envs (it may have been closed)`);
      return e;
    };
    switch (route) {
      case 'GET health':
        return send(res, 200, { ok: true, tasks: tasks.map((t) => t.id), envs: envs.size });
      case 'POST envs': {
        const name = optional(body, 'task', 'string') ?? (tasks.length === 1 ? tasks[0].id : undefined);
        if (name === undefined) throw new HttpError(400, 'missing_field', `"task" is required: this server serves ${tasks.map((t) => t.id).join(', ')}`);
        const task = tasks.find((t) => t.id === name || t.name === String(name).toLowerCase());
        if (!task) throw new HttpError(400, 'unknown_task', `"task": expected one of ${tasks.map((t) => t.id).join(', ')}, got ${JSON.stringify(name)}`);
        const seed = required(body, 'seed', 'integer');
        const formatPenalty = optional(body, 'formatPenalty', 'number') ?? 0;
        if (envs.size >= MAX_ENVS) throw new HttpError(429, 'too_many_envs', `this server holds ${MAX_ENVS} envs already; close some with DELETE ${API}/envs/<id>`);
        const id = randomUUID();
        envs.set(id, new GymCardsEnv(task.id, { seed, formatPenalty }));
        return send(res, 201, { id, task: task.id, actions: task.actions });
      }
      case 'POST envs/:id/reset': {
        const e = env();
        return send(res, 200, { observation: toWireObservation(e.resetSync(optional(body, 'seed', 'integer'))) });
      }
      case 'POST envs/:id/step': {
        const e = env();
        const action = body.action;
        if (typeof action !== 'string' && !(Number.isInteger(action) && (action as number) >= 0 && (action as number) < e.def.actions.length)) {
          throw new HttpError(400, action === undefined ? 'missing_field' : 'bad_field',
            `"action": expected the policy's output text (a string) or an action id (an integer in 0..${e.def.actions.length - 1}), got ${describe(action)}`);
        }
        try {
          return send(res, 200, toWireStep(e.stepSync(action as string | number)));
        } catch (err) {
          if (/no episode running/.test((err as Error).message)) throw new HttpError(409, 'episode_over', `${(err as Error).message} (POST ${API}/envs/${parts[2]}/reset)`);
          throw err;
        }
      }
      case 'DELETE envs/:id':
        env();
        envs.delete(parts[2]);
        return send(res, 200, { closed: true });
      default: {
        const known = ['health', 'envs', 'envs/:id', 'envs/:id/reset', 'envs/:id/step'].includes(route.slice(route.indexOf(' ') + 1));
        throw new HttpError(known ? 405 : 404, known ? 'bad_method' : 'not_found', `no route ${req.method} ${url.pathname}; see docs/remote-env.md`);
      }
    }
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      const e = err instanceof HttpError ? err : new HttpError(500, 'internal', (err as Error).message);
      send(res, e.status, { error: { status: e.status, code: e.code, message: e.message } });
    }).finally(() => o.log?.(`${req.method} ${req.url} ${res.statusCode}`));
  });
  server.requestTimeout = 30_000;
  server.headersTimeout = 10_000; // must not exceed requestTimeout
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port ?? 0, host, () => resolve());
  });
  const addr = server.address() as AddressInfo;
  const shown = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  return {
    url: `http://${shown}:${addr.port}`,
    server,
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}

function send(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent) return;
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > MAX_BODY_BYTES) {
    req.resume();
    throw new HttpError(413, 'too_large', `request body of ${declared} bytes exceeds the limit of ${MAX_BODY_BYTES} bytes`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > MAX_BODY_BYTES) {
      req.resume();
      throw new HttpError(413, 'too_large', `request body exceeds the limit of ${MAX_BODY_BYTES} bytes`);
    }
    chunks.push(c as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') return {};
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new HttpError(400, 'bad_json', `request body is not valid JSON (${(e as Error).message}); send a JSON object`);
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new HttpError(400, 'bad_json', `request body: expected a JSON object, got ${describe(v)}`);
  return v as Record<string, unknown>;
}

type Kind = 'string' | 'integer' | 'number';

function check(body: Record<string, unknown>, key: string, kind: Kind): unknown {
  const v = body[key];
  const ok = kind === 'string' ? typeof v === 'string' : kind === 'integer' ? Number.isSafeInteger(v) && (v as number) >= 0 : typeof v === 'number' && Number.isFinite(v);
  if (!ok) throw new HttpError(400, 'bad_field', `"${key}": expected ${kind === 'integer' ? 'a non-negative integer' : `a ${kind}`}, got ${describe(v)}`);
  return v;
}

function required<K extends Kind>(body: Record<string, unknown>, key: string, kind: K): K extends 'string' ? string : number {
  if (body[key] === undefined) throw new HttpError(400, 'missing_field', `"${key}" is required (${kind === 'integer' ? 'a non-negative integer' : `a ${kind}`})`);
  return check(body, key, kind) as never;
}

function optional<K extends Kind>(body: Record<string, unknown>, key: string, kind: K): (K extends 'string' ? string : number) | undefined {
  return body[key] === undefined ? undefined : (check(body, key, kind) as never);
}

function describe(v: unknown): string {
  if (v === undefined) return 'nothing';
  const s = JSON.stringify(v);
  return `${s.length > 60 ? `${s.slice(0, 60)}…` : s} (${Array.isArray(v) ? 'array' : v === null ? 'null' : typeof v})`;
}
