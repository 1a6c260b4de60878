/**
 * Longest expected first: evaluations waiting for a worker start in decreasing order of their
 * networks' multiply-adds (ties in the order they came), so a generation does not end with one long
 * evaluation on one worker while the others idle. The order changes nothing stored (the runner
 * stores in index order: tests/runner/search-run.test.ts and the determinism tests).
 */
import { describe, expect, it } from 'vitest';
import { evalConfigSchema, type EvaluationResult } from '../../src/core/evaluation.js';
import { genotypeTask, type EvaluationTask } from '../../src/core/evaluation-task.js';
import type { Genotype, OpName } from '../../src/core/genotype.js';
import { limitConcurrency, taskCost } from '../../src/placement/placement.js';

const config = evalConfigSchema.parse({ dataset: 'mnist', channels: 8, layers: 5 });

/** A 4-node cell whose every edge applies `op`. */
function uniform(op: OpName): Genotype {
  const edges = Array.from({ length: 8 }, (_, k) => [op, k % 2] as const);
  return { normal: edges, normal_concat: [2, 3, 4, 5], reduce: edges, reduce_concat: [2, 3, 4, 5] };
}

describe('longest expected first', () => {
  it('costs follow the networks’ multiply-adds; baselines count as larger', () => {
    const skip = taskCost(genotypeTask(uniform('skip_connect'), config, 1));
    const dil = taskCost(genotypeTask(uniform('dil_conv_3x3'), config, 1));
    const sep = taskCost(genotypeTask(uniform('sep_conv_5x5'), config, 1));
    expect(skip).toBeGreaterThan(0);
    expect(dil).toBeGreaterThan(skip);
    expect(sep).toBeGreaterThan(dil);
    const baseline: EvaluationTask = {
      members: [{ arch: 'resnet18' }],
      config,
      seed: 1,
      keepWeights: false,
    };
    expect(taskCost(baseline)).toBeGreaterThan(sep);
  });

  it('waiting evaluations start longest first, equal ones in the order they came', async () => {
    const started: string[] = [];
    const release: (() => void)[] = [];
    const run = limitConcurrency(async (task) => {
      started.push(`${task.members.length}:${task.seed}`);
      await new Promise<void>((ok) => release.push(ok));
      return {} as EvaluationResult;
    }, 1);
    const ask = (op: OpName, seed: number) => run(genotypeTask(uniform(op), config, seed));
    const all = [
      ask('skip_connect', 0), // takes the slot at once
      ask('skip_connect', 1),
      ask('dil_conv_3x3', 2),
      ask('sep_conv_5x5', 3),
      ask('dil_conv_3x3', 4),
      ask('skip_connect', 5),
    ];
    for (let i = 0; i < all.length; i++) {
      while (release.length === 0) await new Promise((ok) => setImmediate(ok));
      release.shift()!();
    }
    await Promise.all(all);
    expect(started).toEqual(['1:0', '1:3', '1:2', '1:4', '1:1', '1:5']);
  });
});
