/**
 * A study whose ensemble members' weights were lost (deleted, a disk replaced) before the ensembles
 * ran recovers: the members are trained again (same seed, same network) before the ensembles load
 * them, instead of the study stopping on a missing file.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { EvaluationResult } from '../../src/core/evaluation.js';
import type { EvaluationTask } from '../../src/core/evaluation-task.js';
import { evaluateOf, type RunEvaluator } from '../../src/placement/placement.js';
import type { StudyJob } from '../../src/study/plan.js';
import { runStudy } from '../../src/study/run.js';
import { StudyFolder, type StudySettings } from '../../src/study/study-folder.js';
import { tinyEvaluation } from '../helpers/tiny-evaluation.js';

const root = mkdtempSync(join(tmpdir(), 'robust-nas-lostw-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const settings: StudySettings = {
  format: 'robust-nas-study',
  version: 1,
  robustNasVersion: 'test',
  budgetName: 'tiny',
  budget: {},
  datasets: ['mnist'],
  seeds: 1,
  dataDirs: {},
};

const config = tinyEvaluation();
const job = (id: string, kind: 'train' | 'ensemble', memberJobs?: string[]): StudyJob =>
  ({
    id,
    dataset: 'mnist',
    architecture: id,
    family: 'random',
    seed: 1,
    kind,
    spec: { genotype: { normal: [], normal_concat: [], reduce: [], reduce_concat: [] } },
    keepWeights: kind === 'train',
    config,
    ...(memberJobs ? { memberJobs } : {}),
  }) as unknown as StudyJob;

/**
 * Records what it is asked to run (by the job's plan index); an ensemble must arrive with one
 * weights file per member, read from the study folder.
 */
function evaluator(calls: string[], ids: readonly string[]): RunEvaluator {
  const run = async (
    task: EvaluationTask,
    _onProgress?: unknown,
    options?: { job?: { index: number } },
  ): Promise<EvaluationResult> => {
    const id = ids[options?.job?.index ?? -1] ?? '?';
    calls.push(id);
    if (task.members.length > 1 && task.memberWeights?.length !== task.members.length) {
      throw new Error(`${id}: the members' weights did not arrive`);
    }
    const acc = { accuracy: 0.5, stderr: 0.05, n: 100 };
    return {
      scores: {
        clean: acc,
        adversarial: [{ ...acc, attack: 'fgsm', eps: 0.1 }],
        hrs: 0.5,
        params: 10,
        macs: 20,
        seconds: { train: 0, attack: 0, total: 0 },
        backend: 'fake',
      },
      ...(task.keepWeights ? { weights: new Uint8Array([1, 2, 3]) } : {}),
    };
  };
  return {
    placement: 'in-process',
    run,
    evaluate: evaluateOf(run),
    concurrency: 1,
    description: 'fake',
    workers: async () => ({
      placement: 'in-process',
      description: 'fake',
      workers: [],
      waiting: 0,
      active: 0,
      at: new Date(0).toISOString(),
    }),
    close: async () => {},
  };
}

describe('lost ensemble weights', () => {
  it('are recovered by training the members again before the ensemble', async () => {
    const dir = join(root, 'study');
    const members = [job('a', 'train'), job('b', 'train')];
    const ensemble = job('e', 'ensemble', ['a', 'b']);
    // The members ran, then the study stopped before the ensemble.
    const first = await StudyFolder.open(dir, settings);
    const calls1: string[] = [];
    await runStudy({
      jobs: members,
      folder: first,
      evaluator: evaluator(calls1, ['a', 'b']),
      studyKey: 'lost',
    });
    await first.close();
    expect(calls1).toEqual(['a', 'b']);
    rmSync(first.weightsPath('a'));

    const again = await StudyFolder.open(dir, settings);
    const calls2: string[] = [];
    await runStudy({
      jobs: [...members, ensemble],
      folder: again,
      evaluator: evaluator(calls2, ['a', 'b', 'e']),
      studyKey: 'lost',
    });
    expect(calls2).toEqual(['a', 'e']);
    expect(existsSync(again.weightsPath('a'))).toBe(true);
    expect([...again.entries().keys()].sort()).toEqual(['a', 'b', 'e']);
    await again.close();
  });
});
