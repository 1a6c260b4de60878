/**
 * Searches whose evaluations go through the queue, with real processes throughout: `robust-nas
 * search|resume --queue` as the coordinator, `robust-nas worker` processes, a real redis-server and
 * the real evaluator on a tiny synthetic network. Each case ends with exactly the evaluations,
 * populations and fronts of the uninterrupted run that evaluates one candidate at a time in this
 * process: with two queue workers and with a local pool of two; with a worker SIGKILLed mid-run;
 * with the coordinator SIGKILLed and the run resumed (jobs in flight or finished in Redis are
 * picked up, none is computed twice); with Redis restarted mid-run.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Scores } from '../../src/core/evaluation.js';
import { parseSearchConfig, type SearchConfigInput } from '../../src/core/search-config.js';
import { evaluateGenotype } from '../../src/evaluator/evaluate.js';
import { SearchRun } from '../../src/runner/search-run.js';
import { FileRunStorage } from '../../src/store/file-run-storage.js';
import { runCommand } from '../helpers/cli.js';
import {
  countLines,
  killAll,
  startCli,
  startWorker,
  type CliProcess,
} from '../helpers/queue-processes.js';
import { startRedis, type RedisServer } from '../helpers/redis.js';
import { comparableRun } from '../helpers/run-compare.js';

const PASSWORD = 'search-test-secret';
const search: SearchConfigInput = {
  evaluator: 'real',
  population: 4,
  generations: 2,
  seed: 3,
  evaluation: {
    dataset: 'synthetic',
    channels: 2,
    layers: 1,
    epochs: 12,
    trainSize: 64,
    valSize: 32,
    testSize: 32,
    batchSize: 32,
    attacks: [{ name: 'fgsm', eps: 0.1 }],
  },
};

const root = mkdtempSync(join(tmpdir(), 'robust-nas-queue-search-'));
const configFile = join(root, 'search.json');
const runsDir = join(root, 'runs');
let redis: RedisServer;
/** The queue URL without its password: the coordinators take that from the environment. */
let bareUrl: string;
const env = () => ({ ROBUST_NAS_REDIS_PASSWORD: PASSWORD });
let reference: Awaited<ReturnType<typeof comparable>>;

const withoutTimes = ({ seconds: _s, ...rest }: Scores) => rest;

/** A stored run without wall-clock times, for deep comparison. */
async function comparable(runId: string) {
  const run = await comparableRun(runsDir, runId);
  return {
    ...run,
    evaluations: run.evaluations.map((e) => ({
      ...e,
      scores: e.scores ? withoutTimes(e.scores) : undefined,
    })),
  };
}

/**
 * Run `runId` stored exactly what the single-worker run stored, timings aside: the same records,
 * with their fields in the same order (so the files hold the same text).
 */
async function expectSingleWorkerRun(runId: string): Promise<void> {
  const run = await comparable(runId);
  expect(run).toEqual(reference);
  expect(JSON.stringify(run)).toBe(JSON.stringify(reference));
  // The front's trained weights came back through the queue byte for byte.
  expect(weightsOf(runId)).toEqual(weightsOf('reference'));
}

/** The kept weights of a run: file name -> bytes (hex). */
function weightsOf(runId: string): Record<string, string> {
  const dir = join(runsDir, runId, 'weights');
  return Object.fromEntries(
    readdirSync(dir)
      .sort()
      .map((f) => [f, readFileSync(join(dir, f)).toString('hex')]),
  );
}

beforeAll(async () => {
  redis = await startRedis({ password: PASSWORD });
  bareUrl = `redis://127.0.0.1:${redis.port}`;
  writeFileSync(configFile, JSON.stringify(search));
  // The uninterrupted single-worker run: one evaluation at a time, in this process.
  const run = await SearchRun.create(parseSearchConfig(search), {
    storage: new FileRunStorage(runsDir),
    runId: 'reference',
    evaluate: evaluateGenotype,
  });
  await run.run();
  expect(run.status()).toBe('completed');
  reference = await comparable('reference');
  // 8 candidates, and generation 1 re-evaluates generation 0's survivors (repeated evaluation).
  expect(reference.evaluations.filter((e) => (e.seedIndex ?? 0) === 0)).toHaveLength(8);
  expect(reference.evaluations.length).toBeGreaterThan(8);
});

afterAll(async () => {
  await killAll();
  await redis?.stop();
  rmSync(root, { recursive: true, force: true });
});

function searchArgs(runId: string, ...more: string[]): string[] {
  return ['search', '--config', configFile, '--runs-dir', runsDir, '--run-id', runId, ...more];
}

/**
 * The keys BullMQ holds in Redis for the jobs of run `runId` (each job is a hash, plus its logs
 * and locks): none once the coordinator has stored their outcomes.
 */
async function jobKeysOf(runId: string): Promise<string[]> {
  const client = new Redis(redis.url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await client.connect();
    const keys = await client.keys(`bull:robust-nas-evaluations:${runId}.*`);
    // The queue's finished-job sets must not name them either.
    for (const set of ['completed', 'failed']) {
      const ids = await client.zrange(`bull:robust-nas-evaluations:${set}`, '0', '-1');
      keys.push(...ids.filter((id) => id.startsWith(`${runId}.`)).map((id) => `${set}:${id}`));
    }
    return keys.sort();
  } finally {
    client.disconnect();
  }
}

/** Jobs each worker started and finished, by job id. */
function tally(workers: readonly CliProcess[], runId: string) {
  const started = new Map<string, number>();
  for (const w of workers) {
    for (const m of w.stdout().matchAll(new RegExp(`job (${runId}\\.\\d+) started`, 'g'))) {
      started.set(m[1]!, (started.get(m[1]!) ?? 0) + 1);
    }
  }
  return started;
}

describe('a search on the queue', () => {
  it('with two queue workers, and with a local pool of two, stores the single-worker run', async () => {
    const workers = await Promise.all([
      startWorker(redis.url, 'w-1'),
      startWorker(redis.url, 'w-2'),
    ]);
    try {
      const r = runCommand(searchArgs('queued', '--queue', bareUrl), env());
      expect(r.stderr).toMatch(
        /evaluations go to queue robust-nas-evaluations on redis:\/\/127\.0\.0\.1:\d+ \(2 workers connected now\)/,
      );
      expect(r.code, r.stdout + r.stderr).toBe(0);
      expect(r.stdout, readFileSync(join(runsDir, 'queued', 'run.json'), 'utf8')).toMatch(
        /run queued completed/,
      );
      await expectSingleWorkerRun('queued');
      // Both workers took part, and no job ran twice.
      for (const w of workers)
        expect(countLines(w.stdout(), /job queued\.\d+ finished/)).toBeGreaterThan(0);
      expect([...tally(workers, 'queued').values()].every((n) => n === 1)).toBe(true);
      // Each job was removed once its outcome was stored: Redis keeps none of the run's jobs.
      expect(await jobKeysOf('queued')).toEqual([]);
    } finally {
      await Promise.all(workers.map((w) => w.kill('SIGTERM')));
    }
    const pool = runCommand(searchArgs('pooled', '--workers', '2'));
    expect(pool.code).toBe(0);
    expect(pool.stderr).toMatch(/evaluations run in 2 worker threads/);
    await expectSingleWorkerRun('pooled');
  });

  it('a worker SIGKILLed mid-run: its job goes to the other worker; the run is the single-worker run', async () => {
    const workers = await Promise.all([
      startWorker(redis.url, 'w-3'),
      startWorker(redis.url, 'w-4'),
    ]);
    const coordinator = startCli(searchArgs('workerkill', '--queue', bareUrl), env());
    const victim = await Promise.race(
      workers.map((w) => w.line(/job workerkill\.1 started/).then(() => w)),
    );
    await victim.kill('SIGKILL');
    const survivor = workers.find((w) => w !== victim)!;
    try {
      expect((await coordinator.exited).code).toBe(0);
      expect(survivor.stdout()).toMatch(/job workerkill\.1 finished/);
      expect(victim.stdout()).not.toMatch(/job workerkill\.1 finished/);
      await expectSingleWorkerRun('workerkill');
    } finally {
      await survivor.kill('SIGTERM');
    }
  });

  it('the coordinator SIGKILLed: resume picks up the jobs in flight or finished in Redis instead of recomputing them', async () => {
    const workers = await Promise.all([
      startWorker(redis.url, 'w-5'),
      startWorker(redis.url, 'w-6'),
    ]);
    try {
      const coordinator = startCli(searchArgs('coordkill', '--queue', bareUrl), env());
      await Promise.race(workers.map((w) => w.line(/job coordkill\.0 finished/)));
      await coordinator.kill('SIGKILL');
      // Jobs of the first generation were queued at once; the workers carry on without it.
      const resumed = runCommand(
        ['resume', 'coordkill', '--runs-dir', runsDir, '--queue', bareUrl],
        env(),
      );
      expect(resumed.code).toBe(0);
      expect(resumed.stdout).toContain(
        `run coordkill completed: ${reference.evaluations.length} evaluations`,
      );
      await expectSingleWorkerRun('coordkill');
      const started = tally(workers, 'coordkill');
      expect([...started.entries()].filter(([, n]) => n !== 1)).toEqual([]);
      // One job per evaluation computed (per genotype and seed; cached copies are none).
      expect(started.size).toBe(reference.evaluations.filter((e) => !e.cached).length);
      // Results that finished while the coordinator was dead were collected, then removed.
      expect(await jobKeysOf('coordkill')).toEqual([]);
    } finally {
      await Promise.all(workers.map((w) => w.kill('SIGTERM')));
    }
  });

  it('Ctrl-C cancels every job in flight within 2 s and stores nothing half-done', async () => {
    const longFile = join(root, 'long.json');
    writeFileSync(
      longFile,
      JSON.stringify({
        ...search,
        population: 2,
        generations: 1,
        evaluation: { ...search.evaluation, epochs: 400, trainSize: 256 },
      }),
    );
    const workers = await Promise.all([
      startWorker(redis.url, 'w-9'),
      startWorker(redis.url, 'w-10'),
    ]);
    try {
      const coordinator = startCli(
        [
          'search',
          '--config',
          longFile,
          '--runs-dir',
          runsDir,
          '--run-id',
          'stopped',
          '--queue',
          bareUrl,
        ],
        env(),
      );
      await Promise.all(
        [0, 1].map((i) =>
          Promise.race(workers.map((w) => w.line(new RegExp(`job stopped\\.${i} started`)))),
        ),
      );
      const interruptedAt = performance.now();
      await coordinator.kill('SIGINT');
      await Promise.all(
        [0, 1].map((i) =>
          Promise.race(
            workers.map((w) =>
              w.line(new RegExp(`job stopped\\.${i} cancelled by its coordinator`), 5000),
            ),
          ),
        ),
      );
      expect(performance.now() - interruptedAt).toBeLessThan(2000);
      expect((await coordinator.exited).code).toBe(0);
      // Ctrl-C pauses (as in serve): resume continues it.
      expect(coordinator.stdout()).toMatch(/run stopped paused after 0 evaluations/);
      const stored = await new FileRunStorage(runsDir).read('stopped');
      expect(stored.status).toBe('paused');
      expect(stored.evaluations).toEqual([]);
      // The workers carry on serving.
      for (const w of workers) expect(w.child.exitCode).toBeNull();
    } finally {
      await Promise.all(workers.map((w) => w.kill('SIGTERM')));
    }
  });

  it('Redis restarted mid-run: workers and coordinator reconnect; the run is the single-worker run', async () => {
    const workers = await Promise.all([
      startWorker(redis.url, 'w-7'),
      startWorker(redis.url, 'w-8'),
    ]);
    try {
      const coordinator = startCli(searchArgs('restart', '--queue', bareUrl), env());
      await Promise.race(workers.map((w) => w.line(/job restart\.0 started/)));
      await redis.restart({ downMs: 1500 });
      const exit = await coordinator.exited;
      expect(coordinator.stderr()).toMatch(/Redis at redis:\/\/127\.0\.0\.1:\d+ is unreachable/);
      expect(coordinator.stderr()).toMatch(/reachable again/);
      expect(exit.code).toBe(0);
      await expectSingleWorkerRun('restart');
      for (const w of workers) expect(w.stderr()).toMatch(/reachable again/);
      expect(`${workers[0]!.stderr()}${coordinator.stderr()}`).not.toContain(PASSWORD);
    } finally {
      await Promise.all(workers.map((w) => w.kill('SIGTERM')));
    }
  });

  it('serve --queue: a run started through the API is evaluated by the queue workers', async () => {
    const worker = await startWorker(redis.url, 'w-serve');
    const serve = startCli(
      ['serve', '--port', '0', '--runs-dir', join(root, 'served'), '--queue', bareUrl],
      env(),
    );
    try {
      const url = (await serve.line(/dashboard at http/)).replace(/.*dashboard at /, '').trim();
      expect(serve.stdout()).toMatch(/evaluations go to queue robust-nas-evaluations/);
      const created = await fetch(new URL('api/runs', url), {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ ...search, population: 2, generations: 1 }),
      });
      expect(created.status).toBe(201);
      const { run } = (await created.json()) as { run: { id: string } };
      let status = '';
      for (let i = 0; i < 300 && status !== 'completed'; i++) {
        await new Promise((ok) => setTimeout(ok, 100));
        const r = await fetch(new URL(`api/runs/${run.id}`, url));
        status =
          ((await r.json()) as { run?: { status?: string }; status?: string }).run?.status ?? '';
      }
      expect(status).toBe('completed');
      expect(countLines(worker.stdout(), new RegExp(`job ${run.id}\\.\\d+ finished`))).toBe(2);
    } finally {
      await serve.kill('SIGTERM');
      await worker.kill('SIGTERM');
    }
  });
});
