/**
 * `npm run bench -- --only evaluations`: search throughput with 1 and 2 local workers and 2 queue
 * workers (it starts its own redis-server), all storing the same run.
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

describe('npm run bench -- --only evaluations', () => {
  it('measures search throughput with 1 and 2 local workers and 2 queue workers, all storing the same run', () => {
    const r = spawnSync(
      process.execPath,
      ['bench/run.mjs', '--json', '--only', 'evaluations', '--rounds', '1', '--generations', '1'],
      { encoding: 'utf8', timeout: 600_000 },
    );
    expect(r.status, r.stderr).toBe(0);
    const { evaluations } = JSON.parse(r.stdout);
    expect(evaluations.identical).toBe(true);
    for (const way of ['workers1', 'workers2', 'queue2']) {
      expect(evaluations[way]).toMatchObject({ evaluations: 8, rounds: [expect.any(Number)] });
      expect(evaluations[way].evaluationsPerHour).toBeGreaterThan(0);
    }
    // Where the time went: each local thread's busy fraction, idle time, CPU (Linux's /proc).
    expect(evaluations.workers1.pool.busyFraction).toHaveLength(1);
    expect(evaluations.workers2.pool.busyFraction).toHaveLength(2);
    for (const way of ['workers1', 'workers2']) {
      const { pool } = evaluations[way];
      for (const f of pool.busyFraction) {
        expect(f).toBeGreaterThan(0);
        expect(f).toBeLessThanOrEqual(1);
      }
      expect(pool.barrierIdleSeconds).toBeGreaterThanOrEqual(0);
      expect(pool.gapIdleSeconds).toBeGreaterThanOrEqual(0);
    }
    for (const way of ['workers1', 'workers2', 'queue2']) {
      expect(evaluations[way].openSeconds).toBeGreaterThanOrEqual(0);
      expect(evaluations[way].cpu.cpuSeconds).toBeGreaterThan(0);
      expect(evaluations[way].cpu.mainThreadCpuSeconds).toBeLessThan(
        evaluations[way].cpu.cpuSeconds,
      );
    }
    expect(evaluations.speedup2).toBeGreaterThan(0);
    expect(evaluations.queueVsPool).toBeGreaterThan(0);
  });
});
