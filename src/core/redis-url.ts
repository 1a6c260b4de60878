/**
 * Redis URLs, as the evaluation queue takes them (`robust-nas worker --redis URL`, `search --queue
 * URL`, a search config's `queue`): `redis://[[user]:password@]host[:port][/db]`, or `rediss://...`
 * for TLS. Parsed and checked with zod, so a malformed URL is refused before anything connects, with
 * a message that names it with its password masked. Pure: nothing here connects.
 */
import { z } from 'zod';
import { InputError } from './errors.js';

/** A checked Redis URL, split into what a client needs. */
export interface RedisTarget {
  /** The URL as given (with its password: pass it to the client only, never print it). */
  readonly url: string;
  /** The URL with its password replaced by ****: the only form to print or store. */
  readonly masked: string;
  readonly tls: boolean;
  readonly host: string;
  readonly port: number;
  readonly db: number;
  readonly username?: string;
  readonly password?: string;
}

export const DEFAULT_REDIS_PORT = 6379;

/**
 * `text` with the credentials of every URL in it masked, also in URLs too broken to parse: the
 * password after `user:` (`redis://user:secret@host` -> `redis://user:****@host`), or the whole
 * user part when it has no colon (some clients take it for the password).
 */
export function maskRedisUrl(text: string): string {
  return text.replace(/\/\/([^\s/@]*)@/g, (_match, userinfo: string) => {
    const colon = userinfo.indexOf(':');
    return colon >= 0 ? `//${userinfo.slice(0, colon)}:****@` : '//****@';
  });
}

function problem(text: string): string | RedisTarget {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    const port = /^[a-z][a-z0-9+.-]*:\/\/(?:[^@/]*@)?(?:\[[^\]]*\]|[^:/]*):(\d+)(?:\/|$)/i.exec(
      text,
    );
    if (port && Number(port[1]) > 65535) return `port ${port[1]} is out of range (1-65535)`;
    return 'not a URL (expected redis://[:password@]host[:port][/db] or rediss://...)';
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') {
    return `the scheme must be redis:// or rediss:// (TLS), not ${url.protocol}//`;
  }
  // WHATWG keeps IPv6 brackets in hostname; ioredis wants them off.
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  if (host === '') return 'it names no host';
  const port = url.port === '' ? DEFAULT_REDIS_PORT : Number(url.port);
  if (!Number.isInteger(port) || port < 1 || port > 65535)
    return `port ${url.port} is out of range`;
  const path = url.pathname.replace(/^\//, '');
  if (path !== '' && !/^\d{1,5}$/.test(path)) {
    return `the path must be a database number (/0, /1, ...), not /${path}`;
  }
  const db = path === '' ? 0 : Number(path);
  if (url.search !== '' || url.hash !== '')
    return 'query parameters and fragments are not supported';
  const username = url.username === '' ? undefined : decodeURIComponent(url.username);
  const password = url.password === '' ? undefined : decodeURIComponent(url.password);
  return {
    url: text,
    masked: maskRedisUrl(text),
    tls: url.protocol === 'rediss:',
    host,
    port,
    db,
    ...(username !== undefined ? { username } : {}),
    ...(password !== undefined ? { password } : {}),
  };
}

/** A Redis URL (string) -> RedisTarget; the issue names the URL with its password masked. */
export const redisUrlSchema = z.string().transform((text, ctx): RedisTarget => {
  const r = problem(text.trim());
  if (typeof r === 'string') {
    ctx.addIssue({ code: 'custom', message: `malformed Redis URL '${maskRedisUrl(text)}': ${r}` });
    return z.NEVER;
  }
  return r;
});

/**
 * A Redis URL kept in a search config: stored in run.json and shown by the API, so it may hold no
 * password (give that with `--queue` on the command line, or in ROBUST_NAS_REDIS_PASSWORD).
 */
export const storedRedisUrlSchema = z.string().superRefine((text, ctx) => {
  const r = redisUrlSchema.safeParse(text);
  if (!r.success) {
    for (const issue of r.error.issues) ctx.addIssue({ code: 'custom', message: issue.message });
  } else if (r.data.password !== undefined) {
    ctx.addIssue({
      code: 'custom',
      message: `'${r.data.masked}' holds a password, which the run's config would store and the API show: give it with --queue on the command line or in ROBUST_NAS_REDIS_PASSWORD`,
    });
  }
});

/** Parses a Redis URL; InputError with the zod issue's message (the URL masked) when malformed. */
export function parseRedisUrl(text: string, what = 'Redis URL'): RedisTarget {
  const r = redisUrlSchema.safeParse(text);
  if (!r.success) throw new InputError(`${what}: ${r.error.issues[0]?.message ?? 'malformed'}`);
  return r.data;
}
