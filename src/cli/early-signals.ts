/**
 * SIGTERM and SIGINT that arrive before a command installed its own handlers (while modules load,
 * data sets are read, a run is opened): without this they killed the process at once (exit code
 * null, no checkpoint), a race a busy machine makes likely. Imported first by src/cli.ts, and
 * active only when that file is the process's main module (never in a program that imports it):
 *
 * - a signal that no other handler takes is held;
 * - the first handler a command installs for it receives it at once (the command then stops as it
 *   always does: checkpoint, hand jobs back, exit 0);
 * - a command that ends without ever installing one exits with 128 + the signal's number, as a
 *   shell reports a process the signal ended.
 */
import { realpathSync } from 'node:fs';
import { constants } from 'node:os';
import { fileURLToPath } from 'node:url';

type HeldSignal = 'SIGTERM' | 'SIGINT';
const SIGNALS: readonly HeldSignal[] = ['SIGTERM', 'SIGINT'];
const held = new Set<HeldSignal>();

function isCliMain(): boolean {
  if (!process.argv[1]) return false;
  try {
    const cli = fileURLToPath(new URL('../cli.js', import.meta.url));
    return realpathSync(process.argv[1]) === realpathSync(cli);
  } catch {
    return false;
  }
}

function hold(signal: NodeJS.Signals): void {
  // Another handler (the command's) is installed: it handles the signal.
  if (process.listenerCount(signal) > 1) return;
  if (signal === 'SIGTERM' || signal === 'SIGINT') held.add(signal);
}

/** Installs the holders (idempotent); true when active. */
export function holdEarlySignals(force = false): boolean {
  if (!force && !isCliMain()) return false;
  if (process.listeners('SIGTERM').includes(hold)) return true;
  for (const s of SIGNALS) process.on(s, hold);
  process.on('newListener', (event: string | symbol) => {
    if ((event === 'SIGTERM' || event === 'SIGINT') && held.has(event)) {
      held.delete(event);
      // Once the command's handler is in place (it is added right after this event).
      setImmediate(() => process.emit(event, event));
    }
  });
  return true;
}

/** The exit code for a signal that arrived and no command handled (128 + its number), if any. */
export function unhandledSignalExitCode(): number | undefined {
  for (const s of SIGNALS) if (held.has(s)) return 128 + constants.signals[s];
  return undefined;
}

holdEarlySignals();
