/**
 * A real Redis for the queue tests: Debian's `redis-server`, started on a free loopback port in a
 * temporary folder (append-only file on, so a restart keeps the queue, as the README tells users to
 * run it), stopped and removed afterwards. A machine without redis-server fails the tests naming
 * what to install; they are never skipped.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface RedisServer {
  readonly port: number;
  readonly url: string;
  readonly dir: string;
  /** Stops Redis as `SHUTDOWN` does (it writes its append-only file) and starts it again. */
  restart(options?: { downMs?: number }): Promise<void>;
  /** Stops Redis (SIGTERM) without starting it again. */
  halt(): Promise<void>;
  /** Starts a halted Redis again on the same port and folder. */
  resume(): Promise<void>;
  stop(): Promise<void>;
}

/** The redis-server binary, or an error saying how to get it. */
export function redisServerBinary(): string {
  const probe = spawnSync('redis-server', ['--version'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) {
    throw new Error(
      "redis-server is not installed: the queue tests need Debian's redis-server (apt-get update && apt-get install -y redis-server; .ci/run installs it)",
    );
  }
  return 'redis-server';
}

/** A TCP port nobody listens on now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ port, host: '127.0.0.1' });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

async function waitFor(test: () => Promise<boolean>, what: string, ms = 15_000): Promise<void> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (await test()) return;
    await new Promise((ok) => setTimeout(ok, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

export async function startRedis(options: { password?: string } = {}): Promise<RedisServer> {
  const binary = redisServerBinary();
  const dir = mkdtempSync(join(tmpdir(), 'robust-nas-redis-'));
  const port = await freePort();
  let child: ChildProcess | null = null;
  let log = '';

  const launch = async () => {
    const args = [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--dir',
      dir,
      '--appendonly',
      'yes',
      '--save',
      '',
      '--protected-mode',
      'yes',
      ...(options.password ? ['--requirepass', options.password] : []),
    ];
    const c = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    c.stdout!.on('data', (d: Buffer) => (log += d.toString()));
    c.stderr!.on('data', (d: Buffer) => (log += d.toString()));
    child = c;
    try {
      await waitFor(async () => log.includes('Ready to accept connections'), 'redis-server');
    } catch (err) {
      c.kill('SIGKILL');
      throw new Error(`redis-server did not start on port ${port}: ${log.slice(-500)}`, {
        cause: err,
      });
    }
  };

  const halt = async () => {
    const c = child;
    child = null;
    if (!c || c.exitCode !== null) return;
    const exited = new Promise((ok) => c.once('exit', ok));
    c.kill('SIGTERM');
    await exited;
    await waitFor(async () => !(await canConnect(port)), 'redis-server to stop');
  };

  await launch();
  const auth = options.password ? `:${encodeURIComponent(options.password)}@` : '';
  return {
    port,
    url: `redis://${auth}127.0.0.1:${port}`,
    dir,
    halt,
    async resume() {
      log = '';
      await launch();
    },
    async restart({ downMs = 0 } = {}) {
      await halt();
      if (downMs > 0) await new Promise((ok) => setTimeout(ok, downMs));
      log = '';
      await launch();
    },
    async stop() {
      await halt();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
