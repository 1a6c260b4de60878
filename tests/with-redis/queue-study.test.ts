/**
 * `robust-nas study --queue`: every evaluation goes to a real queue (redis-server and a
 * `robust-nas worker` process): the DARTS cell networks, the baseline and the ensemble (whose job
 * carries its members' weights, which the worker sent back earlier), and the report is the one of
 * a study run in a local pool of 1 worker and of 2 workers. And `robust-nas noise --queue` gives
 * the rows of `noise --workers 1`.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCommand } from '../helpers/cli.js';
import { countLines, killAll, startWorker } from '../helpers/queue-processes.js';
import { startRedis, type RedisServer } from '../helpers/redis.js';
import { TINY_EVALUATION } from '../helpers/tiny-evaluation.js';

const PASSWORD = 'study-test-secret';
const root = mkdtempSync(join(tmpdir(), 'robust-nas-queue-study-'));
const ARGS = ['study', '--budget', 'tiny'];
const env = { ROBUST_NAS_REDIS_PASSWORD: PASSWORD, ROBUST_NAS_DATA: '' };
let redis: RedisServer;

beforeAll(async () => {
  redis = await startRedis({ password: PASSWORD });
});
afterAll(async () => {
  await killAll();
  await redis?.stop();
  rmSync(root, { recursive: true, force: true });
});

describe('a study on the queue', () => {
  it('sends every network (cells, baseline, ensemble) to the queue and ends with the report of a pool of 1 and of 2', async () => {
    const reference = runCommand([...ARGS, '--out', join(root, 'here'), '--workers', '1'], env);
    expect(reference.code, reference.stderr).toBe(0);
    const pool = runCommand([...ARGS, '--out', join(root, 'pool'), '--workers', '2'], env);
    expect(pool.code, pool.stderr).toBe(0);
    expect(readFileSync(join(root, 'pool', 'report.json'), 'utf8')).toBe(
      readFileSync(join(root, 'here', 'report.json'), 'utf8'),
    );
    const worker = await startWorker(redis.url, 'w-1');
    const queued = runCommand(
      [...ARGS, '--out', join(root, 'queued'), '--queue', `redis://127.0.0.1:${redis.port}`],
      env,
    );
    expect(queued.code, queued.stderr).toBe(0);
    expect(queued.stderr).toMatch(/evaluations go to queue /);
    // Every evaluation of the plan (DARTS_V2, random-1, random-2, resnet18, the ensemble and the
    // eps sweeps of the saved networks) went through the worker (its lines are read once
    // spawnSync has returned): as many as the study's journal holds.
    const planned = readFileSync(join(root, 'queued', 'journal.jsonl'), 'utf8')
      .trim()
      .split('\n').length;
    expect(planned).toBeGreaterThanOrEqual(5);
    const finished = () => countLines(worker.stdout(), /job study-[0-9a-f]{16}\.\d+ finished/);
    for (let i = 0; i < 100 && finished() < planned; i++) {
      await new Promise((r) => setTimeout(r, 100));
    }
    await new Promise((r) => setTimeout(r, 500));
    expect(finished(), worker.stdout()).toBe(planned);
    expect(readFileSync(join(root, 'queued', 'report.json'), 'utf8')).toBe(
      readFileSync(join(root, 'here', 'report.json'), 'utf8'),
    );
  }, 600_000);

  it('noise on the queue gives the rows of a pool of 1', async () => {
    const config = join(root, 'noise.json');
    writeFileSync(config, JSON.stringify({ seed: 7, evaluation: TINY_EVALUATION }));
    const args = ['noise', '--config', config, '--genotypes', '2', '--seeds', '2', '--json'];
    const local = runCommand([...args, '--workers', '1'], env);
    expect(local.code, local.stderr).toBe(0);
    await startWorker(redis.url, 'w-noise');
    const queued = runCommand([...args, '--queue', `redis://127.0.0.1:${redis.port}`], env);
    expect(queued.code, queued.stderr).toBe(0);
    expect(queued.stderr).toMatch(/evaluations go to queue /);
    const rows = (text: string) =>
      (
        JSON.parse(text) as { rows: { hash: string; seed: number; objectives: number[] }[] }
      ).rows.map((r) => [r.hash, r.seed, r.objectives]);
    expect(rows(queued.stdout)).toEqual(rows(local.stdout));
  }, 600_000);
});
