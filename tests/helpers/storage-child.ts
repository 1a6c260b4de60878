/** Spawns tests/helpers/storage-child.mjs and reads the JSON lines it prints. */
import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';

const SCRIPT = resolve(import.meta.dirname, 'storage-child.mjs');

export type ChildMessage = Record<string, unknown> & { pid: number };

export interface StorageChild {
  readonly process: ChildProcess;
  readonly pid: number;
  readonly messages: ChildMessage[];
  /** Resolves with the first message (already received or to come) that `test` accepts. */
  next(test: (m: ChildMessage) => boolean, timeoutMs?: number): Promise<ChildMessage>;
  /** Resolves with the exit code (null when killed by a signal). */
  readonly exited: Promise<number | null>;
  stderr(): string;
}

export function startChild(
  command: 'race' | 'hold' | 'write',
  runsDir: string,
  runId: string,
  args: Record<string, unknown> = {},
): StorageChild {
  const child = spawn(process.execPath, [SCRIPT, command, runsDir, runId, JSON.stringify(args)], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const messages: ChildMessage[] = [];
  const waiters: { test: (m: ChildMessage) => boolean; resolve: (m: ChildMessage) => void }[] = [];
  let buffered = '';
  let err = '';
  child.stderr!.on('data', (chunk: Buffer) => (err += chunk.toString()));
  child.stdout!.on('data', (chunk: Buffer) => {
    buffered += chunk.toString();
    let nl;
    while ((nl = buffered.indexOf('\n')) !== -1) {
      const line = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      if (!line.trim()) continue;
      const m = JSON.parse(line) as ChildMessage;
      messages.push(m);
      for (const w of [...waiters]) {
        if (w.test(m)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(m);
        }
      }
    }
  });
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  return {
    process: child,
    pid: child.pid!,
    messages,
    exited,
    stderr: () => err,
    next(test, timeoutMs = 30_000) {
      const seen = messages.find(test);
      if (seen) return Promise.resolve(seen);
      return new Promise<ChildMessage>((resolve, reject) => {
        const timer = setTimeout(
          () =>
            reject(
              new Error(
                `child ${child.pid}: no such message within ${timeoutMs} ms; stderr: ${err}`,
              ),
            ),
          timeoutMs,
        );
        const done = (m: ChildMessage) => {
          clearTimeout(timer);
          resolve(m);
        };
        waiters.push({ test, resolve: done });
        void exited.then(() => {
          if (waiters.some((w) => w.resolve === done)) {
            clearTimeout(timer);
            reject(new Error(`child ${child.pid} exited before the message; stderr: ${err}`));
          }
        });
      });
    },
  };
}
