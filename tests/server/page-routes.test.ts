/**
 * The routes the dashboard's page needs (issue 23) on a real server over a temporary runs folder:
 * GET /api/config (the start form's defaults from the CLI's schema, the real evaluator's
 * availability, the demo's estimate), DELETE /api/runs/:id and POST /api/runs/:id/archive (refused
 * for a running run, guarded by the token like every route), and /api/studies (study folders listed
 * read-only with their progress, report.html served only from a listed folder).
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { plannedEvaluations, searchConfigSchema } from '../../src/core/search-config.js';
import { demoConfig, demoEstimate, DEMO_SECONDS_PER_EVALUATION } from '../../src/server/demo.js';
import { startServer, type RunningServer } from '../../src/server/server.js';
import { settingsOf, studyJobs } from '../../src/study/study.js';
import { JOURNAL_FILE, SETTINGS_FILE } from '../../src/study/study-folder.js';
import { LockJudge, RunLock } from '../../src/store/run-lock.js';

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
  headers: Record<string, string> = {},
  body?: unknown,
): Promise<Reply> {
  const res = await fetch(new URL(path, server.url), {
    method,
    headers: method === 'GET' ? headers : { 'content-type': 'application/json', ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
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

/** A surrogate search slow enough to be caught running. */
const SLOW = {
  population: 4,
  generations: 40,
  seed: 3,
  evaluator: 'surrogate',
  surrogateDelayMs: 200,
  resampling: { initialSeeds: 1, maxSeeds: 1 },
};
const QUICK = { ...SLOW, generations: 2, surrogateDelayMs: 0 };

let root: string;
let runsDir: string;
let studiesDir: string;
let server: RunningServer;
let tokenServer: RunningServer;
let planned: number;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'robust-nas-page-routes-'));
  runsDir = join(root, 'runs');
  studiesDir = join(root, 'studies');
  await mkdir(studiesDir, { recursive: true });
  // A study being run (two journal lines, one failed) and a finished one (with its report).
  const { settings } = settingsOf({ budget: 'tiny', out: join(studiesDir, 'running-study') });
  planned = studyJobs(settings).length;
  for (const name of ['running-study', 'finished-study']) {
    await mkdir(join(studiesDir, name), { recursive: true });
    await writeFile(join(studiesDir, name, SETTINGS_FILE), JSON.stringify(settings));
  }
  const scores = {
    clean: { accuracy: 0.9, stderr: 0.01, n: 500 },
    adversarial: [{ accuracy: 0.5, stderr: 0.02, n: 500, attack: 'pgd', eps: 0.1, steps: 5 }],
    params: 1000,
    macs: 2000,
    seconds: { train: 1, attack: 1, total: 2 },
    backend: 'wasm',
  };
  await writeFile(
    join(studiesDir, 'running-study', JOURNAL_FILE),
    `${JSON.stringify({ id: 'a', scores })}\n${JSON.stringify({ id: 'b', failed: 'NaN loss' })}\n`,
  );
  await writeFile(join(studiesDir, 'finished-study', 'report.html'), '<h1>the report</h1>');
  await mkdir(join(studiesDir, 'not-a-study'), { recursive: true });
  await writeFile(join(studiesDir, 'not-a-study', 'notes.txt'), 'x');
  server = await startServer({
    port: 0,
    runsDir,
    studiesDirs: [studiesDir],
    realEvaluatorProblem: async () => 'tfjs is missing (injected by the test)',
  });
  tokenServer = await startServer({
    port: 0,
    runsDir: join(root, 'runs-token'),
    token: 'secret-token-123',
    studiesDirs: [studiesDir],
    realEvaluatorProblem: async () => undefined,
  });
});

afterAll(async () => {
  await server?.close();
  await tokenServer?.close();
  if (root) await rm(root, { recursive: true, force: true });
});

describe('GET /api/config', () => {
  it('gives the demo settings through the CLI schema, and says why the real evaluator cannot load', async () => {
    const r = await request(server, 'GET', '/api/config');
    expect(r.status).toBe(200);
    expect(r.body.defaults).toEqual(
      JSON.parse(JSON.stringify(searchConfigSchema.parse(demoConfig('real')))),
    );
    // The demo's 5 PGD steps, not the schema's silent 10 (which schemaDefaults shows).
    expect(r.body.defaults.evaluation.attacks[0]).toMatchObject({
      name: 'pgd',
      steps: 5,
      eps: 0.05,
    });
    expect(r.body.schemaDefaults.evaluation.attacks[0].steps).toBe(10);
    expect(r.body.defaults.evaluator).toBe('real');
    expect(r.body.realEvaluator).toEqual({
      available: false,
      problem: 'tfjs is missing (injected by the test)',
    });
    // Without tfjs the demo would run on the surrogate: its estimate says so.
    expect(r.body.demo.text).toMatch(/surrogate evaluations/);
  });

  it('estimates the real demo from its measured seconds per evaluation and its evaluation count', async () => {
    const r = await request(tokenServer, 'GET', '/api/config', {
      authorization: 'Bearer secret-token-123',
    });
    expect(r.body.realEvaluator).toEqual({ available: true });
    const evaluations = plannedEvaluations(searchConfigSchema.parse(demoConfig('real')));
    expect(r.body.demo).toEqual(JSON.parse(JSON.stringify(demoEstimate('real'))));
    expect(r.body.demo.evaluations).toBe(evaluations);
    expect(r.body.demo.seconds).toBe(evaluations * DEMO_SECONDS_PER_EVALUATION);
    expect(r.body.demo.text).toMatch(/idle 2-core machine \(estimate/);
    // Needs the token like every route.
    expect((await request(tokenServer, 'GET', '/api/config')).status).toBe(401);
  });
});

describe('deleting and archiving runs', () => {
  it('refuses a running run (409), deletes a stopped one, archives a completed one', async () => {
    const running = await request(server, 'POST', '/api/runs', {}, SLOW);
    expect(running.status).toBe(201);
    const id = running.body.run.id as string;
    const refused = await request(server, 'DELETE', `/api/runs/${id}`);
    expect(refused.status).toBe(409);
    expect(refused.body.error).toMatch(/is running: pause or stop it/);
    expect((await request(server, 'POST', `/api/runs/${id}/archive`)).status).toBe(409);
    expect(existsSync(join(runsDir, id, 'run.json'))).toBe(true);

    expect((await request(server, 'POST', `/api/runs/${id}/stop`)).status).toBe(200);
    const deleted = await request(server, 'DELETE', `/api/runs/${id}`);
    expect(deleted.status).toBe(200);
    expect(deleted.body).toEqual({ deleted: id });
    expect(existsSync(join(runsDir, id))).toBe(false);
    const list = await request(server, 'GET', '/api/runs');
    expect(list.body.runs.map((r: { id: string }) => r.id)).not.toContain(id);
    expect((await request(server, 'GET', `/api/runs/${id}`)).status).toBe(404);
    expect((await request(server, 'DELETE', `/api/runs/${id}`)).status).toBe(404);

    const quick = await request(server, 'POST', '/api/runs', {}, QUICK);
    const done = quick.body.run.id as string;
    await server.manager.settled(done);
    const archived = await request(server, 'POST', `/api/runs/${done}/archive`);
    expect(archived.status).toBe(200);
    expect(existsSync(join(runsDir, done))).toBe(false);
    const moved = JSON.parse(await readFile(join(runsDir, '.archive', done, 'run.json'), 'utf8'));
    expect(moved.status).toBe('completed');
    const after = await request(server, 'GET', '/api/runs');
    expect(after.body.runs.map((r: { id: string }) => r.id)).not.toContain(done);
  });

  it('guards DELETE like every route (token, JSON content type) and validates the id', async () => {
    const started = await request(
      tokenServer,
      'POST',
      '/api/runs',
      { authorization: 'Bearer secret-token-123' },
      QUICK,
    );
    expect(started.status).toBe(201);
    const id = started.body.run.id as string;
    await tokenServer.manager.settled(id);
    expect((await request(tokenServer, 'DELETE', `/api/runs/${id}`)).status).toBe(401);
    const noJson = await fetch(new URL(`/api/runs/${id}`, tokenServer.url), {
      method: 'DELETE',
      headers: { authorization: 'Bearer secret-token-123' },
    });
    expect(noJson.status).toBe(415);
    const traversal = await request(tokenServer, 'DELETE', '/api/runs/..%2Fetc', {
      authorization: 'Bearer secret-token-123',
    });
    expect([400, 404]).toContain(traversal.status);
    const ok = await request(tokenServer, 'DELETE', `/api/runs/${id}`, {
      authorization: 'Bearer secret-token-123',
    });
    expect(ok.status).toBe(200);
  });
});

describe('/api/studies', () => {
  it('lists the study folders with their progress against the plan', async () => {
    const r = await request(server, 'GET', '/api/studies');
    expect(r.status).toBe(200);
    const byName = new Map(r.body.studies.map((s: { name: string }) => [s.name, s]));
    expect([...byName.keys()].sort()).toEqual(['finished-study', 'running-study']);
    expect(byName.get('running-study')).toMatchObject({
      budget: 'tiny',
      done: 2,
      failed: 1,
      planned,
      report: false,
      // Nobody holds its lock: it is not running now.
      status: 'stopped',
    });
    expect(planned).toBeGreaterThan(2);
    expect(byName.get('finished-study')).toMatchObject({
      done: 0,
      report: true,
      status: 'finished',
    });
  });

  it('says a study is running while a process holds its lock', async () => {
    const dir = join(studiesDir, 'running-study');
    const lock = await RunLock.acquire(dir, 'running-study', new LockJudge());
    try {
      const r = await request(server, 'GET', '/api/studies/running-study');
      expect(r.status).toBe(200);
      expect(r.body.study).toMatchObject({ name: 'running-study', status: 'running', done: 2 });
    } finally {
      await lock.release();
    }
    const after = await request(server, 'GET', '/api/studies/running-study');
    expect(after.body.study.status).toBe('stopped');
    expect((await request(server, 'GET', '/api/studies/nope')).status).toBe(404);
  });

  it('serves report.html of a listed study only, with a restrictive CSP', async () => {
    const r = await request(server, 'GET', '/api/studies/finished-study/report.html');
    expect(r.status).toBe(200);
    expect(r.text).toBe('<h1>the report</h1>');
    expect(r.headers.get('content-type')).toContain('text/html');
    expect(r.headers.get('content-security-policy')).toMatch(/default-src 'none'.*sandbox/);
    const none = await request(server, 'GET', '/api/studies/running-study/report.html');
    expect(none.status).toBe(404);
    expect(none.body.error).toMatch(/no report yet/);
    expect((await request(server, 'GET', '/api/studies/not-a-study/report.html')).status).toBe(404);
    for (const bad of ['..%2Fruns', '%2E%2E', 'x%5C..']) {
      const t = await request(server, 'GET', `/api/studies/${bad}/report.html`);
      expect([400, 404], bad).toContain(t.status);
    }
    // The token guards the studies too.
    expect((await request(tokenServer, 'GET', '/api/studies')).status).toBe(401);
    expect(
      (await request(tokenServer, 'GET', '/api/studies/finished-study/report.html')).status,
    ).toBe(401);
  });

  it('refuses a --studies-dir that is not there', async () => {
    const { checkStudiesDirs } = await import('../../src/server/studies.js');
    expect(() => checkStudiesDirs([join(root, 'nope')])).toThrow(
      /--studies-dir .*nope: no such folder/,
    );
  });
});
