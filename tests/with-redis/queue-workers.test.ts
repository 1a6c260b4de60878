/**
 * The queue's workers as a coordinator and `robust-nas workers` see them, with a real redis-server
 * and real `robust-nas worker` processes: each worker's heartbeat (a Redis key that expires unless
 * renewed) names its host, pid, concurrency and the jobs it evaluates (run, index, genotype hash,
 * since when, progress); the report counts waiting and active jobs; a worker that stops takes its
 * heartbeat with it; a key that is not a heartbeat is skipped.
 */
import { hostname } from 'node:os';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { genotypeHash } from '../../src/core/canonical.js';
import { evalConfigSchema } from '../../src/core/evaluation.js';
import { getPublishedGenotype } from '../../src/core/published-genotypes.js';
import type { WorkersReport } from '../../src/core/workers.js';
import { HEARTBEAT_TTL_SECONDS } from '../../src/placement/keys.js';
import { createQueueEvaluator, type QueueEvaluator } from '../../src/placement/queue-evaluator.js';
import { runCommand } from '../helpers/cli.js';
import { killAll, startWorker } from '../helpers/queue-processes.js';
import { startRedis, type RedisServer } from '../helpers/redis.js';
import { TINY_EVALUATION } from '../helpers/tiny-evaluation.js';

const PASSWORD = 'workers-test-secret';
let redis: RedisServer;
let coordinator: QueueEvaluator;

beforeAll(async () => {
  redis = await startRedis({ password: PASSWORD });
  coordinator = await createQueueEvaluator({ url: redis.url, pollMs: 200 });
});

afterAll(async () => {
  await coordinator?.close();
  await killAll();
  await redis?.stop();
});

const sleep = (ms: number) => new Promise((ok) => setTimeout(ok, ms));

async function until(
  what: string,
  test: (r: WorkersReport) => boolean,
  ms = 90_000,
): Promise<WorkersReport> {
  const deadline = Date.now() + ms;
  let last: WorkersReport | undefined;
  while (Date.now() < deadline) {
    last = await coordinator.report('the queue');
    if (test(last)) return last;
    await sleep(200);
  }
  throw new Error(`${what}: not seen within ${ms} ms; last report ${JSON.stringify(last)}`);
}

describe("the queue's workers", () => {
  it('heartbeats name each worker and what it evaluates; the counts say how many jobs wait', async () => {
    const worker = await startWorker(redis.url, 'hb-1', { concurrency: 2 });
    // Long enough (minutes) that no job finishes while the test looks; the test cancels them at its end.
    const long = evalConfigSchema.parse({ ...TINY_EVALUATION, epochs: 1000, trainSize: 512 });
    const genotypes = ['DARTS_V2', 'PDARTS', 'DARTS_V1'].map((n) => getPublishedGenotype(n));
    const abort = new AbortController();
    const running = genotypes.map((g, index) =>
      coordinator
        .evaluate(g, long, index + 1, undefined, {
          signal: abort.signal,
          job: { runId: 'hb', index },
        })
        .catch((err: unknown) => err),
    );
    try {
      const report = await until(
        'both slots of hb-1 training',
        (r) =>
          r.workers.length === 1 &&
          r.workers[0]!.busy.filter((t) => t.progress?.phase === 'train').length === 2,
      );
      expect(report.placement).toBe('queue');
      expect(report.active).toBe(2);
      expect(report.waiting).toBe(1);
      const w = report.workers[0]!;
      expect(w).toMatchObject({
        name: 'hb-1',
        host: hostname(),
        pid: worker.pid,
        concurrency: 2,
        finished: 0,
      });
      expect(Date.now() - Date.parse(w.lastSeen)).toBeLessThan(10_000);
      const byIndex = new Map(w.busy.map((t) => [t.index, t]));
      expect(byIndex.size).toBe(2);
      for (const [index, t] of byIndex) {
        expect(t.runId).toBe('hb');
        expect(t.hash).toBe(genotypeHash(genotypes[index!]!));
        expect(Date.parse(t.startedAt)).toBeLessThanOrEqual(Date.now());
        expect(t.progress!.total).toBeGreaterThan(0);
      }

      // The same from the command line, as JSON and as text; the password never shown.
      const json = runCommand(['workers', '--redis', redis.url, '--json']);
      expect(json.code, json.stderr).toBe(0);
      const cli = JSON.parse(json.stdout) as WorkersReport;
      expect(cli).toMatchObject({ placement: 'queue', waiting: 1, active: 2 });
      expect(cli.workers.map((x) => x.name)).toEqual(['hb-1']);
      expect(cli.workers[0]!.busy.map((t) => t.index).sort()).toEqual([...byIndex.keys()].sort());
      expect(json.stdout).not.toContain(PASSWORD);
      const text = runCommand(['workers', '--redis', redis.url]);
      expect(text.code, text.stderr).toBe(0);
      expect(text.stdout).toMatch(
        /queue robust-nas-evaluations on redis:\/\/:\*\*\*\*@127\.0\.0\.1:\d+: 1 worker, 2 jobs active, 1 waiting/,
      );
      expect(text.stdout).toMatch(/hb-1 .* run hb #\d \([0-9a-f]{8}\) +train \d+\/\d+/);
      expect(text.stdout).not.toContain(PASSWORD);

      // The heartbeat expires unless renewed.
      const client = new Redis(redis.url);
      try {
        const keys = await client.keys('bull:robust-nas-evaluations:robust-nas:worker:*');
        expect(keys).toHaveLength(1);
        const ttl = await client.ttl(keys[0]!);
        expect(ttl).toBeGreaterThan(0);
        expect(ttl).toBeLessThanOrEqual(HEARTBEAT_TTL_SECONDS);
        // Something else under the heartbeats' names is skipped, not shown.
        await client.set(
          'bull:robust-nas-evaluations:robust-nas:worker:junk',
          'not json',
          'EX',
          60,
        );
        await client.set(
          'bull:robust-nas-evaluations:robust-nas:worker:big',
          JSON.stringify({ ...JSON.parse((await client.get(keys[0]!))!), name: 'x'.repeat(5000) }),
          'EX',
          60,
        );
        const withJunk = await coordinator.report('the queue');
        expect(withJunk.workers.map((x) => x.name)).toEqual(['hb-1']);
        await client.del(
          'bull:robust-nas-evaluations:robust-nas:worker:junk',
          'bull:robust-nas-evaluations:robust-nas:worker:big',
        );
      } finally {
        client.disconnect();
      }
    } finally {
      abort.abort();
      await Promise.all(running);
      await worker.kill('SIGTERM');
    }
    // A worker that stops removes its heartbeat.
    const gone = await coordinator.report('the queue');
    expect(gone.workers).toEqual([]);
  }, 180_000);

  it('a malformed URL exits 2 naming it, the password masked', () => {
    const r = runCommand(['workers', '--redis', 'redis://:hunter2@127.0.0.1:99999']);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe(
      "robust-nas: error: --redis: malformed Redis URL 'redis://:****@127.0.0.1:99999': port 99999 is out of range (1-65535)",
    );
  });

  it('an unreachable Redis exits 1 with the reason after --timeout', () => {
    const r = runCommand(['workers', '--redis', 'redis://:hunter2@127.0.0.1:1', '--timeout', '1']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/cannot reach Redis at redis:\/\/:\*\*\*\*@127\.0\.0\.1:1 within 1 s/);
    expect(r.stderr).not.toContain('hunter2');
  });
});
