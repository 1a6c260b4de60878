/**
 * Bearer-token protection of the API and the live feed, and the JSON-only rule of changing requests.
 *
 * Bound to a loopback address the server needs no token; bound to any other address it refuses to
 * start without one. When it has a token (given or required) the token guards everything but the
 * dashboard's static files and a bare health check: every /api request, reads included, must carry
 * `Authorization: Bearer <token>`, and every socket.io connection must present it (handshake
 * `auth: {token}` or the same header).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
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

/**
 * Constant-time comparison of fixed-length digests: comparing the tokens themselves would return
 * at once on a length mismatch and so tell an attacker the token's length.
 */
function sameToken(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given, 'utf8').digest();
  const b = createHash('sha256').update(expected, 'utf8').digest();
  return timingSafeEqual(a, b);
}

/** True when the request's Authorization header carries `token`. */
export function hasBearerToken(header: string | undefined, token: string): boolean {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  return match !== null && sameToken(match[1] as string, token);
}

/** True when `given` (e.g. socket.io's handshake `auth.token`) is `token`. */
export function isToken(given: unknown, token: string): boolean {
  return typeof given === 'string' && sameToken(given, token);
}

/**
 * Express middleware for the API: when `token` is set, every request needs it as a bearer token
 * (401 otherwise), reads included. `GET /api/health` passes without it but learns (through
 * `res.locals.authorized`) that it may say no more than that the server is up. Without a token it
 * lets everything through. It runs before any body is read.
 */
export function requireToken(token: string | undefined) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const authorized = token === undefined || hasBearerToken(req.get('authorization'), token);
    res.locals.authorized = authorized;
    if (authorized || (req.path === '/health' && ['GET', 'HEAD'].includes(req.method))) {
      next();
      return;
    }
    res
      .status(401)
      .set('WWW-Authenticate', 'Bearer')
      .json({ error: 'this server needs its access token (Authorization: Bearer <token>)' });
  };
}

/**
 * Express middleware: requests that change things (every method but GET, HEAD and OPTIONS) must
 * say `Content-Type: application/json`, with or without a body (415 otherwise). An HTML form or a
 * "simple" cross-site fetch cannot send that type.
 */
export function requireJsonForChanges() {
  return (req: Request, res: Response, next: NextFunction): void => {
    if (['GET', 'HEAD', 'OPTIONS'].includes(req.method)) {
      next();
      return;
    }
    const given = req.get('content-type');
    const type = (given ?? '').split(';')[0]?.trim().toLowerCase();
    if (type === 'application/json') {
      next();
      return;
    }
    res.status(415).json({
      error: `${req.method} requests need Content-Type: application/json (got ${given === undefined ? 'none' : `'${given}'`})`,
    });
  };
}
