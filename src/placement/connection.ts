/**
 * Connections to the queue's Redis. Every client of a process shares one {@link RedisHealth}, which
 * retries with exponential backoff (250 ms doubling to 10 s) and reports what happens on one line
 * each: the first failure at once, then at most one line every 10 s while Redis stays unreachable,
 * and the reconnection. Nothing here hangs silently: a caller that cannot wait forever asks
 * `unreachableFor()` or awaits `ready()` with a bound.
 */
import { Redis, type RedisOptions } from 'ioredis';
import { parseRedisUrl, maskRedisUrl, type RedisTarget } from '../core/redis-url.js';

/** Where Redis's password comes from when the URL holds none. */
export const REDIS_PASSWORD_ENV_VAR = 'ROBUST_NAS_REDIS_PASSWORD';

export type Report = (line: string) => void;

const FIRST_DELAY_MS = 250;
const MAX_DELAY_MS = 10_000;
const REPORT_EVERY_MS = 10_000;

/** The retry delay of attempt `times` (1, 2, ...): 250 ms doubling, at most 10 s. */
export function backoffDelay(times: number): number {
  return Math.min(FIRST_DELAY_MS * 2 ** Math.min(Math.max(times - 1, 0), 10), MAX_DELAY_MS);
}

/** Waits for `p`, or `ms` at most (the timer never keeps the process alive). */
export async function atMost(p: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([p.catch(() => {}), new Promise<void>((ok) => (timer = setTimeout(ok, ms)))]);
  clearTimeout(timer);
}

/** `target` as given, or parsed from a URL (InputError naming it, password masked). */
export function redisTarget(url: string | RedisTarget): RedisTarget {
  return typeof url === 'string' ? parseRedisUrl(url) : url;
}

/** Whether Redis answers, as every client of this process sees it, and the reports about it. */
export class RedisHealth {
  private downSince: number | null = null;
  private lastError = '';
  private lastReport = 0;
  private nextDelay = 0;

  constructor(
    readonly target: RedisTarget,
    private readonly report: Report = () => {},
  ) {}

  /** Milliseconds since Redis was last reachable (0 while it is). */
  unreachableFor(now = Date.now()): number {
    return this.downSince === null ? 0 : now - this.downSince;
  }

  /** The last connection error, masked ('' when none). */
  error(): string {
    return this.lastError;
  }

  /** A client's connection error. */
  failed(err: unknown): void {
    const message = err instanceof Error ? err.message : String(err);
    const code = (err as NodeJS.ErrnoException | undefined)?.code;
    const text = maskRedisUrl(code && !message.includes(code) ? `${code}: ${message}` : message);
    if (text !== '') this.lastError = text;
    if (this.downSince === null) {
      this.downSince = Date.now();
      this.lastReport = Date.now();
      this.report(
        `Redis at ${this.target.masked} is unreachable (${this.lastError || 'connection lost'}); retrying with backoff`,
      );
    }
  }

  /** A client will try again in `delay` ms (attempt `times`). */
  retrying(times: number, delay: number): void {
    if (this.downSince === null) this.failed(this.lastError || 'connection lost');
    this.nextDelay = delay;
    const now = Date.now();
    if (now - this.lastReport >= REPORT_EVERY_MS) {
      this.lastReport = now;
      this.report(
        `Redis at ${this.target.masked} still unreachable after ${Math.round(this.unreachableFor(now) / 1000)} s (${this.lastError || 'connection lost'}); attempt ${times}, next in ${(this.nextDelay / 1000).toFixed(1)} s`,
      );
    }
  }

  /** A client is connected and ready. */
  ready(): void {
    if (this.downSince !== null) {
      this.report(
        `Redis at ${this.target.masked} reachable again after ${Math.round(this.unreachableFor() / 1000)} s`,
      );
      this.downSince = null;
    }
  }

  /**
   * Resolves once `client` is ready; rejects after `timeoutMs` naming Redis and the last error
   * (the client keeps retrying: close it if giving up).
   */
  waitReady(client: Redis, timeoutMs: number): Promise<void> {
    if (client.status === 'ready') return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const done = () => {
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        client.off('ready', done);
        reject(
          new Error(
            `cannot reach Redis at ${this.target.masked} within ${Math.round(timeoutMs / 1000)} s${this.lastError ? `: ${this.lastError}` : ''}`,
          ),
        );
      }, timeoutMs);
      client.once('ready', done);
    });
  }
}

export interface ClientOptions {
  /** Shown in Redis's CLIENT LIST. */
  readonly name?: string;
}

/**
 * A client of `health`'s Redis that retries forever with backoff and reports through `health`.
 * Commands wait while it reconnects (BullMQ needs maxRetriesPerRequest: null).
 */
export function redisClient(health: RedisHealth, options: ClientOptions = {}): Redis {
  const target = health.target;
  const password = target.password === undefined ? process.env[REDIS_PASSWORD_ENV_VAR] : undefined;
  const settings: RedisOptions = {
    maxRetriesPerRequest: null,
    connectTimeout: 10_000,
    retryStrategy: (times: number) => {
      const delay = backoffDelay(times);
      health.retrying(times, delay);
      return delay;
    },
    ...(password ? { password } : {}),
    ...(options.name ? { connectionName: options.name } : {}),
  };
  const client = new Redis(target.url, settings);
  client.on('error', (err: unknown) => health.failed(err));
  client.on('ready', () => health.ready());
  return client;
}

/** Closes a client: QUIT when connected, otherwise drops the connection attempts. */
export async function closeClient(client: Redis): Promise<void> {
  if (client.status === 'end') return;
  if (client.status === 'ready') await atMost(client.quit(), 1000);
  client.disconnect();
}
