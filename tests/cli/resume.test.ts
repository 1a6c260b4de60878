import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Rng } from '../../src/core/rng.js';
import { RunCatalogue } from '../../src/store/run-catalogue.js';
import { CLI_PATH, runCommand } from '../helpers/cli.js';
import { comparableRun } from '../helpers/run-compare.js';

const root = mkdtempSync(join(tmpdir(), 'robust-nas-resume-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const SEARCH = [
  '--evaluator',
  'surrogate',
  '--population',
  '10',
  '--generations',
  // 70 candidates and about 40 re-evaluations (100 evaluations before repeated evaluation).
  '7',
  '--seed',
  '7',
  '--surrogate-delay',
  '4',
  // Repeated evaluation with seed-dependent scores: re-evaluations are killed and resumed too.
  '--initial-seeds',
  '1',
  '--max-seeds',
  '3',
  '--surrogate-noise',
  '0.03',
];

function start(args: string[]): {
  child: ChildProcess;
  exited: Promise<number | null>;
  started: Promise<void>;
} {
  const child = spawn(process.execPath, [CLI_PATH, ...args, '--json'], {
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  // With --json the first line is the 'running' run-status event: the search has started.
  const started = new Promise<void>((resolve) => child.stdout!.once('data', () => resolve()));
  child.stdout!.resume();
  return { child, exited, started };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('exact resume of a killed search (real child processes)', () => {
  it('SIGKILLed at many random instants, then resumed, ends exactly like an uninterrupted run', async () => {
    const refDir = join(root, 'reference');
    const ref = runCommand(['search', ...SEARCH, '--runs-dir', refDir, '--run-id', 'r']);
    expect(ref.stderr).toBe('');
    expect(ref.code).toBe(0);
    const expected = await comparableRun(refDir, 'r');
    expect(expected.status).toBe('completed');
    // 100 candidates and the survivors' re-evaluations (one more seed per generation, up to 3).
    expect(expected.evaluations.filter((e) => (e.seedIndex ?? 0) === 0)).toHaveLength(70);
    expect(expected.evaluations.filter((e) => e.seedIndex === 2).length).toBeGreaterThan(0);

    const dir = join(root, 'killed');
    const store = new RunCatalogue(dir);
    const rng = Rng.fromSeed('kill-instants');
    let kills = 0;
    let midRunKills = 0;
    let done = false;
    for (let attempt = 0; attempt < 60 && !done; attempt++) {
      const exists = existsSync(join(dir, 'k', 'run.json'));
      const args = exists
        ? ['resume', 'k', '--runs-dir', dir]
        : ['search', ...SEARCH, '--runs-dir', dir, '--run-id', 'k'];
      const last = attempt === 59;
      const { child, exited, started } = start(args);
      // Most kills land at a random instant after the search started (wall-clock delays alone would
      // all fall into node's start-up on a loaded machine); every fourth at a random instant after
      // spawning, which covers start-up and run creation.
      const fromSpawn = attempt % 4 === 3;
      const delay = fromSpawn ? rng.intBetween(0, 400) : rng.intBetween(0, 150);
      const timer = (fromSpawn ? Promise.resolve() : Promise.race([started, exited]))
        .then(() => sleep(last ? 120_000 : delay))
        .then(() => 'timer' as const);
      const winner = await Promise.race([exited, timer]);
      if (winner === 'timer') {
        child.kill('SIGKILL');
        await exited;
        kills++;
        if (existsSync(join(dir, 'k', 'run.json'))) {
          const s = (await store.list()).find((r) => r.id === 'k')!;
          expect(s.error).toBeUndefined();
          if (s.status !== 'completed') {
            // A run whose process died while running is reported interrupted.
            expect(['interrupted', 'created']).toContain(s.status);
            if (s.evaluations > 0) midRunKills++;
          }
        }
      } else {
        expect(winner).toBe(0);
      }
      if (existsSync(join(dir, 'k', 'run.json'))) {
        done = (await store.read('k')).status === 'completed';
      }
    }
    expect(done).toBe(true);
    expect(kills).toBeGreaterThanOrEqual(5);
    expect(midRunKills).toBeGreaterThanOrEqual(3);
    const actual = await comparableRun(dir, 'k');
    // Finished evaluations are never repeated: exactly the planned records, indices 0..n-1.
    expect(actual.evaluations.map((e) => e.index)).toEqual(
      expected.evaluations.map((e) => e.index),
    );
    expect(actual).toEqual(expected);
  });

  it('SIGTERM pauses gracefully (checkpoint, exit 0, as Ctrl-C in serve) and the run resumes to the same end', async () => {
    const dir = join(root, 'term');
    const { child, exited } = start(['search', ...SEARCH, '--runs-dir', dir, '--run-id', 't']);
    // Wait until some evaluations are on disk, then ask it to stop.
    for (let i = 0; i < 400; i++) {
      const s = existsSync(join(dir, 't', 'run.json'))
        ? (await new RunCatalogue(dir).list())[0]
        : undefined;
      if (s && s.evaluations >= 15) break;
      await sleep(10);
    }
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    const paused = await new RunCatalogue(dir).read('t');
    expect(paused.status).toBe('paused');
    const expected = await comparableRun(join(root, 'reference'), 'r');
    expect(paused.evaluations.length).toBeLessThan(expected.evaluations.length);
    const r = runCommand(['resume', 't', '--runs-dir', dir]);
    expect(r.code).toBe(0);
    expect(await comparableRun(dir, 't')).toEqual(expected);
  });
});
