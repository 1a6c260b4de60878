/**
 * `robust-nas serve` as a real child process: Ctrl-C after its output reader has gone (`serve |
 * head -1`) still pauses running searches and exits 0 (no crash on EPIPE), and the options added
 * for hardening: --allowed-host / ROBUST_NAS_ALLOWED_HOSTS and --max-memory-mb.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { request as httpRequest } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RunCatalogue } from '../../src/store/run-catalogue.js';
import { CLI_PATH, runCommand } from '../helpers/cli.js';

const SLOW = {
  population: 4,
  generations: 100,
  seed: 2,
  evaluator: 'surrogate',
  surrogateDelayMs: 100,
  objectives: [
    { metric: 'clean', direction: 'max' },
    { metric: 'adversarial', attack: 'pgd', eps: 0.1, direction: 'max' },
  ],
};

interface Served {
  child: ChildProcessWithoutNullStreams;
  url: string;
  port: number;
  exited: Promise<number | null>;
}

async function serve(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Served> {
  const childEnv: NodeJS.ProcessEnv = { ...process.env, ...env };
  delete childEnv.ROBUST_NAS_TOKEN;
  const child = spawn(process.execPath, [CLI_PATH, 'serve', '--port', '0', ...args], {
    env: childEnv,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  let out = '';
  const url = await new Promise<string>((resolveUrl, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const m = /dashboard at (http:\/\/127\.0\.0\.1:\d+\/)/.exec(out);
      if (m) resolveUrl(m[1]!);
    });
    child.once('exit', (code) => reject(new Error(`serve exited with ${code}: ${out}`)));
  });
  return { child, url, port: Number(new URL(url).port), exited };
}

function get(port: number, path: string, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, headers: { host }, setHost: false });
    req.on('response', (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end();
  });
}

async function startSlowRun(url: string): Promise<string> {
  const res = await fetch(new URL('/api/runs', url), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(SLOW),
  });
  expect(res.status).toBe(201);
  return ((await res.json()) as { run: { id: string } }).run.id;
}

describe('serve after its output reader has gone', () => {
  for (const closed of [['stdout'], ['stdout', 'stderr']] as const) {
    it(`SIGINT with ${closed.join(' and ')} closed pauses the running search and exits 0`, async () => {
      const dir = await mkdtemp(join(tmpdir(), 'robust-nas-epipe-'));
      const served = await serve(['--runs-dir', dir]);
      try {
        const id = await startSlowRun(served.url);
        for (const name of closed) served.child[name].destroy();
        served.child.kill('SIGINT');
        expect(await served.exited).toBe(0);
        const stored = await new RunCatalogue(dir).read(id);
        expect(stored.status).toBe('paused');
      } finally {
        served.child.kill('SIGKILL');
        await rm(dir, { recursive: true, force: true });
      }
    });
  }
});

describe('serve options', () => {
  it('--allowed-host and ROBUST_NAS_ALLOWED_HOSTS add names the Host header may give', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'robust-nas-allowed-'));
    const served = await serve(
      ['--runs-dir', dir, '--allowed-host', 'nas.example.org', '--allowed-host', 'b.example'],
      { ROBUST_NAS_ALLOWED_HOSTS: 'c.example' },
    );
    try {
      for (const name of ['nas.example.org', 'b.example', 'c.example', '127.0.0.1']) {
        expect(await get(served.port, '/api/health', `${name}:${served.port}`), name).toBe(200);
      }
      expect(await get(served.port, '/api/health', `evil.example:${served.port}`)).toBe(403);
    } finally {
      served.child.kill('SIGKILL');
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('refuses a malformed --allowed-host (exit 2, one line)', () => {
    const r = runCommand(['serve', '--port', '0', '--allowed-host', 'http://x.example/']);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain('--allowed-host');
  });

  it('--max-memory-mb limits the real searches POST /api/runs accepts', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'robust-nas-serve-memory-'));
    const served = await serve(['--runs-dir', dir, '--max-memory-mb', '16']);
    try {
      const res = await fetch(new URL('/api/runs', served.url), {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ ...SLOW, evaluator: 'real' }),
      });
      expect(res.status).toBe(400);
      const body = (await res.json()) as { issues: { path: string; message: string }[] };
      expect(body.issues[0]!.message).toContain('limit 16 MB');
    } finally {
      served.child.kill('SIGKILL');
      await rm(dir, { recursive: true, force: true });
    }
  });
});
