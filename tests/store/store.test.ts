import {
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
  appendFileSync,
} from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { InputError } from '../../src/core/errors.js';
import { SearchRun } from '../../src/runner/search-run.js';
import {
  RunCorruptError,
  RunFormatVersionError,
  RunLockedError,
  RunNotFoundError,
} from '../../src/store/errors.js';
import { parseJournal } from '../../src/store/json-lines.js';
import { FileRunStorage } from '../../src/store/file-run-storage.js';
import { RunCatalogue } from '../../src/store/run-catalogue.js';

const root = mkdtempSync(join(tmpdir(), 'robust-nas-store-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Where SearchRun keeps its runs: the runs folder, and the storage on it for a runner that takes one. */
const inDir = (runsDir: string) => ({ runsDir, storage: new FileRunStorage(runsDir) });

let counter = 0;
async function completedRun(runsDir: string, generations = 2) {
  const runId = `run${counter++}`;
  const run = await SearchRun.create(
    // One seed per candidate, so the evaluation counts below are exact.
    {
      evaluator: 'surrogate',
      population: 4,
      generations,
      seed: 3,
      resampling: { initialSeeds: 1, maxSeeds: 1 },
    },
    { ...inDir(runsDir), runId },
  );
  await run.run();
  return runId;
}

describe('JSON-lines journal', () => {
  it('ignores a torn last line and reports where complete lines end', () => {
    const j = parseJournal('{"a":1}\n{"a":2}\n{"a":');
    expect(j.values).toEqual([{ a: 1 }, { a: 2 }]);
    expect(j.torn).toBe(true);
    expect(j.validBytes).toBe(16);
  });

  it('keeps a whole last line that lost only its newline', () => {
    expect(parseJournal('{"a":1}\n{"a":2}')).toMatchObject({
      values: [{ a: 1 }, { a: 2 }],
      torn: false,
    });
  });

  it('rejects a broken line that is not the last one', () => {
    expect(() => parseJournal('{"a":1}\n{"a"\n{"a":3}\n')).toThrow(/line 2 is not valid JSON/);
  });
});

describe('RunCatalogue', () => {
  it('lists and reads a finished run with everything the issue asks for', async () => {
    const dir = join(root, 'basic');
    const id = await completedRun(dir, 3);
    const store = new RunCatalogue(dir);
    const [summary] = await store.list();
    expect(summary).toMatchObject({
      id,
      status: 'completed',
      generation: 3,
      generations: 3,
      evaluations: 12,
      plannedEvaluations: 12,
      strategy: 'nsga2',
      evaluator: 'surrogate',
    });
    const data = await store.read(id);
    expect(data.evaluations).toHaveLength(12);
    expect(data.generations.map((g) => g.generation)).toEqual([0, 1, 2]);
    const e = data.evaluations[5]!;
    expect(e.scores?.backend).toBe('surrogate');
    expect(e.scores?.seconds.total).toBeGreaterThan(0);
    expect(e.objectives).toHaveLength(2);
    for (const g of data.generations) {
      expect(g.population).toHaveLength(4);
      expect(g.front.length).toBeGreaterThan(0);
    }
  });

  it('rejects invalid run ids (no path traversal) with InputError, unknown ones with RunNotFoundError', async () => {
    const store = new RunCatalogue(join(root, 'basic'));
    for (const bad of ['../basic', 'a/b', '', '.hidden', 'x'.repeat(65)]) {
      await expect(store.read(bad)).rejects.toBeInstanceOf(InputError);
    }
    await expect(store.read('missing')).rejects.toBeInstanceOf(RunNotFoundError);
  });

  it('reports a corrupt run file clearly, lists it with an error, and never overwrites it', async () => {
    const dir = join(root, 'corrupt');
    const good = await completedRun(dir);
    const bad = await completedRun(dir);
    const file = join(dir, bad, 'run.json');
    const text = readFileSync(file, 'utf8');
    const broken = text.slice(0, text.length / 2);
    writeFileSync(file, broken);
    const store = new RunCatalogue(dir);
    await expect(store.read(bad)).rejects.toBeInstanceOf(RunCorruptError);
    await expect(store.read(bad)).rejects.toThrow(/run\.json is not valid JSON/);
    const list = await store.list();
    expect(list.find((r) => r.id === good)!.error).toBeUndefined();
    expect(list.find((r) => r.id === bad)!.error).toMatch(/corrupt/);
    await expect(new FileRunStorage(dir).open(bad)).rejects.toBeInstanceOf(RunCorruptError);
    expect(readFileSync(file, 'utf8')).toBe(broken);
  });

  it('reports a broken evaluation line in the middle of the journal as corruption', async () => {
    const dir = join(root, 'journal');
    const id = await completedRun(dir);
    const file = join(dir, id, 'evaluations.jsonl');
    const lines = readFileSync(file, 'utf8').split('\n');
    lines[2] = '{"index": 2, "oops"';
    writeFileSync(file, lines.join('\n'));
    const before = readFileSync(file, 'utf8');
    await expect(new RunCatalogue(dir).read(id)).rejects.toThrow(/evaluations\.jsonl line 3/);
    await expect(new FileRunStorage(dir).open(id)).rejects.toBeInstanceOf(RunCorruptError);
    expect(readFileSync(file, 'utf8')).toBe(before);
  });

  it('refuses a run written by a newer format version, untouched', async () => {
    const dir = join(root, 'newer');
    const id = await completedRun(dir);
    const file = join(dir, id, 'run.json');
    const raw = JSON.parse(readFileSync(file, 'utf8'));
    raw.formatVersion = 99;
    raw.somethingNew = true;
    writeFileSync(file, JSON.stringify(raw));
    const before = readFileSync(file, 'utf8');
    await expect(new RunCatalogue(dir).read(id)).rejects.toBeInstanceOf(RunFormatVersionError);
    await expect(new FileRunStorage(dir).open(id)).rejects.toThrow(/format version 99/);
    expect(readFileSync(file, 'utf8')).toBe(before);
  });

  it("reports a 'running' run nobody holds as 'interrupted', one whose lock holder lives as running", async () => {
    const dir = join(root, 'interrupted');
    const id = await completedRun(dir);
    const file = join(dir, id, 'run.json');
    const raw = JSON.parse(readFileSync(file, 'utf8'));
    // A pid that cannot exist (above the kernel's pid_max).
    writeFileSync(file, JSON.stringify({ ...raw, status: 'running', pid: 2 ** 30 }));
    expect((await new RunCatalogue(dir).read(id)).status).toBe('interrupted');
    // The pid in run.json is not the lock: without a live lock holder the run is interrupted.
    writeFileSync(file, JSON.stringify({ ...raw, status: 'running', pid: process.ppid }));
    expect((await new RunCatalogue(dir).read(id)).status).toBe('interrupted');
    // process.ppid is alive and is not us: as the lock's holder it makes the run running, locked.
    writeFileSync(
      join(dir, id, 'run.lock'),
      JSON.stringify({ pid: process.ppid, host: hostname(), token: 'feed', since: raw.createdAt }),
    );
    expect((await new RunCatalogue(dir).read(id)).status).toBe('running');
    await expect(new FileRunStorage(dir).open(id)).rejects.toBeInstanceOf(RunLockedError);
  });

  it('a resumed run cuts a torn last journal line and continues', async () => {
    const dir = join(root, 'torn');
    const runId = 'torn';
    const run = await SearchRun.create(
      { evaluator: 'surrogate', population: 4, generations: 3, seed: 5 },
      { ...inDir(dir), runId },
    );
    run.on((e) => {
      if (e.type === 'evaluation-finished' && e.evaluation.index === 5) run.pause();
    });
    await run.run();
    expect(run.status()).toBe('paused');
    appendFileSync(join(dir, runId, 'evaluations.jsonl'), '{"index":6,"generat');
    expect((await new RunCatalogue(dir).read(runId)).evaluations).toHaveLength(6);
    const resumed = await SearchRun.open(runId, inDir(dir));
    await resumed.run();
    const data = await new RunCatalogue(dir).read(runId);
    expect(data.status).toBe('completed');
    // 12 candidates plus the survivors' re-evaluations (repeated evaluation), densely indexed.
    expect(data.evaluations.length).toBeGreaterThan(12);
    expect(data.evaluations.map((e) => e.index)).toEqual([
      ...Array(data.evaluations.length).keys(),
    ]);
    expect(data.evaluations.filter((e) => (e.seedIndex ?? 0) === 0)).toHaveLength(12);
  });

  it('lists nothing for a missing folder and skips folders that hold no run', async () => {
    expect(await new RunCatalogue(join(root, 'nothing-here')).list()).toEqual([]);
    const dir = join(root, 'mixed');
    mkdirSync(join(dir, 'not-a-run'), { recursive: true });
    await completedRun(dir);
    expect((await new RunCatalogue(dir).list()).map((r) => r.id)).toHaveLength(1);
  });
});
