import { describe, expect, it } from 'vitest';
import { candidateEstimates, pooledSeedVariance } from '../../src/core/candidates.js';
import { getPublishedGenotype } from '../../src/core/published-genotypes.js';
import type { EvaluationRecord } from '../../src/core/records.js';
import type { ObjectiveSpec } from '../../src/core/objectives.js';

const OBJECTIVES: ObjectiveSpec[] = [{ metric: 'hrs', direction: 'max' }];
const g = getPublishedGenotype('DARTS_V2');

let index = 0;
const record = (hash: string, seedIndex: number, value: number): EvaluationRecord => ({
  index: index++,
  generation: 0,
  genotype: g,
  hash,
  status: 'finished',
  objectives: [value],
  seedIndex,
  cached: false,
  startedAt: '',
  finishedAt: '',
});

describe('the pooled seed variance floors every standard error', () => {
  // A: 0.5, 0.7 (squares 0.01 + 0.01); B: 0.2, 0.3, 0.4 (0.01 + 0 + 0.01); C: 0.6 alone.
  // Pooled: 0.04 / (1 + 2) = 0.013333; C's error sqrt(0.013333 / 1) = 0.11547 (its own: none).
  const records = [
    record('A', 0, 0.5),
    record('A', 1, 0.7),
    record('B', 0, 0.2),
    record('B', 1, 0.3),
    record('B', 2, 0.4),
    record('C', 0, 0.6),
  ];
  const est = candidateEstimates(records, OBJECTIVES);

  it('pooled variance, hand-computed', () => {
    expect(pooledSeedVariance([...est.values()], 1)[0]).toBeCloseTo(0.04 / 3, 12);
  });

  it('a one-seed candidate carries the pooled seed error; others the larger of theirs and it', () => {
    expect(est.get('C')!.stderr[0]).toBeCloseTo(Math.sqrt(0.04 / 3), 12);
    // A: own stderr sd(0.5, 0.7)/sqrt(2) = 0.1 vs sqrt(0.013333/2) = 0.0816: 0.1
    expect(est.get('A')!.stderr[0]).toBeCloseTo(0.1, 12);
    // B: own sd 0.1 / sqrt(3) = 0.057735 vs sqrt(0.013333/3) = 0.066667: the pooled floor
    expect(est.get('B')!.stderr[0]).toBeCloseTo(Math.sqrt(0.04 / 9), 12);
    // Means are untouched.
    expect(est.get('B')!.mean[0]).toBeCloseTo(0.3, 12);
  });

  it('no floor while no candidate has two seeds', () => {
    const single = candidateEstimates([record('D', 0, 0.4), record('E', 0, 0.5)], OBJECTIVES);
    expect(single.get('D')!.stderr[0]).toBe(0);
    expect(pooledSeedVariance([...single.values()], 1)[0]).toBeUndefined();
  });
});
