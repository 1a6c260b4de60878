/**
 * A queue worker trusts no job: strict shape (unknown keys refused, nested ones too), a cap on the
 * payload, its own memory limit, data only under its own data roots, and the data set's
 * fingerprint compared (a worker whose files differ refuses, naming both fingerprints).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { getPublishedGenotype } from '../../src/core/published-genotypes.js';
import { datasetSpec } from '../../src/evaluator/datasets/registry.js';
import { datasetFingerprint } from '../../src/evaluator/datasets/fingerprint.js';
import {
  DataMismatchError,
  admissionProblem,
  type AdmissionLimits,
} from '../../src/placement/job-admission.js';
import {
  JOB_FORMAT_VERSION,
  MAX_JOB_BYTES,
  parseEvaluationJob,
  type EvaluationJob,
} from '../../src/placement/job.js';
import { tinyEvaluation, TINY_EVALUATION } from '../helpers/tiny-evaluation.js';

const root = mkdtempSync(join(tmpdir(), 'robust-nas-admission-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const genotype = getPublishedGenotype('DARTS_V2');

const raw = (changes: Record<string, unknown> = {}) => ({
  formatVersion: JOB_FORMAT_VERSION,
  runId: 'r1',
  index: 3,
  members: [{ genotype: JSON.parse(JSON.stringify(genotype)) as unknown }],
  config: { ...TINY_EVALUATION },
  seed: 7,
  keepWeights: false,
  ...changes,
});

function parsed(data: unknown): EvaluationJob {
  const r = parseEvaluationJob(data);
  if ('problem' in r) throw new Error(r.problem);
  return r;
}

/** A fake MNIST folder (the four IDX files; the content only matters to the fingerprint). */
function mnistRoot(name: string, fill: number): string {
  const dir = join(root, name);
  const spec = datasetSpec('mnist');
  if (spec.format !== 'idx') throw new Error('mnist is IDX');
  mkdirSync(join(dir, 'mnist'), { recursive: true });
  for (const f of Object.values(spec.files)) {
    writeFileSync(join(dir, 'mnist', f.name), Buffer.alloc(1000, fill));
  }
  return dir;
}

describe('the shape of a job', () => {
  it('accepts a job as a coordinator sends it', () => {
    expect(parsed(raw()).index).toBe(3);
  });

  it('refuses unknown keys at any depth, naming them', () => {
    const top = parseEvaluationJob(raw({ extra: 1 }));
    expect(top).toMatchObject({ problem: expect.stringMatching(/extra/) });
    const nested = parseEvaluationJob(raw({ config: { ...TINY_EVALUATION, evil: true } }));
    expect(nested).toEqual({ problem: 'malformed job: unknown field config.evil' });
    const inAttack = parseEvaluationJob(
      raw({ config: { ...TINY_EVALUATION, attacks: [{ name: 'fgsm', eps: 0.1, x: 1 }] } }),
    );
    expect(inAttack).toMatchObject({ problem: expect.stringMatching(/config\.attacks\[0\]\.x/) });
  });

  it('refuses a payload over the cap before reading it', () => {
    const big = parseEvaluationJob(raw({ padding: 'x'.repeat(MAX_JOB_BYTES) }));
    expect(big).toMatchObject({
      problem: expect.stringMatching(/bytes of data, more than a job may hold \(65536\)/),
    });
  });
});

describe("a worker's own limits", () => {
  const limits: AdmissionLimits = { maxMemoryMB: 4096, dataRoots: [], env: {} };

  it('refuses a network over its memory limit (512 channels, 64 cells, 60 000 images)', async () => {
    const job = parsed(
      raw({
        config: {
          ...TINY_EVALUATION,
          channels: 512,
          layers: 64,
          trainSize: 60_000,
          batchSize: 4096,
        },
      }),
    );
    expect(await admissionProblem(job, limits)).toMatch(
      /^over this worker's memory limit: this network is too big: .* exceeds the limit of 4096 MB/,
    );
    expect(await admissionProblem(parsed(raw()), limits)).toBeUndefined();
    // Its own limit, lower than the default: the tiny network passes 64 MB, not 1 MB.
    expect(await admissionProblem(parsed(raw()), { ...limits, maxMemoryMB: 64 })).toBeUndefined();
    expect(await admissionProblem(parsed(raw()), { ...limits, maxMemoryMB: 1 })).toMatch(
      /limit of 1 MB/,
    );
  });

  it('reads data only under its data roots', async () => {
    const mine = mnistRoot('mine', 1);
    const elsewhere = mnistRoot('elsewhere', 1);
    const job = (dataDir: string) =>
      parsed(raw({ config: { ...TINY_EVALUATION, dataset: 'mnist', dataDir } }));
    expect(await admissionProblem(job('/etc'), limits)).toMatch(
      /^the job names the data folder \/etc, outside this worker's data roots/,
    );
    expect(await admissionProblem(job(elsewhere), { ...limits, dataRoots: [mine] })).toMatch(
      /outside this worker's data roots/,
    );
    // A path that climbs out of a root is judged where it leads.
    expect(
      await admissionProblem(job(`${mine}/../elsewhere`), { ...limits, dataRoots: [mine] }),
    ).toMatch(/outside/);
    expect(await admissionProblem(job(mine), { ...limits, dataRoots: [mine] })).toBeUndefined();
    expect(
      await admissionProblem(job(join(mine, 'mnist')), { ...limits, dataRoots: [mine] }),
    ).toBeUndefined();
  });

  it("refuses a job whose data fingerprint is not this worker's, naming both", async () => {
    const a = mnistRoot('a', 1);
    const b = mnistRoot('b', 2);
    const printA = await datasetFingerprint('mnist', a, {});
    const printB = await datasetFingerprint('mnist', b, {});
    expect(printA).toMatch(/^mnist:sha256:[0-9a-f]{16}$/);
    expect(printB).not.toBe(printA);
    // Same files elsewhere: same fingerprint.
    expect(await datasetFingerprint('mnist', mnistRoot('a2', 1), {})).toBe(printA);
    const job = parsed(
      raw({
        config: { ...TINY_EVALUATION, dataset: 'mnist', dataDir: b },
        dataFingerprint: printA,
      }),
    );
    const err = await admissionProblem(job, { ...limits, dataRoots: [b] }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(DataMismatchError);
    expect((err as Error).message).toContain(
      `the job expects ${printA}, this worker has ${printB}`,
    );
    const same = parsed(
      raw({
        config: { ...TINY_EVALUATION, dataset: 'mnist', dataDir: a },
        dataFingerprint: printA,
      }),
    );
    expect(await admissionProblem(same, { ...limits, dataRoots: [a] })).toBeUndefined();
  });

  it('caches a file digest by size and mtime, and sees a change', async () => {
    const dir = mnistRoot('changing', 3);
    const before = await datasetFingerprint('mnist', dir, {});
    const spec = datasetSpec('mnist');
    if (spec.format !== 'idx') throw new Error('mnist is IDX');
    writeFileSync(join(dir, 'mnist', spec.files.testLabels.name), Buffer.alloc(1001, 3));
    expect(await datasetFingerprint('mnist', dir, {})).not.toBe(before);
  });

  it('a synthetic job has a constant fingerprint and no folder', async () => {
    expect(await datasetFingerprint('synthetic')).toBe('synthetic:generated');
    expect(tinyEvaluation().dataset).toBe('synthetic');
  });
});
