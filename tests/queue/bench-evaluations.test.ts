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
    expect(evaluations.speedup2).toBeGreaterThan(0);
    expect(evaluations.queueVsPool).toBeGreaterThan(0);
  });
});
