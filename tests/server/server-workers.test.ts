/**
 * GET /api/workers on a real server whose real runs are evaluated by a local pool of 2 worker
 * threads: while a search keeps both busy, the report names each thread with the run, evaluation
 * index and genotype hash it evaluates, since when, its progress and when it was last heard from,
 * and counts the evaluations waiting. Guarded by the token like every API route.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { genotypeHash } from '../../src/core/canonical.js';
import { getPublishedGenotype } from '../../src/core/published-genotypes.js';
import type { WorkersReport } from '../../src/core/workers.js';
import { createSurrogateEvaluate } from '../../src/evaluator/surrogate.js';
import { inProcessWorkers } from '../../src/placement/in-process-workers.js';
import { openEvaluator, type RunEvaluator } from '../../src/placement/placement.js';
import { createSearchEngine } from '../../src/server/search-engine.js';
import { startServer, type RunningServer } from '../../src/server/server.js';
import { FileRunStorage } from '../../src/store/file-run-storage.js';
import { TINY_EVALUATION, tinyEvaluation } from '../helpers/tiny-evaluation.js';

const TOKEN = 'workers-test-token';
let runsDir: string;
let server: RunningServer;
let pool: RunEvaluator;

beforeAll(async () => {
  runsDir = await mkdtemp(join(tmpdir(), 'robust-nas-workers-api-'));
  pool = await openEvaluator({ workers: 2 });
  server = await startServer({
    port: 0,
    runsDir,
    token: TOKEN,
    engine: createSearchEngine({
      runsDir,
      loadRealEvaluate: async () => pool.evaluate,
      workers: () => pool.workers(),
      concurrencyFor: (config) => Math.max(pool.concurrency, config.population),
    }),
  });
});

afterAll(async () => {
  await server?.close();
  await pool?.close();
  await rm(runsDir, { recursive: true, force: true });
});

async function api(method: string, path: string, body?: unknown, token: string | null = TOKEN) {
  const res = await fetch(new URL(path, server.url), {
    method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(method === 'GET' ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe('GET /api/workers', () => {
  it('needs the token, as every API route', async () => {
    const r = await api('GET', '/api/workers', undefined, null);
    expect(r.status).toBe(401);
    expect(r.body).not.toHaveProperty('workers');
  });

  it('shows a pool of 2 threads, idle and then busy on a real search, with what each evaluates', async () => {
    const idle = (await api('GET', '/api/workers')).body as unknown as WorkersReport;
    expect(idle.placement).toBe('pool');
    expect(idle.description).toBe('evaluations run in 2 worker threads');
    // The pool started its threads (and loaded their backends) ahead of the first run.
    expect(idle.workers).toHaveLength(2);
    expect(idle.workers.every((w) => w.busy.length === 0 && w.finished === 0)).toBe(true);
    expect(idle).toMatchObject({ waiting: 0, active: 0 });

    const started = await api('POST', '/api/runs', {
      evaluator: 'real',
      population: 5,
      generations: 1,
      seed: 4,
      evaluation: { ...TINY_EVALUATION, epochs: 8, trainSize: 128 },
    });
    expect(started.status).toBe(201);
    const runId = (started.body.run as { id: string }).id;

    // Poll until both threads report progress on an evaluation of the run.
    let busy: WorkersReport | undefined;
    const deadline = Date.now() + 90_000;
    while (Date.now() < deadline) {
      const r = (await api('GET', '/api/workers')).body as unknown as WorkersReport;
      if (r.workers.filter((w) => w.busy[0]?.progress?.phase === 'train').length === 2) {
        busy = r;
        break;
      }
      await new Promise((ok) => setTimeout(ok, 100));
    }
    expect(busy, 'both workers busy training').toBeDefined();
    const report = busy!;
    expect(report.active).toBe(2);
    // 5 candidates in flight for 2 threads: the others wait (fewer once some finished).
    expect(report.waiting).toBeLessThanOrEqual(3);
    const tasks = report.workers.map((w) => w.busy[0]!);
    expect(new Set(report.workers.map((w) => w.id)).size).toBe(2);
    expect(new Set(tasks.map((t) => t.index)).size).toBe(2);
    const now = Date.now();
    for (const w of report.workers) {
      expect(w).toMatchObject({ pid: process.pid, concurrency: 1 });
      expect(now - Date.parse(w.lastSeen)).toBeLessThan(5000);
      const t = w.busy[0]!;
      expect(t.runId).toBe(runId);
      expect(t.hash).toMatch(/^[0-9a-f]{16,}$/);
      expect(Date.parse(t.startedAt)).toBeLessThanOrEqual(now);
      expect(t.progress!.total).toBeGreaterThan(0);
    }

    // Each thread showed the evaluation the run stored under that index.
    await server.manager.settled(runId);
    const stored = await new FileRunStorage(runsDir).read(runId);
    expect(stored.status).toBe('completed');
    for (const t of tasks) {
      const record = stored.evaluations.find((e) => e.index === t.index)!;
      expect(record.hash).toBe(t.hash);
      expect(record.cached).toBeFalsy();
    }
    const after = (await api('GET', '/api/workers')).body as unknown as WorkersReport;
    expect(after).toMatchObject({ active: 0, waiting: 0 });
    const computed = stored.evaluations.filter((e) => !e.cached).length;
    expect(after.workers.reduce((n, w) => n + w.finished, 0)).toBe(computed);
  }, 120_000);
});

describe('evaluations in this process, told as one worker', () => {
  it('shows the evaluation in flight with its progress, then the worker idle with one finished', async () => {
    const tracked = inProcessWorkers(createSurrogateEvaluate({ delayMs: 300 }));
    const genotype = getPublishedGenotype('DARTS_V2');
    const before = tracked.report('here');
    expect(before).toMatchObject({ placement: 'in-process', active: 0, waiting: 0 });
    expect(before.workers[0]).toMatchObject({ id: 'main', busy: [], finished: 0 });
    const running = tracked.evaluate(genotype, tinyEvaluation(), 1, undefined, {
      job: { runId: 'r1', index: 3 },
    });
    const during = tracked.report('here');
    expect(during.active).toBe(1);
    expect(during.workers[0]!.busy).toEqual([
      {
        runId: 'r1',
        index: 3,
        hash: genotypeHash(genotype),
        startedAt: expect.any(String),
        progress: { phase: 'train', done: 0, total: 1 },
      },
    ]);
    await running;
    const after = tracked.report('here');
    expect(after.active).toBe(0);
    expect(after.workers[0]).toMatchObject({ busy: [], finished: 1, backend: 'surrogate' });
  });
});
