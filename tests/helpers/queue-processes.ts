/**
 * Real `robust-nas` processes for the queue tests (the built CLI, as users run it): workers and
 * coordinators whose output the tests read line by line and which they can SIGKILL.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { CLI_PATH } from './cli.js';

export interface CliProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  stdout(): string;
  stderr(): string;
  /** Resolves with the first stdout or stderr line matching `pattern` (rejects after `ms`). */
  line(pattern: RegExp, ms?: number): Promise<string>;
  /** Resolves when the process has exited. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Sends `signal` and waits for the exit. */
  kill(signal?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const live = new Set<ChildProcess>();

/** Runs `robust-nas ...args` in the background. */
export function startCli(args: string[], env: NodeJS.ProcessEnv = {}): CliProcess {
  const child = spawn(process.execPath, [CLI_PATH, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  live.add(child);
  let out = '';
  let err = '';
  const waiters = new Set<() => void>();
  const poke = () => {
    for (const w of [...waiters]) w();
  };
  child.stdout!.on('data', (d: Buffer) => {
    out += d.toString();
    poke();
  });
  child.stderr!.on('data', (d: Buffer) => {
    err += d.toString();
    poke();
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => {
      live.delete(child);
      poke();
      resolve({ code, signal });
    }),
  );
  const line = (pattern: RegExp, ms = 60_000) =>
    new Promise<string>((resolve, reject) => {
      const check = () => {
        const found = `${out}\n${err}`.split('\n').find((l) => pattern.test(l));
        if (found !== undefined) {
          done();
          resolve(found);
        } else if (child.exitCode !== null || child.signalCode !== null) {
          done();
          reject(new Error(`process exited before printing ${pattern}:\n${out}\n${err}`));
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`no line matching ${pattern} within ${ms} ms:\n${out}\n${err}`));
      }, ms);
      const done = () => {
        clearTimeout(timer);
        waiters.delete(check);
      };
      waiters.add(check);
      check();
    });
  return {
    child,
    pid: child.pid!,
    stdout: () => out,
    stderr: () => err,
    line,
    exited,
    kill(signal: NodeJS.Signals = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

/** Starts `robust-nas worker` on `url` and waits until it takes jobs. */
export async function startWorker(
  url: string,
  name: string,
  options: { lockDuration?: number; concurrency?: number; env?: NodeJS.ProcessEnv } = {},
): Promise<CliProcess> {
  const worker = startCli(
    [
      'worker',
      '--redis',
      url,
      '--name',
      name,
      '--lock-duration',
      String(options.lockDuration ?? 2),
      '--concurrency',
      String(options.concurrency ?? 1),
    ],
    options.env,
  );
  await worker.line(/taking jobs from queue/);
  return worker;
}

/** SIGKILLs every process these helpers started that is still running. */
export async function killAll(): Promise<void> {
  await Promise.all(
    [...live].map(
      (c) =>
        new Promise<void>((resolve) => {
          c.once('exit', () => resolve());
          c.kill('SIGKILL');
        }),
    ),
  );
}

/** How many times `text` has a line matching `pattern`. */
export function countLines(text: string, pattern: RegExp): number {
  return text.split('\n').filter((l) => pattern.test(l)).length;
}
