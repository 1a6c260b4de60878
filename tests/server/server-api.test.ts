/**
 * The REST API on a real server (127.0.0.1, a free port) running real surrogate searches in a
 * temporary runs folder: every route, bad bodies, unknown ids, path-traversal ids, run control,
 * runs found on disk (an interrupted one resumed), the bearer token and body limits.
 */
import { FileRunStorage } from '../../src/store/file-run-storage.js';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InputError } from '../../src/core/errors.js';
import { CLI_PATH, runCommand } from '../helpers/cli.js';
import { parseGenotype } from '../../src/core/genotype-parse.js';
import { searchConfigSchema, type SearchConfigInput } from '../../src/core/search-config.js';
import { demoConfig } from '../../src/server/demo.js';
import { SearchRun } from '../../src/runner/search-run.js';
import type { EvaluationRecord } from '../../src/core/events.js';
import { startServer, type RunningServer } from '../../src/server/server.js';
import { runToCsv } from '../../src/store/run-export.js';
import { RunCatalogue } from '../../src/store/run-catalogue.js';
import type { RunOverview } from '../../src/core/run-view.js';

interface Reply {
  status: number;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any
  text: string;
  headers: Headers;
}

async function request(
  server: RunningServer,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<Reply> {
  const res = await fetch(new URL(path, server.url), {
    method,
    // Changing requests say JSON even without a body (the server answers 415 otherwise).
    headers:
      body === undefined && method === 'GET'
        ? headers
        : { 'content-type': 'application/json', ...headers },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  return { status: res.status, body: parsed, text, headers: res.headers };
}

/** A small surrogate search: 4 + 2 x 4 = 12 evaluations. */
const SMALL = {
  population: 4,
  generations: 3,
  seed: 7,
  evaluator: 'surrogate',
  // One seed per candidate, so counts are exact (repeated evaluation: its own describe below).
  resampling: { initialSeeds: 1, maxSeeds: 1 },
  objectives: [
    { metric: 'clean', direction: 'max' },
    { metric: 'adversarial', attack: 'pgd', eps: 0.1, direction: 'max' },
  ],
  evaluation: { dataset: 'mnist', attacks: [{ name: 'pgd', eps: 0.1 }] },
};

let runsDir: string;
let server: RunningServer;

beforeAll(async () => {
  runsDir = await mkdtemp(join(tmpdir(), 'robust-nas-api-'));
  server = await startServer({ port: 0, runsDir });
});

afterAll(async () => {
  await server?.close();
  await rm(runsDir, { recursive: true, force: true });
});

async function startAndFinish(config: object = SMALL): Promise<RunOverview> {
  const r = await request(server, 'POST', '/api/runs', config);
  expect(r.status, r.text).toBe(201);
  await server.manager.settled(r.body.run.id);
  return r.body.run as RunOverview;
}

describe('meta routes', () => {
  it('GET /api/health answers ok', async () => {
    const r = await request(server, 'GET', '/api/health');
    expect(r.status).toBe(200);
    expect(r.body.ok).toBe(true);
    expect(typeof r.body.liveRuns).toBe('number');
  });

  it('GET /api/genotypes lists the published library in DARTS notation', async () => {
    const r = await request(server, 'GET', '/api/genotypes');
    expect(r.status).toBe(200);
    const darts = r.body.genotypes.find((g: { name: string }) => g.name === 'DARTS_V2');
    expect(darts.darts).toMatch(/^Genotype\(normal=\[\('sep_conv_3x3', 0\)/);
    expect(parseGenotype(darts.darts)).toEqual(darts.genotype);
    expect(darts.hash).toMatch(/^[0-9a-f]{16}$/);
  });

  it('unknown API endpoints answer 404 in JSON', async () => {
    const r = await request(server, 'GET', '/api/nothing-here');
    expect(r.status).toBe(404);
    expect(r.body.error).toContain('/api/nothing-here');
  });

  it('serves the dashboard page', async () => {
    const r = await request(server, 'GET', '/');
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toContain('text/html');
    expect(r.text).toContain('id="scatter"');
  });
});

describe('POST /api/runs validation', () => {
  const cases: [string, unknown, string][] = [
    ['population 0', { ...SMALL, population: 0 }, 'population'],
    ['population as text', { ...SMALL, population: 'ten' }, 'population'],
    ['fractional generations', { ...SMALL, generations: 1.5 }, 'generations'],
    ['negative seed', { ...SMALL, seed: -1 }, 'seed'],
    ['unknown evaluator', { ...SMALL, evaluator: 'oracle' }, 'evaluator'],
    [
      'eps above 1',
      { ...SMALL, evaluation: { dataset: 'mnist', attacks: [{ name: 'pgd', eps: 2 }] } },
      'evaluation.attacks.0.eps',
    ],
    [
      'unknown data set',
      { ...SMALL, evaluation: { dataset: 'imagenet', attacks: [{ name: 'pgd', eps: 0.1 }] } },
      'evaluation.dataset',
    ],
    [
      'unknown objective metric',
      { ...SMALL, objectives: [{ metric: 'beauty', direction: 'max' }] },
      'objectives.0.metric',
    ],
    ['an unknown field', { ...SMALL, colour: 'blue' }, ''],
    [
      'a data folder of its choosing',
      { ...SMALL, evaluation: { dataset: 'mnist', dataDir: '/etc' } },
      'evaluation.dataDir',
    ],
  ];
  for (const [name, body, path] of cases) {
    it(`rejects ${name} with a field-level 400`, async () => {
      const r = await request(server, 'POST', '/api/runs', body);
      expect(r.status, r.text).toBe(400);
      expect(r.body.error).toBe('invalid search config');
      expect(r.body.issues.length).toBeGreaterThan(0);
      const paths = r.body.issues.map((i: { path: string }) => i.path);
      expect(paths).toContain(path);
      for (const issue of r.body.issues) expect(issue.message.length).toBeGreaterThan(0);
    });
  }

  it("rejects a real run when the server's ROBUST_NAS_DATA does not hold its data set", async () => {
    const saved = process.env.ROBUST_NAS_DATA;
    process.env.ROBUST_NAS_DATA = '/nonexistent/robust-nas-data';
    try {
      const r = await request(server, 'POST', '/api/runs', { ...SMALL, evaluator: 'real' });
      expect(r.status, r.text).toBe(400);
      expect(r.body.issues).toEqual([
        {
          path: 'evaluation.dataset',
          message: expect.stringMatching(
            /^the server's ROBUST_NAS_DATA \/nonexistent\/robust-nas-data does not exist: looked for MNIST's /,
          ),
        },
      ]);
    } finally {
      if (saved === undefined) delete process.env.ROBUST_NAS_DATA;
      else process.env.ROBUST_NAS_DATA = saved;
    }
  });

  it('rejects a body that is not an object', async () => {
    const r = await request(server, 'POST', '/api/runs', [1, 2, 3]);
    expect(r.status).toBe(400);
    expect(r.body.issues[0].path).toBe('');
  });

  it('rejects malformed JSON', async () => {
    const r = await request(server, 'POST', '/api/runs', '{"population": 4,');
    expect(r.status).toBe(400);
    expect(r.body.error).toBe('invalid JSON body');
  });

  it('rejects a body over the size limit with 413', async () => {
    const r = await request(server, 'POST', '/api/runs', { ...SMALL, name: 'x'.repeat(200_000) });
    expect(r.status).toBe(413);
    expect(r.body.error).toContain('too large');
  });

  it('creates no run for a rejected body', async () => {
    const before = await readdir(runsDir);
    await request(server, 'POST', '/api/runs', { ...SMALL, population: -3 });
    expect(await readdir(runsDir)).toEqual(before);
  });
});

describe('a finished surrogate run', () => {
  let run: RunOverview;

  beforeAll(async () => {
    run = await startAndFinish();
  });

  it('is listed by GET /api/runs with its progress', async () => {
    const r = await request(server, 'GET', '/api/runs');
    expect(r.status).toBe(200);
    const listed = r.body.runs.find((x: RunOverview) => x.id === run.id);
    expect(listed).toMatchObject({
      status: 'completed',
      evaluations: 12,
      plannedEvaluations: 12,
      evaluator: 'surrogate',
      resumable: false,
    });
  });

  it('GET /api/runs/:id gives config, generations and hypervolume history', async () => {
    const r = await request(server, 'GET', `/api/runs/${run.id}`);
    expect(r.status).toBe(200);
    expect(r.body.run.status).toBe('completed');
    expect(r.body.config.population).toBe(4);
    expect(r.body.generations.map((g: { generation: number }) => g.generation)).toEqual([0, 1, 2]);
    expect(r.body.hypervolume).toHaveLength(3);
    expect(r.body.front).toEqual(r.body.generations[2].front);
  });

  it('GET /api/runs/:id/evaluations lists every evaluation, with paging', async () => {
    const r = await request(server, 'GET', `/api/runs/${run.id}/evaluations`);
    expect(r.status).toBe(200);
    expect(r.body.total).toBe(12);
    const records = r.body.evaluations as EvaluationRecord[];
    expect(records.map((e) => e.index)).toEqual([...Array(12).keys()]);
    for (const e of records) expect(e.scores?.surrogate).toBe(true);
    const page = await request(server, 'GET', `/api/runs/${run.id}/evaluations?from=5&limit=3`);
    expect(page.body.evaluations.map((e: EvaluationRecord) => e.index)).toEqual([5, 6, 7]);
    const bad = await request(server, 'GET', `/api/runs/${run.id}/evaluations?limit=zero`);
    expect(bad.status).toBe(400);
    expect(bad.body.issues[0].path).toBe('limit');
  });

  it('GET /api/runs/:id/front gives the latest front or that of a generation', async () => {
    const latest = await request(server, 'GET', `/api/runs/${run.id}/front`);
    expect(latest.status).toBe(200);
    expect(latest.body.generation).toBe(2);
    expect(latest.body.front.length).toBeGreaterThan(0);
    const all = (await request(server, 'GET', `/api/runs/${run.id}/evaluations`)).body
      .evaluations as EvaluationRecord[];
    // No evaluation dominates a front member (both objectives maximised).
    for (const f of latest.body.front as EvaluationRecord[]) {
      const [c, a] = f.objectives as number[];
      const dominated = all.some(
        (e) =>
          e.objectives &&
          e.objectives[0]! >= c! &&
          e.objectives[1]! >= a! &&
          (e.objectives[0]! > c! || e.objectives[1]! > a!),
      );
      expect(dominated).toBe(false);
    }
    const g0 = await request(server, 'GET', `/api/runs/${run.id}/front?generation=0`);
    expect(g0.status).toBe(200);
    expect(g0.body.generation).toBe(0);
    for (const f of g0.body.front as EvaluationRecord[]) expect(f.index).toBeLessThan(4);
  });

  it('GET /api/runs/:id/front rejects a bad generation and 404s a missing one', async () => {
    const bad = await request(server, 'GET', `/api/runs/${run.id}/front?generation=-1`);
    expect(bad.status).toBe(400);
    expect(bad.body.issues[0].path).toBe('generation');
    const text = await request(server, 'GET', `/api/runs/${run.id}/front?generation=two`);
    expect(text.status).toBe(400);
    const missing = await request(server, 'GET', `/api/runs/${run.id}/front?generation=99`);
    expect(missing.status).toBe(404);
    expect(missing.body.error).toContain('generation 99');
  });

  it('GET /api/runs/:id/export.csv gives one row per evaluation with its genotype', async () => {
    const r = await request(server, 'GET', `/api/runs/${run.id}/export.csv`);
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toContain('text/csv');
    expect(r.headers.get('content-disposition')).toContain(`${run.id}.csv`);
    // The same file as `robust-nas export` writes.
    expect(r.text).toBe(runToCsv(await new RunCatalogue(runsDir).read(run.id)));
    const lines = r.text.trimEnd().split('\n');
    expect(lines).toHaveLength(13);
    const header = lines[0]!.split(',');
    expect(header.slice(0, 4)).toEqual(['index', 'generation', 'hash', 'status']);
    expect(header).toContain('clean');
    expect(header).toContain('pgd@0.1');
    expect(header.at(-1)).toBe('genotype');
    const records = (await request(server, 'GET', `/api/runs/${run.id}/evaluations`)).body
      .evaluations as EvaluationRecord[];
    expect(lines[1]!.startsWith(`0,0,${records[0]!.hash},finished,false,`)).toBe(true);
    // The genotype is the last, quoted field, as JSON.
    const last = lines[1]!.slice(lines[1]!.lastIndexOf(',"{') + 2, -1).replace(/""/g, '"');
    expect(JSON.parse(last)).toEqual(records[0]!.genotype);
  });

  it('refuses to pause, stop or resume a completed run (409)', async () => {
    for (const action of ['pause', 'stop', 'resume']) {
      const r = await request(server, 'POST', `/api/runs/${run.id}/${action}`);
      expect(r.status, action).toBe(409);
      expect(r.body.error).toContain('completed');
    }
  });
});

describe('a surrogate run with repeated evaluation', () => {
  let run: RunOverview;
  const CONFIG = {
    ...SMALL,
    generations: 4,
    resampling: { initialSeeds: 1, maxSeeds: 3 },
    surrogateNoise: 0.03,
  };

  beforeAll(async () => {
    run = await startAndFinish(CONFIG);
  });

  it('POST /api/runs takes resampling from the body and rejects a bad one naming the field', async () => {
    expect(run.resampling).toEqual({ initialSeeds: 1, maxSeeds: 3 });
    const bad = await request(server, 'POST', '/api/runs', {
      ...SMALL,
      resampling: { initialSeeds: 4, maxSeeds: 2 },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.issues[0].path).toBe('resampling.maxSeeds');
    const big = await request(server, 'POST', '/api/runs', {
      ...SMALL,
      resampling: { initialSeeds: 1, maxSeeds: 1000 },
    });
    expect(big.status).toBe(400);
    expect(big.body.issues[0].path).toBe('resampling.maxSeeds');
  });

  it('GET /api/runs/:id/front gives each member its seeds, means and standard errors', async () => {
    const r = await request(server, 'GET', `/api/runs/${run.id}/front`);
    expect(r.status).toBe(200);
    const all = (await request(server, 'GET', `/api/runs/${run.id}/evaluations`)).body
      .evaluations as EvaluationRecord[];
    expect(all.some((e) => (e.seedIndex ?? 0) > 0)).toBe(true);
    const front = r.body.front as (EvaluationRecord & {
      seeds: number;
      mean: number[];
      stderr: number[];
    })[];
    expect(front.length).toBeGreaterThan(0);
    for (const m of front) {
      // What the route always gave (the member's first finished evaluation) ...
      expect(m).toMatchObject(all[m.index]!);
      // ... and the evidence behind it: every seed of its genotype.
      const seeds = all.filter((e) => e.hash === m.hash && !e.cached && e.status === 'finished');
      expect(m.seeds).toBe(seeds.length);
      for (const k of [0, 1]) {
        const values = seeds.map((e) => e.objectives![k]!);
        expect(m.mean[k]).toBeCloseTo(values.reduce((a, b) => a + b, 0) / values.length, 12);
        expect(m.stderr[k]).toBeGreaterThan(0);
      }
    }
    expect(front.some((m) => m.seeds > 1)).toBe(true);
  });

  it('GET /api/runs/:id/noise (and the run detail) estimates the noise from re-evaluated survivors', async () => {
    const r = await request(server, 'GET', `/api/runs/${run.id}/noise`);
    expect(r.status).toBe(200);
    expect(r.body.runId).toBe(run.id);
    expect(r.body.generation).toBe(3);
    expect(r.body.survivors).toBeGreaterThan(0);
    // The last population: its members with two seeds or more are the groups.
    expect(r.body.reevaluated).toBeGreaterThanOrEqual(2);
    expect(r.body.values).toBeGreaterThanOrEqual(2 * r.body.reevaluated);
    expect(r.body.seeds).toBeCloseTo(r.body.values / r.body.reevaluated, 12);
    expect(r.body.reason).toBeUndefined();
    expect(r.body.objectives.map((o: { objective: string }) => o.objective)).toEqual([
      'clean',
      'pgd@0.1',
    ]);
    for (const o of r.body.objectives) {
      expect(o.reliability).toBeGreaterThanOrEqual(0);
      expect(o.reliability).toBeLessThanOrEqual(1);
      // The surrogate's seed noise (sd 0.03) shows as the within-genotype sd.
      expect(o.withinSd).toBeGreaterThan(0);
      expect(o.withinSd).toBeLessThan(0.1);
    }
    const detail = await request(server, 'GET', `/api/runs/${run.id}`);
    const { runId: _id, ...noise } = r.body;
    expect(detail.body.noise).toEqual(noise);
  });
});

describe('unknown and malicious run ids', () => {
  const routes: [string, string][] = [
    ['GET', ''],
    ['GET', '/evaluations'],
    ['GET', '/front'],
    ['GET', '/export.csv'],
    ['POST', '/pause'],
    ['POST', '/resume'],
    ['POST', '/stop'],
  ];

  it('answers 404 for a well-formed id that is not a run', async () => {
    for (const [method, suffix] of routes) {
      const r = await request(server, method, `/api/runs/no-such-run${suffix}`);
      expect(r.status, `${method} ${suffix}`).toBe(404);
      expect(r.body.error).toBe('unknown run: no-such-run');
    }
  });

  it('rejects ids that could reach outside the runs folder with 400', async () => {
    const ids = [
      '..',
      '%2e%2e',
      '..%2F..%2Fetc',
      '..%5C..%5Cwindows',
      '.hidden',
      'a%00b',
      'a.b',
      'x'.repeat(65),
    ];
    for (const id of ids) {
      for (const [method, suffix] of routes) {
        const r = await request(server, method, `/api/runs/${id}${suffix}`);
        // '..' itself is resolved by the URL parser before it is sent; everything that reaches
        // the run routes is refused by the id check.
        if (r.status === 404 && !r.body?.issues) {
          expect(r.body.error).not.toContain('unknown run');
          continue;
        }
        expect(r.status, `${method} ${id}${suffix}`).toBe(400);
        expect(r.body.error).toBe('invalid run id');
        expect(r.body.issues[0].path).toBe('id');
      }
    }
  });
});

describe('run control', () => {
  it('pauses, resumes and stops a running search, which then completes when resumed', async () => {
    const start = await request(server, 'POST', '/api/runs', {
      ...SMALL,
      generations: 4,
      surrogateDelayMs: 40,
    });
    expect(start.status).toBe(201);
    const id = start.body.run.id as string;
    const waitFor = async (n: number) => {
      for (;;) {
        const r = await request(server, 'GET', `/api/runs/${id}`);
        if (r.body.run.evaluations >= n) return;
        await new Promise((res) => setTimeout(res, 20));
      }
    };
    await waitFor(2);
    const paused = await request(server, 'POST', `/api/runs/${id}/pause`);
    expect(paused.status).toBe(200);
    expect(paused.body.run.status).toBe('paused');
    expect(paused.body.run.resumable).toBe(true);
    const again = await request(server, 'POST', `/api/runs/${id}/pause`);
    expect(again.status).toBe(409);
    const count = (await request(server, 'GET', `/api/runs/${id}`)).body.run.evaluations;
    await new Promise((res) => setTimeout(res, 150));
    expect((await request(server, 'GET', `/api/runs/${id}`)).body.run.evaluations).toBe(count);

    const resumed = await request(server, 'POST', `/api/runs/${id}/resume`);
    expect(resumed.status).toBe(200);
    expect(resumed.body.run.status).toBe('running');
    await waitFor(count + 2);
    const stopped = await request(server, 'POST', `/api/runs/${id}/stop`);
    expect(stopped.status).toBe(200);
    expect(stopped.body.run.status).toBe('stopped');

    const last = await request(server, 'POST', `/api/runs/${id}/resume`);
    expect(last.status).toBe(200);
    await server.manager.settled(id);
    const done = await request(server, 'GET', `/api/runs/${id}`);
    expect(done.body.run.status).toBe('completed');
    expect(done.body.run.evaluations).toBe(16);

    // The same search uninterrupted gives the same evaluations.
    const straight = await startAndFinish({ ...SMALL, generations: 4 });
    const a = (await request(server, 'GET', `/api/runs/${id}/evaluations`)).body.evaluations;
    const b = (await request(server, 'GET', `/api/runs/${straight.id}/evaluations`)).body
      .evaluations;
    expect(a.map((e: EvaluationRecord) => [e.hash, e.objectives])).toEqual(
      b.map((e: EvaluationRecord) => [e.hash, e.objectives]),
    );
  });
});

describe('stopping a run that is not running', () => {
  it('stops a paused run (stored, resumable by robust-nas resume) and refuses to stop it twice', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'robust-nas-stop-'));
    try {
      const own = await startServer({ port: 0, runsDir: dir });
      let id: string;
      try {
        const start = await request(own, 'POST', '/api/runs', { ...SMALL, surrogateDelayMs: 30 });
        id = start.body.run.id as string;
        for (;;) {
          const r = await request(own, 'GET', `/api/runs/${id}`);
          if (r.body.run.evaluations >= 2) break;
          await new Promise((res) => setTimeout(res, 20));
        }
        expect((await request(own, 'POST', `/api/runs/${id}/pause`)).body.run.status).toBe(
          'paused',
        );
        const stopped = await request(own, 'POST', `/api/runs/${id}/stop`);
        expect(stopped.status, stopped.text).toBe(200);
        expect(stopped.body.run).toMatchObject({ status: 'stopped', resumable: true, live: false });
        const stored = JSON.parse(await readFile(join(dir, id, 'run.json'), 'utf8'));
        expect(stored.status).toBe('stopped');
        expect(stored.pid).toBeUndefined();
        const twice = await request(own, 'POST', `/api/runs/${id}/stop`);
        expect(twice.status).toBe(409);
        expect(twice.body.error).toContain('already stopped');
        const listed = (await request(own, 'GET', '/api/runs')).body.runs.find(
          (r: RunOverview) => r.id === id,
        );
        expect(listed).toMatchObject({ status: 'stopped', resumable: true });
      } finally {
        await own.close();
      }
      const resumed = runCommand(['resume', id, '--runs-dir', dir]);
      expect(resumed.code, resumed.stderr).toBe(0);
      const done = await new RunCatalogue(dir).read(id);
      expect(done.status).toBe('completed');
      expect(done.evaluations).toHaveLength(12);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('a corrupt run on disk', () => {
  it('answers every route with 422 naming the run and the problem, and leaves its files untouched', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'robust-nas-corrupt-'));
    try {
      const make = async (runId: string) => {
        const run = await SearchRun.create(SMALL as SearchConfigInput, {
          storage: new FileRunStorage(dir),
          runId,
        });
        await run.run();
      };
      await make('broken-journal');
      await make('broken-runfile');
      const journal = join(dir, 'broken-journal', 'evaluations.jsonl');
      const lines = (await readFile(journal, 'utf8')).split('\n');
      lines[2] = lines[2]!.replace('"status":"finished"', '"status":"exploded"');
      await writeFile(journal, lines.join('\n'));
      const runFile = join(dir, 'broken-runfile', 'run.json');
      await writeFile(runFile, (await readFile(runFile, 'utf8')).slice(0, 40));
      const bytes = async () => {
        const out: Record<string, string> = {};
        for (const runId of ['broken-journal', 'broken-runfile']) {
          for (const f of await readdir(join(dir, runId))) {
            out[`${runId}/${f}`] = (await readFile(join(dir, runId, f))).toString('base64');
          }
        }
        return out;
      };
      const before = await bytes();

      const own = await startServer({ port: 0, runsDir: dir });
      try {
        const list = await request(own, 'GET', '/api/runs');
        expect(list.status).toBe(200);
        expect(list.body.runs.map((r: RunOverview) => r.id).sort()).toEqual([
          'broken-journal',
          'broken-runfile',
        ]);
        const expected: Record<string, string> = {
          'broken-journal': 'evaluations.jsonl line 3: status',
          'broken-runfile': 'run.json is not valid JSON',
        };
        for (const [runId, problem] of Object.entries(expected)) {
          const listed = list.body.runs.find((r: RunOverview) => r.id === runId);
          expect(listed).toMatchObject({ resumable: false, live: false });
          expect(listed.error).toContain(problem);
          for (const [method, suffix] of [
            ['GET', ''],
            ['GET', '/evaluations'],
            ['GET', '/front'],
            ['GET', '/front?generation=0'],
            ['GET', '/export.csv'],
            ['POST', '/pause'],
            ['POST', '/resume'],
            ['POST', '/stop'],
          ] as const) {
            const r = await request(own, method, `/api/runs/${runId}${suffix}`);
            expect(r.status, `${method} ${runId}${suffix}: ${r.text}`).toBe(422);
            expect(r.body.error).toContain(`run ${runId} is corrupt`);
            expect(r.body.error).toContain(problem);
          }
        }
      } finally {
        await own.close();
      }
      expect(await bytes()).toEqual(before);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('runs found on disk', () => {
  it('lists them at start; an interrupted one can be stopped and resumed', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'robust-nas-disk-'));
    try {
      const first = await startServer({ port: 0, runsDir: dir });
      const start = await request(first, 'POST', '/api/runs', { ...SMALL, surrogateDelayMs: 30 });
      const id = start.body.run.id as string;
      for (;;) {
        const r = await request(first, 'GET', `/api/runs/${id}`);
        if (r.body.run.evaluations >= 5) break;
        await new Promise((res) => setTimeout(res, 20));
      }
      await first.close(); // pauses the run
      // Make it look like the process died mid-run: status 'running', owned by a dead pid.
      const file = join(dir, id, 'run.json');
      const json = JSON.parse(await readFile(file, 'utf8'));
      expect(json.status).toBe('paused');
      await writeFile(file, JSON.stringify({ ...json, status: 'running', pid: 2 ** 22 + 12345 }));

      const second = await startServer({ port: 0, runsDir: dir });
      try {
        const list = await request(second, 'GET', '/api/runs');
        const listed = list.body.runs.find((r: RunOverview) => r.id === id);
        expect(listed).toMatchObject({ status: 'interrupted', resumable: true, live: false });
        expect(listed.evaluations).toBeGreaterThanOrEqual(5);
        // An interrupted run can be stopped for good (stored), and still resumed.
        const stopped = await request(second, 'POST', `/api/runs/${id}/stop`);
        expect(stopped.status, stopped.text).toBe(200);
        expect(stopped.body.run).toMatchObject({ status: 'stopped', resumable: true });
        const onDisk = JSON.parse(await readFile(file, 'utf8'));
        expect(onDisk.status).toBe('stopped');
        expect(onDisk.pid).toBeUndefined();
        const resumed = await request(second, 'POST', `/api/runs/${id}/resume`);
        expect(resumed.status, resumed.text).toBe(200);
        await second.manager.settled(id);
        const done = await request(second, 'GET', `/api/runs/${id}`);
        expect(done.body.run.status).toBe('completed');
        expect(done.body.run.evaluations).toBe(12);
      } finally {
        await second.close();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('a run that another process is running', () => {
  it('is listed as running and followed live from disk until it completes', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'robust-nas-external-'));
    const watcher = await startServer({ port: 0, runsDir: dir });
    try {
      // Run a search outside the server's run manager, as `robust-nas search` would.
      const run = await SearchRun.create({ ...SMALL, surrogateDelayMs: 30 } as SearchConfigInput, {
        storage: new FileRunStorage(dir),
      });
      const done = run.run();
      let seen = 0;
      for (;;) {
        const r = await request(watcher, 'GET', `/api/runs/${run.id}`);
        if (r.status === 200) {
          expect(r.body.run.live).toBe(false);
          expect(r.body.run.evaluations).toBeGreaterThanOrEqual(seen);
          seen = r.body.run.evaluations;
          if (r.body.run.status === 'completed') break;
        }
        await new Promise((res) => setTimeout(res, 40));
      }
      await done;
      expect(seen).toBe(12);
      const front = await request(watcher, 'GET', `/api/runs/${run.id}/front`);
      expect(front.body.generation).toBe(2);
    } finally {
      await watcher.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('bearer token', () => {
  it('refuses to bind to a non-loopback address without a token', async () => {
    await expect(startServer({ host: '0.0.0.0', port: 0, runsDir })).rejects.toBeInstanceOf(
      InputError,
    );
  });

  it('requires the token for every API request, reads included', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'robust-nas-token-'));
    const guarded = await startServer({ port: 0, runsDir: dir, token: 'correct-horse-battery' });
    try {
      expect((await request(guarded, 'GET', '/api/runs')).status).toBe(401);
      const none = await request(guarded, 'POST', '/api/runs', SMALL);
      expect(none.status).toBe(401);
      expect(none.headers.get('www-authenticate')).toBe('Bearer');
      const wrong = await request(guarded, 'POST', '/api/runs', SMALL, {
        authorization: 'Bearer wrong-token-here',
      });
      expect(wrong.status).toBe(401);
      expect((await request(guarded, 'POST', '/api/runs/whatever/pause')).status).toBe(401);
      const ok = await request(guarded, 'POST', '/api/runs', SMALL, {
        authorization: 'Bearer correct-horse-battery',
      });
      expect(ok.status).toBe(201);
      await guarded.manager.settled(ok.body.run.id);
    } finally {
      await guarded.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('robust-nas serve', () => {
  it('prints the URL, serves the API and exits cleanly on SIGTERM', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'robust-nas-serve-'));
    const env = { ...process.env };
    delete env.ROBUST_NAS_TOKEN;
    const child = spawn(process.execPath, [CLI_PATH, 'serve', '--port', '0', '--runs-dir', dir], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      let out = '';
      const url = await new Promise<string>((resolveUrl, reject) => {
        child.stdout.on('data', (chunk: Buffer) => {
          out += chunk.toString();
          const m = /dashboard at (http:\/\/127\.0\.0\.1:\d+\/)/.exec(out);
          if (m) resolveUrl(m[1]!);
        });
        child.once('exit', (code) => reject(new Error(`serve exited with ${code}: ${out}`)));
      });
      const health = await fetch(new URL('/api/health', url));
      expect(health.status).toBe(200);
      expect(((await health.json()) as { ok: boolean }).ok).toBe(true);
      const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      child.kill('SIGKILL');
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('--demo starts a real-evaluator search on MNIST that SIGTERM leaves paused and resumable', async () => {
    expect(searchConfigSchema.safeParse(demoConfig('real')).success).toBe(true);
    const dir = await mkdtemp(join(tmpdir(), 'robust-nas-demo-'));
    const child = spawn(
      process.execPath,
      [CLI_PATH, 'serve', '--demo', '--port', '0', '--runs-dir', dir],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    try {
      let out = '';
      const [url, id] = await new Promise<[string, string]>((resolveUrl, reject) => {
        child.stdout.on('data', (chunk: Buffer) => {
          out += chunk.toString();
          const m =
            /demo search (\S+) started \(real evaluator.*?\): (http:\/\/127\.0\.0\.1:\d+\/)/.exec(
              out,
            );
          if (m) resolveUrl([m[2]!, m[1]!]);
        });
        child.once('exit', (code) => reject(new Error(`serve exited with ${code}: ${out}`)));
      });
      const run = (await (await fetch(new URL(`/api/runs/${id}`, url))).json()) as {
        run: RunOverview;
        config: { evaluation: { dataset: string } };
      };
      expect(run.run).toMatchObject({ status: 'running', evaluator: 'real', live: true });
      expect(run.config.evaluation.dataset).toBe('mnist');
      const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      const file = JSON.parse(await readFile(join(dir, id, 'run.json'), 'utf8')) as {
        status: string;
      };
      expect(file.status).toBe('paused');
    } finally {
      child.kill('SIGKILL');
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('refuses a bad port and a non-loopback host without a token (exit 2, one line)', () => {
    const badPort = runCommand(['serve', '--port', 'http']);
    expect(badPort.code).toBe(2);
    expect(badPort.stderr).toContain("option '--port <port>' argument 'http' is invalid");
    const open = runCommand(['serve', '--host', '0.0.0.0', '--port', '0'], {
      ROBUST_NAS_TOKEN: '',
    });
    expect(open.code).toBe(2);
    expect(open.stderr.trim().split('\n')).toHaveLength(1);
    expect(open.stderr).toContain('needs an access token');
  });

  it('--demo refuses to start when ROBUST_NAS_DATA does not hold MNIST (exit 2, one line)', () => {
    const r = runCommand(['serve', '--demo', '--port', '0'], {
      ROBUST_NAS_DATA: '/nonexistent/robust-nas-data',
    });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(
        /^robust-nas: error: ROBUST_NAS_DATA \/nonexistent\/robust-nas-data does not exist: looked for MNIST's /,
      ),
    ]);
  });
});
