/**
 * A SIGTERM that arrives before a command installed its handler (while modules load or a run is
 * opened on a busy machine) is held and handed to the handler once installed, instead of killing
 * the process (exit code null, no checkpoint). Decided by the order of events, not by time: the
 * child waits until the signal is held, then installs its handler.
 */
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';

const MODULE = pathToFileURL(resolve(import.meta.dirname, '../../dist/cli/early-signals.js')).href;

function child(hold: boolean) {
  const script = `
    const m = await import(${JSON.stringify(MODULE)});
    if (${hold}) m.holdEarlySignals(true);
    process.kill(process.pid, 'SIGTERM');
    // Until the signal has arrived (held, or the process is gone).
    while (m.unhandledSignalExitCode() === undefined) await new Promise((r) => setImmediate(r));
    process.on('SIGTERM', () => { console.log('stopped gracefully'); process.exit(0); });
    setInterval(() => {}, 1000);
  `;
  return spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    encoding: 'utf8',
    timeout: 60_000,
  });
}

describe('a signal before the handler', () => {
  it('without holding, kills the process at once (the race)', () => {
    const r = child(false);
    expect(r.signal).toBe('SIGTERM');
    expect(r.status).toBeNull();
  });

  it('held, reaches the handler installed later: a graceful stop, exit 0', () => {
    const r = child(true);
    expect(r.stdout).toBe('stopped gracefully\n');
    expect(r.status).toBe(0);
  });
});
