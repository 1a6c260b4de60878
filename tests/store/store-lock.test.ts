/**
 * The run lock with real processes: N children open the same run at the same instant (exactly one
 * wins, the others are told who holds it), takeover right after SIGKILL on the same host, and a
 * holder on "another host" (a shared folder) kept alive by its heartbeat and stale after a timeout.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FileRunStorage } from '../../src/store/file-run-storage.js';
import { RunLockedError } from '../../src/store/errors.js';
import { LOCK_FILE } from '../../src/store/run-lock.js';
import { CLI_PATH } from '../helpers/cli.js';
import { makeRecords, makeRunFile } from '../helpers/run-records.js';
import { startChild, type StorageChild } from '../helpers/storage-child.js';

const root = mkdtempSync(join(tmpdir(), 'robust-nas-lock-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function newRun(runsDir: string, runId: string) {
  const storage = new FileRunStorage(runsDir);
  const session = await storage.create(makeRunFile(runId));
  await session.close();
  return storage;
}

function kill(child: StorageChild) {
  if (child.process.exitCode === null && child.process.signalCode === null) {
    child.process.kill('SIGKILL');
  }
}

describe('the run lock between processes', () => {
  it('of N processes opening a run at the same instant exactly one wins, every time, also when taking over a dead holder (14 trials)', async () => {
    const runsDir = join(root, 'race');
    const storage = await newRun(runsDir, 'r');
    const trials = 14;
    const racers = 4;
    const recordsFile = join(root, 'race-records.json');
    writeFileSync(recordsFile, JSON.stringify(makeRecords(trials)));
    const spreads: number[] = [];
    for (let t = 0; t < trials; t++) {
      const children = Array.from({ length: racers }, () =>
        startChild('race', runsDir, 'r', { records: recordsFile, holdMs: 800 }),
      );
      try {
        await Promise.all(children.map((c) => c.next((m) => m.ready === true)));
        if (t % 2 === 1) {
          // Every other trial races to take over the lock of a holder that died (a pid that
          // cannot exist): only one of them may remove it and take the run.
          writeFileSync(
            join(runsDir, 'r', LOCK_FILE),
            JSON.stringify({ pid: 2 ** 30, host: hostname(), token: `dead${t}`, since: '' }),
          );
        }
        // The starting shot, to every racer at once: they open within a millisecond or two.
        for (const c of children) c.process.stdin!.write('go\n');
        const results = await Promise.all(children.map((c) => c.next((m) => 'result' in m)));
        const winners = results.filter((m) => m.result === 'won');
        const losers = results.filter((m) => m.result === 'locked');
        expect(winners).toHaveLength(1);
        expect(losers).toHaveLength(racers - 1);
        const winner = winners[0]!;
        for (const l of losers) {
          expect(l.holderPid).toBe(winner.pid);
          expect(l.holderHost).toBe(hostname());
          expect(l.message).toMatch(new RegExp(`already running \\(process ${winner.pid} on `));
        }
        const tried = results.map((m) => m.triedAt as number);
        spreads.push(Math.max(...tried) - Math.min(...tried));
        expect(await Promise.all(children.map((c) => c.exited))).toEqual(Array(racers).fill(0));
      } finally {
        children.forEach(kill);
      }
    }
    // Each loser was refused naming the winner, so it tried while the winner held the run: a
    // second winner could only have been a second holder at the same time.
    console.log(
      `lock race: ${trials} trials x ${racers} processes; spread of attempts per trial: median ${spreads.sort((a, b) => a - b)[trials >> 1]!.toFixed(1)} ms, max ${spreads[trials - 1]!.toFixed(1)} ms`,
    );
    // One record per trial, each stored once: the journal reads back whole.
    const run = await storage.read('r');
    expect(run.evaluations.map((e) => e.index)).toEqual([...Array(trials).keys()]);
    expect(readdirSync(join(runsDir, 'r')).sort()).toEqual(['evaluations.jsonl', 'run.json']);
  });

  it('a run whose holder was SIGKILLed is taken over at once on the same host', async () => {
    const runsDir = join(root, 'kill');
    const storage = await newRun(runsDir, 'k');
    const timings: number[] = [];
    for (let trial = 0; trial < 3; trial++) {
      const holder = startChild('hold', runsDir, 'k');
      try {
        await holder.next((m) => m.result === 'won');
        expect((await storage.read('k')).status).toBe('running');
        const refused = await storage.open('k').then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(refused).toBeInstanceOf(RunLockedError);
        expect(refused).toMatchObject({ pid: holder.pid, host: hostname() });
        holder.process.kill('SIGKILL');
        expect(await holder.exited).toBeNull();
        // The dead holder's lock is still there: the run now reads as interrupted...
        expect(existsSync(join(runsDir, 'k', LOCK_FILE))).toBe(true);
        expect((await storage.read('k')).status).toBe('interrupted');
        expect((await storage.list())[0]!.status).toBe('interrupted');
        // ...and the next open takes it over at once.
        const t0 = performance.now();
        const session = await storage.open('k');
        timings.push(performance.now() - t0);
        expect(session.file.status).toBe('running');
        expect((await storage.read('k')).status).toBe('running');
        await session.update({ status: 'paused' });
        await session.close();
      } finally {
        kill(holder);
      }
    }
    expect(Math.max(...timings)).toBeLessThan(1_000);
    console.log(`takeover after SIGKILL: ${timings.map((t) => t.toFixed(1)).join(', ')} ms`);
    expect(readdirSync(join(runsDir, 'k')).sort()).toEqual(['evaluations.jsonl', 'run.json']);
  });

  it('a holder on another host is alive while it refreshes the lock, and stale after the timeout', async () => {
    const runsDir = join(root, 'remote');
    const options = { staleMs: 2_000, heartbeatMs: 100 };
    const storage = new FileRunStorage(runsDir, options);
    await (await storage.create(makeRunFile('h'))).close();
    const holder = startChild('hold', runsDir, 'h', {
      options: { ...options, host: 'other-host.example' },
    });
    try {
      await holder.next((m) => m.result === 'won');
      // Refused for well over the stale time: the heartbeat keeps the lock fresh.
      const until = Date.now() + 4_500;
      let refusals = 0;
      while (Date.now() < until) {
        await expect(storage.open('h')).rejects.toMatchObject({
          name: 'RunLockedError',
          pid: holder.pid,
          host: 'other-host.example',
        });
        expect((await storage.read('h')).status).toBe('running');
        refusals++;
        await sleep(200);
      }
      expect(refusals).toBeGreaterThan(10);
      holder.process.kill('SIGKILL');
      await holder.exited;
      const killedAt = performance.now();
      // Its pid means nothing here (another host): only the lock's age tells, so it is still held.
      await expect(storage.open('h')).rejects.toBeInstanceOf(RunLockedError);
      let session;
      while (!session) {
        session = await storage.open('h').catch((e: unknown) => {
          if (!(e instanceof RunLockedError)) throw e;
          return undefined;
        });
        if (!session) await sleep(50);
      }
      const waited = performance.now() - killedAt;
      expect(waited).toBeLessThan(4_000);
      console.log(
        `takeover of a silent other-host holder: ${waited.toFixed(0)} ms (stale 2000 ms)`,
      );
      expect((await storage.read('h')).status).toBe('running');
      await session.close();
      expect((await storage.read('h')).status).toBe('interrupted');
    } finally {
      kill(holder);
    }
  });

  it('two `robust-nas resume` started together: one runs, the other exits 2 naming it (4 trials)', async () => {
    const runsDir = join(root, 'cli');
    for (let t = 0; t < 4; t++) {
      const runId = `c${t}`;
      // A paused run that has not started: each resume has 16 evaluations of 150 ms to run (one
      // seed per candidate).
      const created = await new FileRunStorage(runsDir).create(
        makeRunFile(runId, {
          population: 4,
          generations: 4,
          seed: t,
          surrogateDelayMs: 150,
          resampling: { initialSeeds: 1, maxSeeds: 1 },
        }),
      );
      await created.update({ status: 'paused' });
      await created.close();
      const procs = [0, 1].map(() => {
        const child = spawn(process.execPath, [CLI_PATH, 'resume', runId, '--runs-dir', runsDir], {
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        let stderr = '';
        child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
        child.stdout.resume();
        return new Promise<{ code: number | null; stderr: string; pid: number }>((r) =>
          child.on('exit', (code) => r({ code, stderr, pid: child.pid! })),
        );
      });
      const results = await Promise.all(procs);
      const codes = results.map((r) => r.code).sort();
      expect(codes).toEqual([0, 2]);
      const winner = results.find((r) => r.code === 0)!;
      const loser = results.find((r) => r.code === 2)!;
      expect(loser.stderr).toContain(
        `run ${runId} is already running (process ${winner.pid} on ${hostname()})`,
      );
      const stored = await new FileRunStorage(runsDir).read(runId);
      expect(stored.status).toBe('completed');
      expect(stored.evaluations.map((e) => e.index)).toEqual([...Array(16).keys()]);
    }
  });
});

describe('the run lock within one process', () => {
  it('of 8 storage objects opening a run at once exactly one wins (40 trials, half over a dead lock)', async () => {
    const runsDir = join(root, 'inproc');
    await newRun(runsDir, 'p');
    for (let t = 0; t < 40; t++) {
      if (t % 2 === 1) {
        writeFileSync(
          join(runsDir, 'p', LOCK_FILE),
          JSON.stringify({ pid: 2 ** 30, host: hostname(), token: `dead${t}`, since: '' }),
        );
      }
      const outcomes = await Promise.allSettled(
        Array.from({ length: 8 }, () => new FileRunStorage(runsDir).open('p')),
      );
      const won = outcomes.flatMap((o) => (o.status === 'fulfilled' ? [o.value] : []));
      const refused = outcomes.flatMap((o) => (o.status === 'rejected' ? [o.reason] : []));
      expect(won).toHaveLength(1);
      for (const e of refused) expect(e).toBeInstanceOf(RunLockedError);
      await won[0]!.close();
      expect(readdirSync(join(runsDir, 'p')).sort()).toEqual(['evaluations.jsonl', 'run.json']);
    }
  });
});

describe('judging a lock left behind', () => {
  const lockOf = (owner: Record<string, unknown>) =>
    JSON.stringify({ token: 'abcdef0123456789', since: new Date().toISOString(), ...owner });

  it('takes over a lock whose pid is gone, reused, from before a reboot, or this process without the token', async () => {
    const runsDir = join(root, 'judge');
    const storage = await newRun(runsDir, 'j');
    const lockPath = join(runsDir, 'j', LOCK_FILE);
    const alive = process.ppid; // exists and is not us
    const cases = [
      { pid: 2 ** 30, host: hostname() },
      { pid: alive, host: hostname(), started: '1' }, // pid reused by another process
      { pid: alive, host: hostname(), bootId: 'another-boot' },
      { pid: process.pid, host: hostname() }, // our pid, not a token we hold
    ];
    for (const owner of cases) {
      writeFileSync(lockPath, lockOf(owner));
      writeFileSync(
        join(runsDir, 'j', 'run.json'),
        JSON.stringify({
          ...JSON.parse(readFileSync(join(runsDir, 'j', 'run.json'), 'utf8')),
          status: 'running',
        }),
      );
      expect((await storage.read('j')).status).toBe('interrupted');
      const session = await storage.open('j');
      expect(JSON.parse(readFileSync(lockPath, 'utf8')).pid).toBe(process.pid);
      await session.close();
      expect(existsSync(lockPath)).toBe(false);
    }
  });

  it('respects a live holder named in the lock, and a second session of this process', async () => {
    const runsDir = join(root, 'live');
    const storage = await newRun(runsDir, 'l');
    const lockPath = join(runsDir, 'l', LOCK_FILE);
    writeFileSync(lockPath, lockOf({ pid: process.ppid, host: hostname() }));
    await expect(storage.open('l')).rejects.toThrow(
      `run l is already running (process ${process.ppid} on ${hostname()})`,
    );
    rmSync(lockPath);
    const first = await storage.open('l');
    await expect(new FileRunStorage(runsDir).open('l')).rejects.toMatchObject({
      name: 'RunLockedError',
      pid: process.pid,
      host: hostname(),
    });
    await first.close();
    await (await storage.open('l')).close();
  });

  it('takes over through a takeover guard whose holder died, and clears the leftovers', async () => {
    const runsDir = join(root, 'guard');
    const storage = await newRun(runsDir, 'g');
    const dir = join(runsDir, 'g');
    writeFileSync(join(dir, LOCK_FILE), lockOf({ pid: 2 ** 30, host: hostname() }));
    writeFileSync(
      join(dir, `${LOCK_FILE}.takeover.abcdef0123456789`),
      lockOf({ pid: 2 ** 30 - 1, host: hostname(), token: '1111222233334444' }),
    );
    writeFileSync(join(dir, `${LOCK_FILE}.99aa.tmp`), 'left by a kill');
    const session = await storage.open('g');
    expect(readdirSync(dir).sort()).toEqual(['evaluations.jsonl', 'run.json', LOCK_FILE]);
    await session.close();
    expect(readdirSync(dir).sort()).toEqual(['evaluations.jsonl', 'run.json']);
  });
});
