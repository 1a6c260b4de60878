import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { runSearchOverheadBench } from '../../bench/search-overhead.js';
import { runCommand } from '../helpers/cli.js';

function figures(w: Record<string, unknown>) {
  expect(w.trainImagesPerSecond).toBeGreaterThan(0);
  expect(w.pgdStepImagesPerSecond).toBeGreaterThan(0);
}

describe('robust-nas bench', () => {
  it('prints one JSON object with the figures, the machine and the backend', () => {
    const r = runCommand([
      'bench',
      '--json',
      '--steps',
      '1',
      '--warmup',
      '0',
      '--workload',
      'mnist',
      '--backend',
      'wasm',
    ]);
    expect(r.code).toBe(0);
    const { throughput } = JSON.parse(r.stdout);
    expect(throughput.backend.name).toBe('wasm');
    expect(throughput.machine.cores).toBeGreaterThan(0);
    expect(typeof throughput.machine.cpuModel).toBe('string');
    expect(throughput.machine.node).toBe(process.version);
    expect(throughput.workers).toBe(1);
    expect(throughput.workloads).toHaveLength(1);
    const w = throughput.workloads[0];
    expect(w).toMatchObject({
      workload: 'mnist',
      genotype: 'DARTS_V2',
      channels: 8,
      layers: 5,
      batch: 64,
      inputShape: [28, 28, 1],
      params: 36_586,
    });
    figures(w);
  });

  it('runs worker threads and sums their figures', () => {
    const r = runCommand([
      'bench',
      '--json',
      '--steps',
      '1',
      '--warmup',
      '0',
      '--workload',
      'mnist',
      '--workers',
      '2',
      '--backend',
      'wasm',
    ]);
    expect(r.code).toBe(0);
    const w = JSON.parse(r.stdout).throughput.workloads[0];
    expect(w.perWorker).toHaveLength(2);
    w.perWorker.forEach(figures);
    const sum = w.perWorker.reduce(
      (a: number, p: { trainImagesPerSecond: number }) => a + p.trainImagesPerSecond,
      0,
    );
    expect(w.trainImagesPerSecond).toBeCloseTo(sum, 0);
  });

  it('rejects a bad option with exit code 2', () => {
    const r = runCommand(['bench', '--workload', 'imagenet']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/option '--workload <w>' argument 'imagenet' is invalid/);
    const workers = runCommand(['bench', '--workers', '0']);
    expect(workers.code).toBe(2);
    expect(workers.stderr).toMatch(
      /argument '0' is invalid\. Too small: expected number to be >=1/,
    );
  });
});

describe('search overhead (bench/search-overhead.ts)', () => {
  it('times sorting with crowding and persisting evaluations to a real run', async () => {
    const r = await runSearchOverheadBench({ points: 3000, stored: 100, repeats: 3 });
    expect(r.sortAndCrowding).toMatchObject({ points: 3000, objectives: 3, goalMs: 100 });
    // 3000 uniform points in 3 objectives form dozens of fronts.
    expect(r.sortAndCrowding.fronts).toBeGreaterThan(10);
    expect(r.sortAndCrowding.medianMs).toBeGreaterThan(0);
    expect(r.sortAndCrowding.meetsGoal).toBe(r.sortAndCrowding.medianMs < 100);
    expect(r.persistEvaluation).toMatchObject({ stored: 100, goalMs: 5 });
    expect(r.persistEvaluation.medianMs).toBeGreaterThan(0);
    expect(r.persistEvaluation.meetsGoal).toBe(r.persistEvaluation.medianMs < 5);
    expect(r.checkpoint.medianMs).toBeGreaterThan(0);
  });
});

describe('npm run bench (bench/run.mjs)', () => {
  it('bundles the TypeScript runner and reports throughput and search overhead as one JSON object', () => {
    const r = spawnSync(
      process.execPath,
      [
        'bench/run.mjs',
        '--json',
        '--steps',
        '1',
        '--warmup',
        '0',
        '--workload',
        'mnist',
        '--backend',
        'wasm',
        '--points',
        '500',
        '--stored',
        '20',
        '--repeats',
        '2',
        '--rounds',
        '0',
      ],
      { encoding: 'utf8', timeout: 600_000 },
    );
    expect(r.status, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.throughput.backend.name).toBe('wasm');
    expect(report.throughput.workloads).toHaveLength(1);
    figures(report.throughput.workloads[0]);
    expect(report.search.sortAndCrowding.points).toBe(500);
    expect(report.search.persistEvaluation.stored).toBe(20);
  });

  it('rejects a bad option with exit code 2', () => {
    const r = spawnSync(process.execPath, ['bench/run.mjs', '--only', 'nothing'], {
      encoding: 'utf8',
    });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/option '--only <part>' argument 'nothing' is invalid/);
  });
});
