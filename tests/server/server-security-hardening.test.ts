/**
 * Issue 20's smaller points: a 403 to a server bound to every interface names no address of the
 * machine; the token check compares fixed-length digests (a token of another length is refused
 * like any other wrong token, and a long one is no error); run names refuse the empty string,
 * control characters and bidirectional overrides.
 */
import { networkInterfaces } from 'node:os';
import { describe, expect, it } from 'vitest';
import { parseSearchConfig } from '../../src/core/search-config.js';
import { hostAllowList } from '../../src/server/access.js';
import { hasBearerToken, isToken } from '../../src/server/auth.js';

const addresses = Object.values(networkInterfaces())
  .flat()
  .flatMap((a) => (a ? [a.address.split('%')[0]!] : []))
  .filter((a) => a !== '127.0.0.1' && a !== '::1');

describe('a refused Host', () => {
  it('bound to 0.0.0.0 or ::, the 403 lists no interface address', () => {
    for (const bind of ['0.0.0.0', '::']) {
      const problem = hostAllowList(bind, 8080, []).hostProblem('evil.example:8080');
      expect(problem).toBe(
        "host 'evil.example:8080' refused: not a name or address of this server (its operator can add one with --allowed-host NAME)",
      );
      for (const a of addresses) expect(problem).not.toContain(a);
    }
  });

  it('bound to loopback, it still names what the server answers to (nothing private)', () => {
    expect(hostAllowList('127.0.0.1', 8080, []).hostProblem('evil.example:8080')).toMatch(
      /answers to localhost:8080, 127\.0\.0\.1:8080/,
    );
  });
});

describe('the token check', () => {
  const token = 'correct-horse-battery';
  it('accepts the token and refuses others of any length', () => {
    expect(hasBearerToken(`Bearer ${token}`, token)).toBe(true);
    expect(isToken(token, token)).toBe(true);
    for (const wrong of [
      'c',
      'correct-horse-battery!',
      'x'.repeat(10_000),
      'correct-horse-batterz',
    ]) {
      expect(hasBearerToken(`Bearer ${wrong}`, token)).toBe(false);
      expect(isToken(wrong, token)).toBe(false);
    }
  });
});

describe('run names', () => {
  const bad: [string, RegExp][] = [
    ['', /empty or blank/],
    ['   ', /empty or blank/],
    ['evil\u202Etxt.exe', /bidirectional-override/],
    ['a\u2066b\u2069', /bidirectional-override/],
    ['line\u2028break', /line-separator/],
    ['bell\u0007', /control characters/],
    ['tab\tname', /control characters/],
  ];
  for (const [name, why] of bad) {
    it(`refuses ${JSON.stringify(name)}`, () => {
      expect(() => parseSearchConfig({ name })).toThrow(why);
    });
  }
  it('accepts an ordinary name, right-to-left scripts included', () => {
    expect(parseSearchConfig({ name: 'PGD run 2 — שלום' }).name).toBe('PGD run 2 — שלום');
  });
});
