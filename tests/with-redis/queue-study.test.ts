/**
 * `robust-nas study --queue`: the DARTS cell networks go to a real queue (redis-server and a
 * `robust-nas worker` process), the baselines and ensembles run in the study's process (the
 * ensemble loads the weights the worker sent back), and the report is the one of a study run
 * entirely in one process.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCommand } from '../helpers/cli.js';
import { countLines, killAll, startWorker } from '../helpers/queue-processes.js';
import { startRedis, type RedisServer } from '../helpers/redis.js';

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
  it('sends the DARTS networks to the queue and ends with the in-process report', async () => {
    const reference = runCommand([...ARGS, '--out', join(root, 'here')], env);
    expect(reference.code, reference.stderr).toBe(0);
    const worker = await startWorker(redis.url, 'w-1');
    const queued = runCommand(
      [...ARGS, '--out', join(root, 'queued'), '--queue', `redis://127.0.0.1:${redis.port}`],
      env,
    );
    expect(queued.code, queued.stderr).toBe(0);
    expect(queued.stderr).toMatch(
      /evaluations go to queue .*; baselines and ensembles run in this process/,
    );
    // DARTS_V2, random-1 and random-2 went through the worker; resnet18 and the ensemble did not
    // (the worker's lines are read once spawnSync has returned).
    const finished = () => countLines(worker.stdout(), /job study-[0-9a-f]{16}\.\d+ finished/);
    for (let i = 0; i < 100 && finished() < 3; i++) await new Promise((r) => setTimeout(r, 100));
    await new Promise((r) => setTimeout(r, 500));
    expect(finished(), worker.stdout()).toBe(3);
    expect(readFileSync(join(root, 'queued', 'report.json'), 'utf8')).toBe(
      readFileSync(join(root, 'here', 'report.json'), 'utf8'),
    );
  }, 600_000);
});
