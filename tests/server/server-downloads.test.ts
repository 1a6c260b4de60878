/**
 * A server downloads data sets only when started with --download-data (issue 20): a POST naming a
 * data set this machine does not hold is refused with a 400 that says how, instead of starting a
 * 170 MB download on the server.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '../../src/server/server.js';

const root = mkdtempSync(join(tmpdir(), 'robust-nas-downloads-'));
let server: RunningServer;

beforeAll(async () => {
  // No data root, an empty user cache: CIFAR-10 is not on this machine.
  delete process.env.ROBUST_NAS_DATA;
  process.env.ROBUST_NAS_CACHE = join(root, 'cache');
  server = await startServer({ port: 0, runsDir: join(root, 'runs') });
});

afterAll(async () => {
  await server?.close();
  rmSync(root, { recursive: true, force: true });
});

async function post(body: unknown) {
  const res = await fetch(new URL('/api/runs', server.url), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as { error?: string } };
}

describe('a server that does not download', () => {
  it('refuses a real search on a data set it lacks, naming --download-data; starts nothing', async () => {
    const r = await post({ evaluator: 'real', evaluation: { dataset: 'cifar10' } });
    expect(r.status).toBe(400);
    expect(JSON.stringify(r.body)).toMatch(/cifar10 is not on this machine.*--download-data/);
    const runs = (await (await fetch(new URL('/api/runs', server.url))).json()) as {
      runs: unknown[];
    };
    expect(runs.runs).toHaveLength(0);
  });

  it('lets surrogate runs through (they read no data)', async () => {
    const r = await post({
      evaluator: 'surrogate',
      population: 2,
      generations: 1,
      evaluation: { dataset: 'cifar10' },
    });
    expect(r.status).toBe(201);
  });
});
