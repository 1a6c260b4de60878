/**
 * Bearer-token protection for the endpoints that change things (starting runs, run control).
 *
 * Bound to a loopback address the server trusts its machine and needs no token. Bound to any other
 * address it refuses to start without one, and every non-GET request must carry
 * `Authorization: Bearer <token>`.
 */
import { timingSafeEqual } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import { InputError } from '../core/errors.js';

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost', '[::1]']);

export function isLoopbackHost(host: string): boolean {
  return LOOPBACK.has(host) || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/**
 * The token the server must require for `host`, or undefined when none is needed. Throws an
 * InputError when the host is not a loopback address and no token was given.
 */
export function requiredToken(host: string, token: string | undefined): string | undefined {
  const t = token?.trim() || undefined;
  if (t !== undefined && t.length < 8) {
    throw new InputError('the access token must be at least 8 characters long');
  }
  if (isLoopbackHost(host)) return t;
  if (t === undefined) {
    throw new InputError(
      `binding to ${host} (not a loopback address) needs an access token: pass --token or set ROBUST_NAS_TOKEN`,
    );
  }
  return t;
}

function sameToken(given: string, expected: string): boolean {
  const a = Buffer.from(given, 'utf8');
  const b = Buffer.from(expected, 'utf8');
  return a.length === b.length && timingSafeEqual(a, b);
}

/** True when the request's Authorization header carries `token`. */
export function hasBearerToken(header: string | undefined, token: string): boolean {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  return match !== null && sameToken(match[1] as string, token);
}

/**
 * Express middleware: when `token` is set, every request that is not GET/HEAD/OPTIONS needs it as
 * a bearer token (401 otherwise). Without a token it lets everything through.
 */
export function requireTokenForChanges(token: string | undefined) {
  return (req: Request, res: Response, next: NextFunction): void => {
    if (token === undefined || ['GET', 'HEAD', 'OPTIONS'].includes(req.method)) {
      next();
      return;
    }
    if (hasBearerToken(req.get('authorization'), token)) {
      next();
      return;
    }
    res
      .status(401)
      .set('WWW-Authenticate', 'Bearer')
      .json({ error: 'this endpoint needs a bearer token (Authorization: Bearer <token>)' });
  };
}
