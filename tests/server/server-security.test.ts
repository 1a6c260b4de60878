/**
 * Cross-site and DNS-rebinding requests against a real server on 127.0.0.1, real HTTP with forged
 * Host, Origin and Content-Type headers (node:http, which sends the Host it is given), and real
 * socket.io-client connections: only the names and addresses the server is bound to are answered,
 * only its own origin, mutating routes take JSON only, and a token, when the server has one, guards
 * every API route and the live feed (checked before any body is read).
 */
import { request as httpRequest } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { io, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InputError } from '../../src/core/errors.js';
import { allowedHostsFrom, hostAllowList } from '../../src/server/access.js';
import { startServer, type RunningServer } from '../../src/server/server.js';

interface Reply {
  status: number;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any
  text: string;
  headers: Record<string, string | string[] | undefined>;
}

/** One request to the server's socket with exactly these headers (Host included). */
function raw(
  server: RunningServer,
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: string,
  connectTo = '127.0.0.1',
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: connectTo, port: server.port, method, path, headers, setHost: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: unknown;
          try {
            parsed = JSON.parse(text);
          } catch {
            parsed = undefined;
          }
          resolve({ status: res.statusCode ?? 0, body: parsed, text, headers: res.headers });
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

const SLOW = {
  population: 4,
  generations: 50,
  seed: 1,
  evaluator: 'surrogate',
  surrogateDelayMs: 200,
  objectives: [
    { metric: 'clean', direction: 'max' },
    { metric: 'adversarial', attack: 'pgd', eps: 0.1, direction: 'max' },
  ],
  evaluation: { dataset: 'mnist', attacks: [{ name: 'pgd', eps: 0.1 }] },
};

let runsDir: string;
let server: RunningServer;
let host: string;
let runId: string;
const sockets: Socket[] = [];

beforeAll(async () => {
  runsDir = await mkdtemp(join(tmpdir(), 'robust-nas-security-'));
  server = await startServer({ port: 0, runsDir });
  host = `127.0.0.1:${server.port}`;
  const started = await raw(
    server,
    'POST',
    '/api/runs',
    { host, 'content-type': 'application/json' },
    JSON.stringify(SLOW),
  );
  expect(started.status, started.text).toBe(201);
  runId = started.body.run.id;
});

afterAll(async () => {
  for (const s of sockets) s.close();
  await server?.close();
  await rm(runsDir, { recursive: true, force: true });
});

async function status(id: string): Promise<string> {
  const r = await raw(server, 'GET', `/api/runs/${id}`, { host });
  return r.body.run.status;
}

describe('cross-site requests', () => {
  for (const action of ['pause', 'stop', 'resume']) {
    it(`refuses a form-encoded cross-site POST /api/runs/<id>/${action} (403, run untouched)`, async () => {
      const before = await status(runId);
      const r = await raw(
        server,
        'POST',
        `/api/runs/${runId}/${action}`,
        {
          host,
          origin: 'http://evil.example',
          'content-type': 'application/x-www-form-urlencoded',
        },
        'a=1',
      );
      expect(r.status, r.text).toBe(403);
      expect(r.body.error).toContain('http://evil.example');
      expect(await status(runId)).toBe(before);
    });
  }

  it('refuses a cross-site JSON POST /api/runs (the origin, not the content type, decides)', async () => {
    const r = await raw(
      server,
      'POST',
      '/api/runs',
      { host, origin: 'http://evil.example', 'content-type': 'application/json' },
      JSON.stringify(SLOW),
    );
    expect(r.status).toBe(403);
  });

  it("refuses an origin with the server's name but another port or scheme", async () => {
    for (const origin of [
      `http://127.0.0.1:${server.port + 1}`,
      `https://127.0.0.1:${server.port}`,
      'null',
    ]) {
      const r = await raw(server, 'GET', '/api/runs', { host, origin });
      expect(r.status, origin).toBe(403);
    }
  });

  it("accepts the server's own origins and requests without an Origin", async () => {
    for (const origin of [
      `http://127.0.0.1:${server.port}`,
      `http://localhost:${server.port}`,
      `http://[::1]:${server.port}`,
    ]) {
      const r = await raw(server, 'GET', '/api/runs', { host, origin });
      expect(r.status, origin).toBe(200);
    }
    expect((await raw(server, 'GET', '/api/runs', { host })).status).toBe(200);
  });
});

describe('DNS rebinding (the Host header)', () => {
  it('refuses POST /api/runs with Host: evil.example.com (403 naming it, no run made)', async () => {
    const r = await raw(
      server,
      'POST',
      '/api/runs',
      { host: `evil.example.com:${server.port}`, 'content-type': 'application/json' },
      JSON.stringify(SLOW),
    );
    expect(r.status, r.text).toBe(403);
    expect(r.body.error).toContain('evil.example.com');
  });

  it('refuses reads and the dashboard files under a foreign Host', async () => {
    for (const path of ['/api/runs', `/api/runs/${runId}/export.csv`, '/', '/dist/app.js']) {
      const r = await raw(server, 'GET', path, { host: 'evil.example.com' });
      expect(r.status, path).toBe(403);
    }
  });

  it('refuses a loopback name with another port, and a missing Host', async () => {
    expect((await raw(server, 'GET', '/api/runs', { host: 'localhost' })).status).toBe(403);
    expect(
      (await raw(server, 'GET', '/api/runs', { host: `localhost:${server.port + 1}` })).status,
    ).toBe(403);
    // Without any Host, Node's HTTP server answers 400 itself (HTTP/1.1 requires one).
    expect((await raw(server, 'GET', '/api/runs', {})).status).toBe(400);
  });

  it('answers localhost, 127.0.0.1 and [::1] with the bound port', async () => {
    for (const name of ['localhost', 'LOCALHOST', '127.0.0.1', '[::1]']) {
      const r = await raw(server, 'GET', '/api/runs', { host: `${name}:${server.port}` });
      expect(r.status, name).toBe(200);
      expect((await raw(server, 'GET', '/', { host: `${name}:${server.port}` })).status).toBe(200);
    }
  });
});

describe('content type of mutating routes', () => {
  it('answers 415 to a same-site form-encoded or text POST', async () => {
    for (const type of ['application/x-www-form-urlencoded', 'text/plain', 'multipart/form-data']) {
      const r = await raw(
        server,
        'POST',
        `/api/runs/${runId}/pause`,
        { host, 'content-type': type },
        'a=1',
      );
      expect(r.status, type).toBe(415);
      expect(r.body.error).toContain('application/json');
    }
    const none = await raw(server, 'POST', `/api/runs/${runId}/pause`, { host });
    expect(none.status).toBe(415);
  });

  it('takes bodiless pause/resume/stop with Content-Type: application/json', async () => {
    const json = { host, 'content-type': 'application/json' };
    const paused = await raw(server, 'POST', `/api/runs/${runId}/pause`, json);
    expect(paused.status, paused.text).toBe(200);
    expect(paused.body.run.status).toBe('paused');
    const resumed = await raw(server, 'POST', `/api/runs/${runId}/resume`, {
      ...json,
      'content-type': 'application/json; charset=utf-8',
    });
    expect(resumed.status, resumed.text).toBe(200);
  });
});

function connect(
  server: RunningServer,
  options: Parameters<typeof io>[1] = {},
): Promise<{ socket: Socket; error?: Error; overviews: string[] }> {
  return new Promise((resolve) => {
    const overviews: string[] = [];
    const socket = io(server.url, { transports: ['websocket'], reconnection: false, ...options });
    sockets.push(socket);
    socket.on('run-overview', (run: { id: string }) => overviews.push(run.id));
    socket.once('connect', () => resolve({ socket, overviews }));
    socket.once('connect_error', (error) => resolve({ socket, error, overviews }));
  });
}

describe('the live feed', () => {
  it('refuses a cross-site websocket (bad Origin): it never connects nor hears run ids', async () => {
    const c = await connect(server, { extraHeaders: { origin: 'http://evil.example' } });
    expect(c.error).toBeDefined();
    expect(c.socket.connected).toBe(false);
    await new Promise((r) => setTimeout(r, 500));
    expect(c.overviews).toEqual([]);
  });

  it('refuses a websocket under a foreign Host', async () => {
    const c = await connect(server, { extraHeaders: { host: 'evil.example.com' } });
    expect(c.error).toBeDefined();
  });

  it("accepts the server's own origin (and polling too)", async () => {
    const ok = await connect(server, {
      extraHeaders: { origin: `http://localhost:${server.port}` },
    });
    expect(ok.error).toBeUndefined();
    const polling = await connect(server, { transports: ['polling'] });
    expect(polling.error).toBeUndefined();
    const badPolling = await connect(server, {
      transports: ['polling'],
      extraHeaders: { origin: 'http://evil.example' },
    });
    expect(badPolling.error).toBeDefined();
  });
});

describe('a server with a token', () => {
  const TOKEN = 'correct-horse-battery';
  let guarded: RunningServer;
  let dir: string;
  let ghost: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'robust-nas-security-token-'));
    guarded = await startServer({ port: 0, runsDir: dir, token: TOKEN });
    ghost = `127.0.0.1:${guarded.port}`;
  });

  afterAll(async () => {
    await guarded?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('guards every API read (401 without the token, 200 with it)', async () => {
    for (const path of ['/api/runs', '/api/genotypes', '/api/runs/nope/export.csv']) {
      const r = await raw(guarded, 'GET', path, { host: ghost });
      expect(r.status, path).toBe(401);
      expect(r.headers['www-authenticate']).toBe('Bearer');
    }
    const ok = await raw(guarded, 'GET', '/api/runs', {
      host: ghost,
      authorization: `Bearer ${TOKEN}`,
    });
    expect(ok.status).toBe(200);
  });

  it('keeps the dashboard files public, so the page can load and ask for the token', async () => {
    expect((await raw(guarded, 'GET', '/', { host: ghost })).status).toBe(200);
    expect((await raw(guarded, 'GET', '/dist/app.js', { host: ghost })).status).toBe(200);
  });

  it('answers /api/health without the token, with no figures about runs', async () => {
    const open = await raw(guarded, 'GET', '/api/health', { host: ghost });
    expect(open.status).toBe(200);
    expect(open.body).toEqual({ ok: true, version: expect.any(String) });
    const full = await raw(guarded, 'GET', '/api/health', {
      host: ghost,
      authorization: `Bearer ${TOKEN}`,
    });
    expect(full.body.liveRuns).toBe(0);
  });

  it('checks the token before reading the body (401, not 400 or 413)', async () => {
    const json = { host: ghost, 'content-type': 'application/json' };
    const malformed = await raw(guarded, 'POST', '/api/runs', json, '{"population": 4,');
    expect(malformed.status).toBe(401);
    const huge = await raw(
      guarded,
      'POST',
      '/api/runs',
      json,
      JSON.stringify({ name: 'x'.repeat(300_000) }),
    );
    expect(huge.status).toBe(401);
    const form = await raw(
      guarded,
      'POST',
      '/api/runs/x/stop',
      { host: ghost, 'content-type': 'text/plain' },
      'a',
    );
    expect(form.status).toBe(401);
  });

  it('still checks Host and Origin first (403 even with the token)', async () => {
    const r = await raw(guarded, 'GET', '/api/runs', {
      host: 'evil.example.com',
      authorization: `Bearer ${TOKEN}`,
    });
    expect(r.status).toBe(403);
  });

  it('guards the live feed: no token, no connection; auth or Authorization header, connected', async () => {
    const none = await connect(guarded);
    expect(none.error?.message).toContain('token');
    const wrong = await connect(guarded, { auth: { token: 'wrong-token-here' } });
    expect(wrong.error).toBeDefined();
    const viaAuth = await connect(guarded, { auth: { token: TOKEN } });
    expect(viaAuth.error).toBeUndefined();
    const viaHeader = await connect(guarded, {
      extraHeaders: { authorization: `Bearer ${TOKEN}` },
    });
    expect(viaHeader.error).toBeUndefined();
  });
});

describe('the Host allow-list', () => {
  it('names the loopback names with the port for a loopback bind', () => {
    const list = hostAllowList('127.0.0.1', 3000, []);
    expect(list.describe()).toEqual(
      expect.arrayContaining(['localhost:3000', '127.0.0.1:3000', '[::1]:3000']),
    );
    expect(list.allowsHost('127.0.0.1:3000')).toBe(true);
    expect(list.allowsHost('127.0.0.2:3000')).toBe(false);
    expect(hostAllowList('127.0.0.2', 3000, []).allowsHost('127.0.0.2:3000')).toBe(true);
  });

  it('answers only the bound address and the listed names off loopback', () => {
    const list = hostAllowList('192.0.2.7', 8080, ['nas.example.org', 'proxy.example.org:443']);
    expect(list.allowsHost('192.0.2.7:8080')).toBe(true);
    expect(list.allowsHost('NAS.example.org:8080')).toBe(true);
    expect(list.allowsHost('localhost:8080')).toBe(false);
    expect(list.allowsHost('nas.example.org:80')).toBe(false);
    expect(list.allowsHost('proxy.example.org:443')).toBe(true);
    expect(list.allowsOrigin('https://proxy.example.org')).toBe(true);
    expect(list.allowsOrigin('http://nas.example.org:8080')).toBe(true);
    expect(list.allowsOrigin('http://evil.example:8080')).toBe(false);
  });

  it("answers every interface's address when bound to 0.0.0.0 or ::", () => {
    const addresses = Object.values(networkInterfaces())
      .flat()
      .filter((a) => a !== undefined)
      .map((a) => (a.family === 'IPv6' ? `[${a.address.split('%')[0]}]` : a.address));
    for (const bind of ['0.0.0.0', '::']) {
      const list = hostAllowList(bind, 4000, []);
      for (const a of addresses) expect(list.allowsHost(`${a}:4000`), a).toBe(true);
      expect(list.allowsHost('evil.example.com:4000')).toBe(false);
    }
  });

  it('reads --allowed-host values and ROBUST_NAS_ALLOWED_HOSTS, refusing junk', () => {
    expect(allowedHostsFrom(['a.example', 'B.example:8443'], undefined)).toEqual([
      'a.example',
      'b.example:8443',
    ]);
    expect(allowedHostsFrom([], ' c.example, d.example ')).toEqual(['c.example', 'd.example']);
    expect(() => allowedHostsFrom(['http://x.example/'], undefined)).toThrow(InputError);
    expect(() => allowedHostsFrom(['x.example:99999'], undefined)).toThrow(InputError);
  });

  it('a server bound to 0.0.0.0 answers its interface addresses and listed names, nothing else', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'robust-nas-security-any-'));
    const any = await startServer({
      host: '0.0.0.0',
      port: 0,
      runsDir: dir,
      token: 'correct-horse-battery',
      allowedHosts: ['nas.example.org'],
    });
    try {
      const auth = { authorization: 'Bearer correct-horse-battery' };
      for (const name of ['127.0.0.1', 'nas.example.org']) {
        const r = await raw(any, 'GET', '/api/runs', { host: `${name}:${any.port}`, ...auth });
        expect(r.status, name).toBe(200);
      }
      const evil = await raw(any, 'GET', '/api/runs', {
        host: `evil.example.com:${any.port}`,
        ...auth,
      });
      expect(evil.status).toBe(403);
      expect(evil.body.error).toContain('--allowed-host');
    } finally {
      await any.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('where evaluations run is the server operator’s choice', () => {
  it('POST /api/runs refuses a config that names workers or a queue, naming the fields', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'robust-nas-placement-'));
    const server = await startServer({ port: 0, runsDir: dir });
    try {
      for (const extra of [{ workers: 2 }, { queue: 'redis://127.0.0.1:6379' }]) {
        const res = await fetch(new URL('/api/runs', server.url), {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ evaluator: 'surrogate', population: 2, generations: 1, ...extra }),
        });
        expect(res.status).toBe(400);
        const body = (await res.json()) as { issues: { path: string; message: string }[] };
        expect(body.issues.map((i) => i.path)).toEqual(Object.keys(extra));
      }
      expect((await server.manager.list()).length).toBe(0);
    } finally {
      await server.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
