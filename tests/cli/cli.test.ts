import { describe, expect, it } from 'vitest';
import { runCommand } from '../helpers/cli.js';

describe('robust-nas command', () => {
  it('prints help and exits 0', () => {
    const r = runCommand(['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Usage: robust-nas');
  });

  it('rejects an unknown command with exit code 2 and one line naming it', () => {
    const r = runCommand(['frobnicate']);
    expect(r.code).toBe(2);
    expect(r.stderr.split('\n')[0]).toMatch(/unknown command 'frobnicate'/);
  });

  it('rejects an unknown option with exit code 2', () => {
    const r = runCommand(['--no-such-flag']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown option '--no-such-flag'/);
  });
});
