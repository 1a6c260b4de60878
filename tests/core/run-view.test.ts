import { describe, expect, it } from 'vitest';
import { paretoFront } from '../../src/core/front.js';
import { applyBatch, type ChangeBatch, type RunSnapshot } from '../../src/core/live-feed.js';
import type { EvaluationRecord } from '../../src/core/records.js';
import {
  applyChange,
  currentFront,
  generationFront,
  generationProgress,
  hypervolumeHistory,
  runOverview,
  viewOf,
  type RunChange,
  type RunHeader,
  type RunView,
} from '../../src/core/run-view.js';
import { parseSearchConfig } from '../../src/core/search-config.js';
import { getPublishedGenotype } from '../../src/core/published-genotypes.js';

const config = parseSearchConfig({
  population: 3,
  generations: 2,
  evaluator: 'surrogate',
  objectives: [
    { metric: 'clean', direction: 'max' },
    { metric: 'params', direction: 'min' },
  ],
});
const genotype = getPublishedGenotype('DARTS_V2');

function record(index: number, objectives: number[] | null, hash = `h${index}`): EvaluationRecord {
  return {
    index,
    generation: index < 3 ? 0 : 1,
    genotype,
    hash,
    status: objectives ? 'finished' : 'failed',
    ...(objectives ? { objectives } : { failure: 'NaN loss' }),
    cached: false,
    startedAt: new Date(1_000 + index).toISOString(),
    finishedAt: new Date(2_000 + index).toISOString(),
  };
}

const header = (over: Partial<RunHeader> = {}): RunHeader => ({
  id: 'run-1',
  status: 'running',
  createdAt: '2026-01-01T00:00:00.000Z',
  updatedAt: '2026-01-01T00:00:00.000Z',
  config,
  generation: 0,
  generations: [],
  ...over,
});

describe('paretoFront', () => {
  it('keeps the non-dominated finished records, each genotype once, on the objectives and directions', () => {
    const records = [
      record(0, [0.9, 100]),
      record(1, [0.8, 50]),
      record(2, [0.7, 60]), // dominated by 1 (lower clean, more params)
      record(3, null), // failed
      record(4, [0.95, 100], 'h0'), // a second copy of genotype h0: not counted
      record(5, [0.9, 100]), // equal to 0: neither dominates
    ];
    expect(paretoFront(records, config.objectives)).toEqual([0, 1, 5]);
    expect(paretoFront([], config.objectives)).toEqual([]);
  });
});

describe('the run view reducer', () => {
  it('builds the same view from changes as from the stored records', () => {
    const records = [record(0, [0.9, 100]), record(1, [0.8, 50]), record(2, [0.7, 60])];
    const summary = {
      generation: 0,
      population: [0, 1, 2],
      front: [0, 1],
      hypervolume: 0.5,
      evaluations: 3,
    };
    const end = header({ generation: 1, generations: [summary], status: 'completed' });

    let live: RunView = viewOf(header(), []);
    const changes: RunChange[] = [
      {
        type: 'activity',
        activity: { index: 0, generation: 0, phase: 'started', done: 0, total: 1 },
      },
      {
        type: 'activity',
        activity: { index: 0, generation: 0, phase: 'train', done: 3, total: 10 },
      },
      { type: 'evaluation', evaluation: records[0]! },
      { type: 'evaluation', evaluation: records[2]! }, // out of order
      {
        type: 'activity',
        activity: { index: 1, generation: 0, phase: 'attack', done: 1, total: 2 },
      },
      { type: 'evaluation', evaluation: records[1]! },
      { type: 'evaluation', evaluation: records[1]! }, // delivered twice
      { type: 'run', run: end },
    ];
    changes.forEach((c, k) => {
      live = applyChange(live, c, 5_000 + k);
    });
    const stored = viewOf(end, [records[2]!, records[0]!, records[1]!]);
    expect(live.evaluations).toEqual(stored.evaluations);
    expect(live.run).toEqual(stored.run);
    expect(live.working).toEqual({});
    expect(currentFront(live)).toEqual([0, 1]);
    expect(generationFront(live)?.records.map((r) => r.index)).toEqual([0, 1]);
    expect(hypervolumeHistory(live)).toEqual([{ generation: 0, evaluations: 3, hypervolume: 0.5 }]);
    expect(runOverview(live, false)).toMatchObject({
      status: 'completed',
      evaluations: 3,
      // A completed run made all it will make (with repeated evaluation the plan is an upper bound).
      plannedEvaluations: 3,
      resumable: false,
    });
  });

  it('tracks the work in flight and the progress of the generation', () => {
    let v = viewOf(header(), [record(0, [0.9, 100])]);
    v = applyChange(
      v,
      {
        type: 'activity',
        activity: { index: 1, generation: 0, phase: 'train', done: 1, total: 4 },
      },
      9_000,
    );
    expect(generationProgress(v)).toEqual({
      generation: 0,
      done: 1,
      total: 3,
      running: [1],
      startedAt: 1_000,
    });
    v = applyChange(v, { type: 'run', run: header({ status: 'paused' }) }, 9_001);
    expect(v.working).toEqual({});
    expect(runOverview(v, false).resumable).toBe(true);
    expect(runOverview(v, true).resumable).toBe(false);
  });

  it('shows the last generation as the current one once every generation is done', () => {
    const records = [0, 1, 2, 3, 4, 5].map((i) => record(i, [0.5 + i / 100, 50]));
    const done = viewOf(header({ status: 'completed', generation: 2 }), records);
    expect(generationProgress(done)).toMatchObject({ generation: 1, done: 3, total: 3 });
  });

  it('applies batches in order, ignores duplicates and asks for a resync after a gap', () => {
    const snap: RunSnapshot = {
      runId: 'run-1',
      epoch: 'e1',
      seq: 4,
      view: viewOf(header(), []),
      live: true,
    };
    const batch = (fromSeq: number, toSeq: number, index: number): ChangeBatch => ({
      runId: 'run-1',
      epoch: 'e1',
      fromSeq,
      toSeq,
      changes: [
        {
          seq: toSeq,
          at: 1,
          live: true,
          change: { type: 'evaluation', evaluation: record(index, [0.5, 10]) },
        },
      ],
    });
    const next = applyBatch(snap, batch(4, 5, 0));
    expect(next).not.toBe('resync');
    expect((next as RunSnapshot).view.evaluations.map((e) => e.index)).toEqual([0]);
    expect(applyBatch(next as RunSnapshot, batch(4, 5, 0))).toBe(next);
    expect(applyBatch(next as RunSnapshot, batch(6, 7, 1))).toBe('resync');
    expect(applyBatch(next as RunSnapshot, { ...batch(5, 6, 1), epoch: 'e2' })).toBe('resync');
  });
});
