import { describe, expect, it } from 'vitest';
import { runCommand } from './helpers/cli.js';

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
    expect(r.stderr).toMatch(/--workload/);
  });
});
