/**
 * What every RunStorage backend must do, run against the file backend and the in-memory one.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { InputError } from '../../src/core/errors.js';
import { FileRunStorage } from '../../src/store/file-run-storage.js';
import { RunLockedError, RunNotFoundError } from '../../src/store/errors.js';
import type { RunStorage, StoredChange } from '../../src/store/run-storage.js';
import { MemoryRunStorage } from '../helpers/memory-run-storage.js';
import { makeRecords, makeRunFile } from '../helpers/run-records.js';

const root = mkdtempSync(join(tmpdir(), 'robust-nas-conformance-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let dirs = 0;

interface Backend {
  readonly storage: RunStorage;
  /** The bytes kept for evaluation `index` of a run. */
  weights(runId: string, index: number): Uint8Array | undefined;
}

const backends: [string, () => Backend][] = [
  [
    'file',
    () => {
      const storage = new FileRunStorage(join(root, `d${dirs++}`));
      return {
        storage,
        weights: (runId, index) => {
          try {
            return new Uint8Array(readFileSync(storage.weightsPath(runId, index)));
          } catch {
            return undefined;
          }
        },
      };
    },
  ],
  [
    'memory',
    () => {
      const storage = new MemoryRunStorage();
      return { storage, weights: (runId, index) => storage.weights(runId, index) };
    },
  ],
];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.each(backends)('RunStorage conformance: %s backend', (_name, make) => {
  it('creates a run that reads back as written, lists it, and refuses the id a second time', async () => {
    const { storage } = make();
    const file = makeRunFile('a');
    const session = await storage.create(file);
    expect(session.runId).toBe('a');
    expect(session.file).toEqual(file);
    expect(session.evaluations).toEqual([]);
    const stored = await storage.read('a');
    expect(stored).toEqual({ file, status: 'created', evaluations: [] });
    await expect(storage.create(makeRunFile('a'))).rejects.toThrow(InputError);
    await expect(storage.create(makeRunFile('a'))).rejects.toThrow(/cannot create run a/);
    await session.close();
    await expect(storage.create(makeRunFile('a'))).rejects.toThrow(InputError);
    const list = await storage.list();
    expect(list).toHaveLength(1);
    expect(list[0]).toMatchObject({
      id: 'a',
      status: 'created',
      evaluations: 0,
      generation: 0,
      generations: 3,
      // At most: 12 candidates and, with the default repeated evaluation, 4 re-evaluated survivors
      // in each of generations 1 and 2.
      plannedEvaluations: 20,
      evaluator: 'surrogate',
    });
  });

  it('rejects ids that could name another path, reports unknown runs, refuses an invalid run file', async () => {
    const { storage } = make();
    for (const bad of ['../x', 'a/b', '', '.hidden', 'x'.repeat(65)]) {
      await expect(storage.read(bad)).rejects.toBeInstanceOf(InputError);
      await expect(storage.open(bad)).rejects.toBeInstanceOf(InputError);
      await expect(storage.create(makeRunFile(bad))).rejects.toBeInstanceOf(InputError);
    }
    await expect(storage.read('missing')).rejects.toBeInstanceOf(RunNotFoundError);
    await expect(storage.readAfter('missing', 0)).rejects.toBeInstanceOf(RunNotFoundError);
    await expect(storage.open('missing')).rejects.toBeInstanceOf(RunNotFoundError);
    const broken = { ...makeRunFile('b'), checkpoint: { generation: -1 } } as never;
    await expect(storage.create(broken)).rejects.toThrow(/cannot create run b: its run file/);
    await expect(storage.read('b')).rejects.toBeInstanceOf(RunNotFoundError);
  });

  it('appends evaluations in index order only, and reads them all or from an index on', async () => {
    const { storage } = make();
    const session = await storage.create(makeRunFile('e'));
    const records = makeRecords(10);
    for (const r of records.slice(0, 6)) await session.append(r);
    await expect(session.append(records[7]!)).rejects.toThrow(/evaluation 7 .* next index is 6/);
    await expect(session.append(records[2]!)).rejects.toThrow(/next index is 6/);
    await expect(session.append({ ...records[6]!, hash: 3 } as never)).rejects.toThrow(
      /evaluation 6 cannot be stored \(hash:/,
    );
    for (const r of records.slice(6)) await session.append(r);
    expect(session.evaluations).toEqual(records);
    expect((await storage.read('e')).evaluations).toEqual(records);
    expect((await storage.readAfter('e', 0)).evaluations).toEqual(records);
    expect((await storage.readAfter('e', 7)).evaluations).toEqual(records.slice(7));
    expect((await storage.readAfter('e', 10)).evaluations).toEqual([]);
    expect((await storage.readAfter('e', 99)).evaluations).toEqual([]);
    await session.close();
    const reopened = await storage.open('e');
    expect(reopened.evaluations).toEqual(records);
    await reopened.append(makeRecords(1, 10)[0]!);
    expect((await storage.readAfter('e', 9)).evaluations.map((e) => e.index)).toEqual([9, 10]);
    await reopened.close();
  });

  it('updates the run file (updatedAt moves, createdAt stays) and refuses an update that would not read back', async () => {
    const { storage } = make();
    const file = makeRunFile('u');
    const session = await storage.create(file);
    await sleep(5);
    await session.update({ status: 'running', message: 'hello' });
    expect(session.file.status).toBe('running');
    expect(session.file.updatedAt > file.updatedAt).toBe(true);
    expect(session.file.createdAt).toBe(file.createdAt);
    const stored = await storage.read('u');
    expect(stored.file).toEqual(session.file);
    expect(stored.status).toBe('running');
    // A generation that names an evaluation the run does not hold would make the run unreadable.
    await expect(
      session.update({
        generations: [
          { generation: 0, population: [0], front: [0], hypervolume: 0, evaluations: 1 },
        ],
      }),
    ).rejects.toThrow(/update is invalid .*not stored/);
    expect((await storage.read('u')).file).toEqual(session.file);
    await session.update({ message: undefined });
    expect((await storage.read('u')).file.message).toBeUndefined();
    await session.close();
  });

  it('holds a run for one session at a time; a running run nobody holds is interrupted', async () => {
    const { storage } = make();
    const first = await storage.create(makeRunFile('l'));
    await expect(storage.open('l')).rejects.toBeInstanceOf(RunLockedError);
    await expect(storage.open('l')).rejects.toMatchObject({ pid: process.pid });
    await first.update({ status: 'running' });
    expect((await storage.read('l')).status).toBe('running');
    expect((await storage.list())[0]!.status).toBe('running');
    await first.close();
    await first.close(); // idempotent
    await expect(first.append(makeRecords(1)[0]!)).rejects.toThrow(/closed/);
    expect((await storage.read('l')).status).toBe('interrupted');
    expect((await storage.list())[0]!.status).toBe('interrupted');
    const second = await storage.open('l');
    expect(second.file.status).toBe('running');
    expect((await storage.read('l')).status).toBe('running');
    await second.update({ status: 'paused' });
    await second.close();
    expect((await storage.read('l')).status).toBe('paused');
  });

  it('keeps and prunes the weights of evaluations', async () => {
    const backend = make();
    const session = await backend.storage.create(makeRunFile('w'));
    const bytes = (n: number) => Uint8Array.from({ length: 64 }, (_, k) => (k * n) & 255);
    for (const i of [0, 1, 2]) await session.putWeights(i, bytes(i + 1));
    expect(backend.weights('w', 1)).toEqual(bytes(2));
    expect(backend.storage.weightsPath('w', 1)).toMatch(/w.weights.1\.weights$/);
    await session.pruneWeights([1]);
    expect(backend.weights('w', 0)).toBeUndefined();
    expect(backend.weights('w', 1)).toEqual(bytes(2));
    expect(backend.weights('w', 2)).toBeUndefined();
    await session.close();
  });

  it('lists runs newest first', async () => {
    const { storage } = make();
    for (const id of ['old', 'mid', 'new']) {
      await (await storage.create(makeRunFile(id))).close();
      await sleep(5);
    }
    expect((await storage.list()).map((s) => s.id)).toEqual(['new', 'mid', 'old']);
  });

  it('tells watchers of every write at once, each evaluation once and in order', async () => {
    const { storage } = make();
    const changes: StoredChange[] = [];
    const unwatch = storage.watch('v', (c) => changes.push(c));
    const session = await storage.create(makeRunFile('v'));
    expect(changes).toEqual([{ type: 'run', file: session.file, status: 'created' }]);
    await session.update({ status: 'running' });
    expect(changes.at(-1)).toEqual({ type: 'run', file: session.file, status: 'running' });
    const records = makeRecords(5);
    for (const r of records) {
      await session.append(r);
      // At once: when append resolves, the listener has the record.
      expect(changes.at(-1)).toEqual({ type: 'evaluations', evaluations: [r] });
    }
    await session.close();
    expect(changes.at(-1)).toMatchObject({ type: 'run', status: 'interrupted' });
    // Nothing more arrives later (the file system's own notices bring nothing new).
    await sleep(300);
    const evaluations = changes.flatMap((c) => (c.type === 'evaluations' ? c.evaluations : []));
    expect(evaluations.map((e) => e.index)).toEqual([0, 1, 2, 3, 4]);
    expect(changes.map((c) => (c.type === 'run' ? c.status : 'e'))).toEqual([
      'created',
      'running',
      'e',
      'e',
      'e',
      'e',
      'e',
      'interrupted',
    ]);
    unwatch();
    const again = await storage.open('v');
    await again.update({ status: 'paused' });
    await again.close();
    await sleep(100);
    expect(changes).toHaveLength(8);
  });

  it('a watch from an index first catches up with the run and the evaluations not read yet', async () => {
    const { storage } = make();
    const session = await storage.create(makeRunFile('f'));
    const records = makeRecords(6);
    for (const r of records.slice(0, 4)) await session.append(r);
    const read = await storage.read('f');
    const changes: StoredChange[] = [];
    storage.watch('f', (c) => changes.push(c), 2);
    await session.append(records[4]!);
    const seen = () => changes.flatMap((c) => (c.type === 'evaluations' ? c.evaluations : []));
    for (let i = 0; i < 200 && seen().length < 3; i++) await sleep(10);
    await session.append(records[5]!);
    expect(seen().map((e) => e.index)).toEqual([2, 3, 4, 5]);
    expect(changes.find((c) => c.type === 'run')).toEqual({
      type: 'run',
      file: read.file,
      status: 'created',
    });
    await session.close();
    await storage.close();
  });

  it('stops every watcher on close', async () => {
    const { storage } = make();
    const session = await storage.create(makeRunFile('c'));
    const changes: StoredChange[] = [];
    storage.watch('c', (c) => changes.push(c));
    await storage.close();
    await session.append(makeRecords(1)[0]!);
    await session.close();
    await sleep(100);
    expect(changes).toEqual([]);
  });
});
