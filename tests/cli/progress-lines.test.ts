/**
 * Progress without a terminal: evaluate's lines (a phase's start and every tenth of it, decided by
 * the counts) and a search's line per evaluation, generations counted from 1.
 */
import { describe, expect, it } from 'vitest';
import { evaluationLine, PhaseBars } from '../../src/cli/progress.js';
import { generationLabel, generationNumber } from '../../src/core/generation-label.js';
import { parseSearchConfig } from '../../src/core/search-config.js';
import type { EvaluationRecord } from '../../src/core/records.js';
import { sampleGenotype } from '../../src/core/sampling.js';
import { Rng } from '../../src/core/rng.js';

describe('evaluate: progress lines', () => {
  it('a line when a phase starts and at each tenth of it, the same for the same counts', () => {
    const run = (): string[] => {
      const lines: string[] = [];
      const bars = new PhaseBars((l) => lines.push(l), true);
      bars.update({ phase: 'data', done: 0, total: 1 });
      bars.update({ phase: 'data', done: 1, total: 1 });
      for (let done = 0; done <= 40; done++) bars.update({ phase: 'train', done, total: 40 });
      for (let done = 0; done <= 3; done++) bars.update({ phase: 'attack', done, total: 3 });
      bars.stop();
      return lines;
    };
    const lines = run();
    expect(lines).toEqual([
      'robust-nas: loading the data set\n',
      ...Array.from(
        { length: 11 },
        (_, k) => `robust-nas: training: ${4 * k}/40 steps (${10 * k}%)\n`,
      ),
      'robust-nas: scoring (clean, then each attack): 0/3 batches (0%)\n',
      'robust-nas: scoring (clean, then each attack): 1/3 batches (33%)\n',
      'robust-nas: scoring (clean, then each attack): 2/3 batches (67%)\n',
      'robust-nas: scoring (clean, then each attack): 3/3 batches (100%)\n',
    ]);
    expect(run()).toEqual(lines);
  });
});

describe('search: a line per evaluation', () => {
  const config = parseSearchConfig({
    generations: 4,
    objectives: [
      { metric: 'clean', direction: 'max' },
      { metric: 'adversarial', attack: 'pgd', eps: 0.1, direction: 'max' },
    ],
  });
  const base: EvaluationRecord = {
    index: 6,
    generation: 1,
    genotype: sampleGenotype(Rng.fromSeed(1)),
    hash: '0123456789abcdef',
    status: 'finished',
    objectives: [0.91234, 0.4],
    seedIndex: 2,
    cached: false,
    startedAt: '2026-01-01T00:00:00.000Z',
    finishedAt: '2026-01-01T00:00:12.340Z',
  };

  it('finished, cached and failed evaluations; generations counted from 1 as on the page', () => {
    expect(evaluationLine(config, base, ' of 30')).toBe(
      'evaluation 7 of 30, generation 2 of 4 (01234567, seed 3 of its genotype): clean 0.9123, pgd@0.1 0.4000 in 12.3 s',
    );
    expect(evaluationLine(config, { ...base, seedIndex: 0, cached: true }, '')).toBe(
      'evaluation 7, generation 2 of 4 (01234567): clean 0.9123, pgd@0.1 0.4000 (cached)',
    );
    expect(
      evaluationLine(
        config,
        { ...base, status: 'failed', objectives: undefined, failure: 'NaN loss' },
        '',
      ),
    ).toBe(
      'evaluation 7, generation 2 of 4 (01234567, seed 3 of its genotype): failed in 12.3 s: NaN loss',
    );
    expect(generationNumber(0)).toBe(1);
    expect(generationLabel(3)).toBe('generation 4');
  });
});
