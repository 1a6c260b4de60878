/**
 * The server's projection of storage (src/server/run-state.ts, run-manager.ts) over an in-memory
 * RunStorage: a run written by a runner the manager drives and a run written by someone else
 * travel the same path (storage's watch), the projection is core's view of what storage holds,
 * and from the runner's events only activity is taken (an event that contradicts storage changes
 * nothing).
 */
import { describe, expect, it } from 'vitest';
import type { SearchEvent, SearchEventListener } from '../../src/core/events.js';
import { getPublishedGenotype } from '../../src/core/published-genotypes.js';
import type { RunFile, StoredEvaluation } from '../../src/core/records.js';
import { Rng } from '../../src/core/rng.js';
import type { RunStatus } from '../../src/core/run-status.js';
import {
  applyChange,
  runHeader,
  runOverview,
  viewOf,
  type RunChange,
} from '../../src/core/run-view.js';
import { parseSearchConfig, type SearchConfig } from '../../src/core/search-config.js';
import { HttpError } from '../../src/server/http-errors.js';
import { RunManager, type LiveSearchRun, type RunEngine } from '../../src/server/run-manager.js';
import { RunProjection, storedRunChanges } from '../../src/server/run-state.js';
import type { RunSession } from '../../src/store/run-storage.js';
import { MemoryRunStorage } from '../helpers/memory-run-storage.js';

const genotype = getPublishedGenotype('DARTS_V2');
const config = parseSearchConfig({ population: 3, generations: 1, evaluator: 'surrogate' });

function runFile(id: string, c: SearchConfig = config): RunFile {
  const now = new Date().toISOString();
  return {
    format: 'robust-nas-run',
    formatVersion: 1,
    id,
    createdAt: now,
    updatedAt: now,
    status: 'created',
    config: c,
    checkpoint: {
      generation: 0,
      rngState: Rng.fromSeed(1).state(),
      evaluationsAtStart: 0,
      population: [],
    },
    generations: [],
  };
}

function record(index: number, clean: number): StoredEvaluation {
  const now = new Date().toISOString();
  return {
    index,
    generation: 0,
    genotype,
    hash: `h${index}`,
    status: 'finished',
    scores: {
      clean: { accuracy: clean, stderr: 0.01, n: 1000 },
      adversarial: [{ attack: 'pgd', eps: 0.1, accuracy: clean / 2, stderr: 0.01, n: 1000 }],
      hrs: (2 * clean * (clean / 2)) / (clean + clean / 2),
      params: 1000,
      macs: 2000,
      seconds: { train: 1, attack: 1, total: 2 },
      backend: 'test',
    },
    objectives: [clean, clean / 2],
    cached: false,
    seed: 100 + index,
    startedAt: now,
    finishedAt: now,
  };
}

/** Writes one generation of three evaluations through a storage session, as the runner does. */
async function writeGeneration(session: RunSession, emit: (e: SearchEvent) => void) {
  const id = session.runId;
  await session.update({ status: 'running' });
  emit({ type: 'run-status', runId: id, status: 'running', generation: 0 });
  for (let i = 0; i < 3; i++) {
    const inGeneration = { done: i, total: 3 };
    emit({
      type: 'evaluation-started',
      runId: id,
      index: i,
      generation: 0,
      inGeneration,
      genotype,
      hash: `h${i}`,
    });
    emit({ type: 'evaluation-progress', runId: id, index: i, phase: 'train', done: 1, total: 2 });
    const r = record(i, 0.5 + i / 10);
    await session.append(r);
    // An event that disagrees with storage: the projection must not take it.
    emit({ type: 'evaluation-finished', runId: id, evaluation: { ...r, hash: 'bogus' } });
  }
  const summary = {
    generation: 0,
    population: [0, 1, 2],
    front: [2],
    hypervolume: 0.3,
    evaluations: 3,
  };
  await session.update({
    checkpoint: {
      ...session.file.checkpoint,
      generation: 1,
      evaluationsAtStart: 3,
      population: [0, 1, 2],
    },
    generations: [summary],
  });
  emit({ type: 'generation-finished', runId: id, ...summary });
  await session.update({ status: 'completed' });
  emit({ type: 'run-status', runId: id, status: 'completed', generation: 1 });
}

/** A runner that writes through the storage, like SearchRun, and reports events. */
class ScriptedRun implements LiveSearchRun {
  private readonly listeners = new Set<SearchEventListener>();
  private current: RunStatus = 'created';
  constructor(
    readonly id: string,
    private readonly storage: MemoryRunStorage,
  ) {}
  status(): RunStatus {
    return this.current;
  }
  on(listener: SearchEventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
  async run(): Promise<void> {
    const session = await this.storage.open(this.id);
    try {
      await writeGeneration(session, (e) => {
        if (e.type === 'run-status') this.current = e.status;
        for (const l of this.listeners) l(e);
      });
    } finally {
      await session.close();
    }
  }
  pause(): void {}
  async stop(): Promise<void> {
    const session = await this.storage.open(this.id);
    await session.update({ status: 'stopped' });
    await session.close();
  }
}

function engine(storage: MemoryRunStorage): RunEngine {
  let n = 0;
  return {
    storage,
    parseConfig: (body) => parseSearchConfig(body as object),
    async create(c) {
      const id = `run-${++n}`;
      await (await storage.create(runFile(id, c))).close();
      return new ScriptedRun(id, storage);
    },
    open: async (id) => new ScriptedRun(id, storage),
  };
}

describe('the server projection of storage', () => {
  it('is core’s view of what storage holds, advanced only by storage and activity', async () => {
    const storage = new MemoryRunStorage();
    const manager = new RunManager(engine(storage));
    const seen: RunChange[] = [];
    manager.onChange((_p, item) => seen.push(item.change));
    const overview = await manager.start({ population: 3, generations: 1, evaluator: 'surrogate' });
    await manager.settled(overview.id);
    const projection = (await manager.projection(overview.id))!;
    const stored = await storage.read(overview.id);
    const expected = viewOf(runHeader(stored.file, stored.status), stored.evaluations);
    expect(projection.view.run).toEqual(expected.run);
    expect(projection.view.evaluations).toEqual(expected.evaluations);
    expect(projection.view.working).toEqual({});
    expect(projection.overview()).toEqual(runOverview(expected, false));
    expect(projection.overview()).toMatchObject({
      status: 'completed',
      evaluations: 3,
      live: false,
    });
    // Nothing from the runner's finished events (their hash was 'bogus'), every record from storage.
    const records = seen.flatMap((c) => (c.type === 'evaluation' ? [c.evaluation] : []));
    expect(records).toEqual(stored.evaluations);
    expect(seen.some((c) => c.type === 'activity' && c.activity.phase === 'train')).toBe(true);
    expect(new Set(seen.map((c) => c.type))).toEqual(new Set(['run', 'evaluation', 'activity']));
    // Core's status machine answers run control.
    await expect(manager.pause(overview.id)).rejects.toMatchObject({ status: 409 });
    await expect(manager.resume(overview.id)).rejects.toThrow(/completed/);
    await manager.close();
  });

  it('follows a run that someone else writes, the same way', async () => {
    const storage = new MemoryRunStorage();
    const manager = new RunManager(engine(storage));
    const session = await storage.create(runFile('elsewhere'));
    const projection = (await manager.projection('elsewhere'))!;
    expect(projection.overview()).toMatchObject({
      status: 'created',
      live: false,
      resumable: true,
    });
    const done = writeGeneration(session, () => {});
    await done;
    expect(projection.view.evaluations.map((e) => e.index)).toEqual([0, 1, 2]);
    expect(projection.status).toBe('completed');
    // Stopping a run held by another writer is refused by the status machine's rules.
    await expect(manager.stop('elsewhere')).rejects.toBeInstanceOf(HttpError);
    await session.close();
    await manager.close();
  });

  it('reports a run whose writer is gone as interrupted, and stops it through the runner', async () => {
    const storage = new MemoryRunStorage();
    const manager = new RunManager(engine(storage));
    const session = await storage.create(runFile('dies'));
    await session.update({ status: 'running' });
    const projection = (await manager.projection('dies'))!;
    expect(projection.status).toBe('running');
    await expect(manager.stop('dies')).rejects.toThrow(/another process/);
    await session.close(); // the writer's process ends without a word
    expect(projection.overview()).toMatchObject({ status: 'interrupted', resumable: true });
    const stopped = await manager.stop('dies');
    expect(stopped).toMatchObject({ status: 'stopped', resumable: true });
    await expect(manager.stop('dies')).rejects.toThrow(/already stopped/);
    await manager.close();
  });
});

describe('storage changes as view changes', () => {
  it('orders a catch-up so no generation summary precedes its evaluations, and drops repeats', () => {
    const file: RunFile = {
      ...runFile('order'),
      status: 'running',
      checkpoint: { ...runFile('order').checkpoint, generation: 1, evaluationsAtStart: 3 },
      generations: [
        { generation: 0, population: [0, 1, 2], front: [2], hypervolume: 0.3, evaluations: 3 },
      ],
    };
    const evaluations = [0, 1, 2, 3].map((i) => ({ ...record(i, 0.5), generation: i < 3 ? 0 : 1 }));
    const changes = storedRunChanges({ file, status: 'running', evaluations });
    expect(changes.map((c) => (c.type === 'evaluation' ? c.evaluation.index : c.type))).toEqual([
      0,
      1,
      2,
      'run',
      3,
    ]);
    const projection = new RunProjection({
      file: runFile('order'),
      status: 'created',
      evaluations: [],
    });
    for (const c of changes) projection.apply(c);
    const seq = projection.seq;
    for (const c of changes) projection.apply(c); // storage may report a fact twice
    expect(projection.seq).toBe(seq);
    expect(projection.view).toEqual(
      changes.reduce((v, c) => applyChange(v, c, 0), viewOf(runHeader(runFile('order')), [])),
    );
  });
});
