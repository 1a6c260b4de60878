/**
 * The file backend beyond the shared conformance suite: the format on disk, "runs are never
 * corrupted" (issue 11: a refused request writes nothing, creating refuses a non-empty folder,
 * leftovers of a kill are removed at the first write), reading after an offset, and watching
 * writes made by another process.
 */
import {
  appendFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { InputError } from '../../src/core/errors.js';
import { startServer } from '../../src/server/server.js';
import { FileRunStorage } from '../../src/store/file-run-storage.js';
import { RunCorruptError } from '../../src/store/errors.js';
import type { RunStatus } from '../../src/core/run-status.js';
import type { StoredChange } from '../../src/store/run-storage.js';
import { runCommand } from '../helpers/cli.js';
import { makeRecords, makeRunFile } from '../helpers/run-records.js';
import { startChild } from '../helpers/storage-child.js';

const root = mkdtempSync(join(tmpdir(), 'robust-nas-files-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let dirs = 0;
const fresh = () => join(root, `d${dirs++}`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Every file under `dir` (relative path -> bytes), to compare a folder before and after. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string, prefix: string) => {
    for (const name of readdirSync(d, { withFileTypes: true })) {
      const path = join(d, name.name);
      if (name.isDirectory()) walk(path, `${prefix}${name.name}/`);
      else out[`${prefix}${name.name}`] = readFileSync(path).toString('base64');
    }
  };
  walk(dir, '');
  return out;
}

/** A run with `n` evaluations, closed (nobody holds it). */
async function storedRun(runsDir: string, runId: string, n: number, status: RunStatus = 'paused') {
  const storage = new FileRunStorage(runsDir);
  const session = await storage.create(makeRunFile(runId));
  for (const r of makeRecords(n)) await session.append(r);
  await session.update({ status });
  await session.close();
  return storage;
}

describe('the run folder on disk', () => {
  it('keeps the format: run.json as one JSON line through lowdb, one evaluation per journal line', async () => {
    const runsDir = fresh();
    const storage = new FileRunStorage(runsDir);
    const session = await storage.create(makeRunFile('fmt'));
    const records = makeRecords(3);
    for (const r of records) await session.append(r);
    await session.update({ status: 'paused', message: 'm' });
    const dir = join(runsDir, 'fmt');
    expect(readFileSync(join(dir, 'run.json'), 'utf8')).toBe(`${JSON.stringify(session.file)}\n`);
    expect(readFileSync(join(dir, 'evaluations.jsonl'), 'utf8')).toBe(
      records.map((r) => `${JSON.stringify(r)}\n`).join(''),
    );
    expect(readdirSync(dir).sort()).toEqual(['evaluations.jsonl', 'run.json', 'run.lock']);
    await session.close();
    expect(readdirSync(dir).sort()).toEqual(['evaluations.jsonl', 'run.json']);
  });

  it('reads a run folder written by the former writer, and resumes it', async () => {
    // What RunWriter wrote before FileRunStorage: the same two files, plus its own temp file name.
    const runsDir = fresh();
    const dir = join(runsDir, 'old');
    mkdirSync(dir, { recursive: true });
    const file = { ...makeRunFile('old'), status: 'running' as const, pid: 2 ** 30, host: 'h' };
    const records = makeRecords(4);
    writeFileSync(join(dir, 'run.json'), `${JSON.stringify(file)}\n`);
    writeFileSync(join(dir, 'evaluations.jsonl'), records.map((r) => JSON.stringify(r)).join('\n'));
    writeFileSync(join(dir, '.run.json.4242.7.tmp'), '{"format":');
    const storage = new FileRunStorage(runsDir);
    const stored = await storage.read('old');
    expect(stored.status).toBe('interrupted');
    expect(stored.evaluations).toEqual(records);
    const session = await storage.open('old');
    await session.append(makeRecords(1, 4)[0]!);
    await session.close();
    expect((await storage.read('old')).evaluations.map((e) => e.index)).toEqual([0, 1, 2, 3, 4]);
    expect(readdirSync(dir).sort()).toEqual(['evaluations.jsonl', 'run.json']);
  });
});

describe('issue 11: runs are never corrupted', () => {
  it('creating a run refuses a folder that holds anything, naming the folder and what is in it', async () => {
    const runsDir = fresh();
    await storedRun(runsDir, 'x', 3);
    const dir = join(runsDir, 'x');
    unlinkSync(join(dir, 'run.json'));
    const before = snapshot(dir);
    const storage = new FileRunStorage(runsDir);
    const err = await storage.create(makeRunFile('x')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InputError);
    expect((err as Error).message).toBe(
      `cannot create run x: its folder ${dir} already exists and holds evaluations.jsonl (choose another run id, or move that folder away)`,
    );
    expect(snapshot(dir)).toEqual(before);
    // An empty folder (say, made by hand) is fine.
    mkdirSync(join(runsDir, 'empty'));
    await (await storage.create(makeRunFile('empty'))).close();
    expect((await storage.read('empty')).status).toBe('created');
  });

  it('`robust-nas search --run-id` over a folder whose run.json was deleted exits 2 and leaves it alone', () => {
    const runsDir = fresh();
    const args = ['search', '--evaluator', 'surrogate', '--population', '4', '--generations', '2'];
    const first = runCommand([...args, '--runs-dir', runsDir, '--run-id', 'same']);
    expect(first.code).toBe(0);
    const dir = join(runsDir, 'same');
    unlinkSync(join(dir, 'run.json'));
    const before = snapshot(dir);
    const again = runCommand([...args, '--runs-dir', runsDir, '--run-id', 'same']);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain(`its folder ${dir} already exists and holds evaluations.jsonl`);
    expect(snapshot(dir)).toEqual(before);
  });

  it('opening a session and closing it without a write leaves every byte and the file list as they were', async () => {
    const runsDir = fresh();
    const storage = await storedRun(runsDir, 'o', 5, 'paused');
    const dir = join(runsDir, 'o');
    // What a kill leaves: a torn last line, temp files of run.json (steno's and the former
    // writer's) and of weights.
    appendFileSync(join(dir, 'evaluations.jsonl'), '{"index":5,"gener');
    writeFileSync(join(dir, '.run.json.tmp'), '{"form');
    writeFileSync(join(dir, '.run.json.123.4.tmp'), '{');
    mkdirSync(join(dir, 'weights'));
    writeFileSync(join(dir, 'weights', '3.weights'), 'w3');
    writeFileSync(join(dir, 'weights', '.4.weights.99.0.tmp'), 'half');
    const before = snapshot(dir);
    const session = await storage.open('o');
    expect(session.evaluations).toHaveLength(5);
    await session.close();
    expect(snapshot(dir)).toEqual(before);
  });

  it('POST /api/runs/<id>/stop on a completed run with a torn last line: 409, journal untouched', async () => {
    const runsDir = fresh();
    await storedRun(runsDir, 'c', 4, 'completed');
    const journal = join(runsDir, 'c', 'evaluations.jsonl');
    appendFileSync(journal, '{"index":4,"generation":1,"geno');
    const before = snapshot(join(runsDir, 'c'));
    const server = await startServer({ port: 0, runsDir });
    try {
      const res = await fetch(new URL('/api/runs/c/stop', server.url), {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
      });
      expect(res.status).toBe(409);
      expect(((await res.json()) as { error: string }).error).toContain('completed');
    } finally {
      await server.close();
    }
    expect(snapshot(join(runsDir, 'c'))).toEqual(before);
  });

  it.each(['append', 'update', 'putWeights'] as const)(
    'leftovers of a kill or a full disk are removed at the first write (%s)',
    async (write) => {
      const runsDir = fresh();
      const storage = await storedRun(runsDir, 't', 3);
      const dir = join(runsDir, 't');
      const journal = join(dir, 'evaluations.jsonl');
      const whole = readFileSync(journal, 'utf8');
      appendFileSync(journal, '{"index":3,"generation":0,"genotype":{"normal":[["sep_conv');
      writeFileSync(join(dir, '.run.json.tmp'), '{"form');
      writeFileSync(join(dir, '.run.json.77.0.tmp'), '{');
      mkdirSync(join(dir, 'weights'));
      writeFileSync(join(dir, 'weights', '1.weights'), 'kept');
      writeFileSync(join(dir, 'weights', '.2.weights.77.3.tmp'), 'half written');
      const session = await storage.open('t');
      expect(existsSync(join(dir, '.run.json.tmp'))).toBe(true); // not at open
      if (write === 'append') await session.append(makeRecords(1, 3)[0]!);
      if (write === 'update') await session.update({ message: 'first write' });
      if (write === 'putWeights') await session.putWeights(0, Uint8Array.of(1, 2, 3));
      expect(readdirSync(dir).sort()).toEqual([
        'evaluations.jsonl',
        'run.json',
        'run.lock',
        'weights',
      ]);
      expect(readdirSync(join(dir, 'weights')).sort()).toEqual(
        write === 'putWeights' ? ['0.weights', '1.weights'] : ['1.weights'],
      );
      const text = readFileSync(journal, 'utf8');
      expect(text.startsWith(whole)).toBe(true);
      expect(text.length - whole.length).toBe(
        write === 'append' ? JSON.stringify(makeRecords(1, 3)[0]).length + 1 : 0,
      );
      await session.close();
      expect((await storage.read('t')).evaluations).toHaveLength(write === 'append' ? 4 : 3);
    },
  );

  it('a whole last line that lost its newline gets one before the next append', async () => {
    const runsDir = fresh();
    const storage = await storedRun(runsDir, 'n', 2);
    const journal = join(runsDir, 'n', 'evaluations.jsonl');
    writeFileSync(journal, readFileSync(journal, 'utf8').trimEnd());
    const session = await storage.open('n');
    await session.append(makeRecords(1, 2)[0]!);
    await session.close();
    expect(readFileSync(journal, 'utf8').split('\n')).toHaveLength(4);
    expect((await storage.read('n')).evaluations.map((e) => e.index)).toEqual([0, 1, 2]);
  });

  it('a corrupt journal is refused before anything is written, lock included', async () => {
    const runsDir = fresh();
    const storage = await storedRun(runsDir, 'bad', 3);
    const journal = join(runsDir, 'bad', 'evaluations.jsonl');
    const lines = readFileSync(journal, 'utf8').split('\n');
    lines[1] = '{"index": 1, "oops"';
    writeFileSync(journal, lines.join('\n'));
    const before = snapshot(join(runsDir, 'bad'));
    await expect(storage.open('bad')).rejects.toThrow(RunCorruptError);
    await expect(storage.open('bad')).rejects.toThrow(/evaluations\.jsonl line 2/);
    expect(snapshot(join(runsDir, 'bad'))).toEqual(before);
  });
});

describe('reading after an index', () => {
  it('reads only what another writer appended since, and never a line still being written', async () => {
    const runsDir = fresh();
    const writer = new FileRunStorage(runsDir);
    const reader = new FileRunStorage(runsDir);
    const session = await writer.create(makeRunFile('r'));
    const records = makeRecords(8);
    for (const r of records.slice(0, 3)) await session.append(r);
    expect((await reader.read('r')).evaluations).toEqual(records.slice(0, 3));
    for (const r of records.slice(3, 6)) await session.append(r);
    expect((await reader.readAfter('r', 3)).evaluations).toEqual(records.slice(3, 6));
    expect((await reader.readAfter('r', 1)).evaluations).toEqual(records.slice(1, 6));
    // Half a line, as a writer leaves it for an instant: not an evaluation yet.
    const journal = join(runsDir, 'r', 'evaluations.jsonl');
    const line = `${JSON.stringify(records[6])}\n`;
    appendFileSync(journal, line.slice(0, 100));
    expect((await reader.readAfter('r', 6)).evaluations).toEqual([]);
    appendFileSync(journal, line.slice(100));
    expect((await reader.readAfter('r', 6)).evaluations).toEqual([records[6]]);
    await session.close();
    // A run deleted and created again under the same id is read afresh.
    rmSync(join(runsDir, 'r'), { recursive: true });
    const again = await writer.create(makeRunFile('r'));
    await again.append(records[0]!);
    expect((await reader.readAfter('r', 0)).evaluations).toEqual([records[0]]);
    await again.close();
  });
});

describe('watching writes of another process', () => {
  it.each(['fs', 'poll'] as const)(
    'sees every record of a child writer exactly once, in order, and the final run file (%s)',
    async (watchMode) => {
      const runsDir = fresh();
      const storage = new FileRunStorage(runsDir, { watchMode, watchPollMs: 100 });
      await (await storage.create(makeRunFile('w'))).close();
      const records = makeRecords(40);
      const recordsFile = join(runsDir, 'records.json');
      writeFileSync(recordsFile, JSON.stringify(records));
      const changes: StoredChange[] = [];
      let done: () => void = () => {};
      const finished = new Promise<void>((r) => (done = r));
      const heardAt = new Map<number, number>();
      storage.watch('w', (c) => {
        changes.push(c);
        const at = performance.timeOrigin + performance.now();
        if (c.type === 'evaluations') for (const e of c.evaluations) heardAt.set(e.index, at);
        if (c.type === 'run' && c.file.status === 'completed') done();
      });
      const t0 = performance.now();
      const child = startChild('write', runsDir, 'w', {
        records: recordsFile,
        gapMs: 5,
        updateEvery: 7,
        stamp: true,
      });
      await child.next((m) => m.done === true, 60_000);
      const wroteAt = performance.now();
      await Promise.race([
        finished,
        sleep(5_000).then(() => {
          throw new Error('the watcher did not see the run completed within 5 s');
        }),
      ]);
      const lag = performance.now() - wroteAt;
      const seen = changes.flatMap((c) => (c.type === 'evaluations' ? c.evaluations : []));
      expect(seen).toEqual(records);
      const runs = changes.filter((c) => c.type === 'run');
      const last = runs.at(-1)!;
      expect(last.type === 'run' && last.file).toEqual((await storage.read('w')).file);
      expect(runs.map((c) => c.type === 'run' && c.status)).toContain('running');
      // Never the same run file twice.
      const texts = runs.map((c) => c.type === 'run' && JSON.stringify(c.file));
      expect(new Set(texts).size).toBe(texts.length);
      expect(await child.exited).toBe(0);
      await sleep(300);
      expect(changes.flatMap((c) => (c.type === 'evaluations' ? c.evaluations : []))).toHaveLength(
        40,
      );
      await storage.close();
      // From the child's append resolving to the parent's listener call, per record.
      const latency = child.messages
        .filter((m) => typeof m.appended === 'number')
        .map((m) => heardAt.get(m.appended as number)! - (m.at as number))
        .sort((a, b) => a - b);
      expect(latency).toHaveLength(40);
      expect(latency.at(-1)!).toBeLessThan(watchMode === 'fs' ? 2_000 : 3_000);
      console.log(
        `watch (${watchMode}): 40 records + ${runs.length} run changes from a child in ${(wroteAt - t0).toFixed(0)} ms; ` +
          `latency append -> listener: median ${latency[20]!.toFixed(1)} ms, max ${latency.at(-1)!.toFixed(1)} ms; ` +
          `last change seen ${lag.toFixed(1)} ms after the child finished`,
      );
    },
  );

  it("reports the death of a running run's process as status 'interrupted'", async () => {
    const runsDir = fresh();
    const storage = new FileRunStorage(runsDir, { livenessMs: 100 });
    await (await storage.create(makeRunFile('d'))).close();
    const statuses: string[] = [];
    storage.watch('d', (c) => {
      if (c.type === 'run') statuses.push(c.status);
    });
    const holder = startChild('hold', runsDir, 'd');
    try {
      await holder.next((m) => m.result === 'won');
      for (let i = 0; i < 200 && !statuses.includes('running'); i++) await sleep(10);
      expect(statuses).toEqual(['running']);
      holder.process.kill('SIGKILL');
      await holder.exited;
      const t0 = performance.now();
      for (let i = 0; i < 300 && statuses.length < 2; i++) await sleep(10);
      expect(statuses).toEqual(['running', 'interrupted']);
      expect(performance.now() - t0).toBeLessThan(2_000);
    } finally {
      holder.process.kill('SIGKILL');
      await storage.close();
    }
  });

  it('a watcher never reports a line still being written, and reports it once it is whole', async () => {
    const runsDir = fresh();
    const storage = new FileRunStorage(runsDir);
    const other = new FileRunStorage(runsDir);
    const session = await other.create(makeRunFile('t'));
    const changes: StoredChange[] = [];
    storage.watch('t', (c) => changes.push(c));
    await sleep(100);
    const record = makeRecords(1)[0]!;
    const line = `${JSON.stringify(record)}\n`;
    const journal = join(runsDir, 't', 'evaluations.jsonl');
    appendFileSync(journal, line.slice(0, 80));
    await sleep(200);
    expect(changes).toEqual([]);
    appendFileSync(journal, line.slice(80));
    for (let i = 0; i < 200 && changes.length === 0; i++) await sleep(10);
    expect(changes).toEqual([{ type: 'evaluations', evaluations: [record] }]);
    expect(statSync(journal).size).toBe(line.length);
    await session.close();
    await storage.close();
  });
});
