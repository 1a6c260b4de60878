/**
 * A run executed by another process (`robust-nas search`, spawned into the server's runs folder)
 * reaches the server's projection and a socket.io client live, through storage alone; at the end
 * the client's state is the stored run, and a client that subscribes after the end gets, in one
 * snapshot, exactly the state of the client that watched from the start.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { io, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  applyBatch,
  decodeBatch,
  type EncodedChangeBatch,
  type ChangeBatch,
  type RunSnapshot,
} from '../../src/core/live-feed.js';
import { runHeader } from '../../src/core/run-view.js';
import { FileRunStorage } from '../../src/store/file-run-storage.js';
import { startServer, type RunningServer } from '../../src/server/server.js';
import { CLI_PATH } from '../helpers/cli.js';

let runsDir: string;
let server: RunningServer;
const sockets: Socket[] = [];

beforeAll(async () => {
  runsDir = await mkdtemp(join(tmpdir(), 'robust-nas-external-'));
  server = await startServer({ port: 0, runsDir });
});

afterAll(async () => {
  for (const s of sockets) s.close();
  await server?.close();
  await rm(runsDir, { recursive: true, force: true });
});

/** A client folding snapshot and batches with core's applyBatch; remembers what it saw. */
function watch(runId: string) {
  const socket = io(server.url, { transports: ['websocket'], forceNew: true });
  sockets.push(socket);
  const seen = { state: undefined as RunSnapshot | undefined, counts: [] as number[], resyncs: 0 };
  socket.on('snapshot', (s: RunSnapshot, ack: () => void) => {
    seen.state = s;
    seen.counts.push(s.view.evaluations.length);
    ack();
  });
  socket.on('events', (message: EncodedChangeBatch | ChangeBatch, ack: () => void) => {
    const batch = decodeBatch(message);
    ack();
    if (!seen.state) return;
    const next = applyBatch(seen.state, batch);
    if (next === 'resync') {
      seen.resyncs += 1;
      return;
    }
    seen.state = next;
    seen.counts.push(next.view.evaluations.length);
  });
  const subscribed = socket.timeout(5000).emitWithAck('subscribe', { runId });
  return { seen, subscribed };
}

async function until(check: () => boolean, what: string, ms = 60_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('a run executed by another process', () => {
  it('appears live in the projection and in a client, equal at the end to the stored run', async () => {
    const runId = 'external-1';
    const child = spawn(
      process.execPath,
      [
        CLI_PATH,
        'search',
        '--evaluator',
        'surrogate',
        '--surrogate-delay',
        '80',
        '--population',
        '6',
        '--generations',
        '4',
        '--seed',
        '2',
        // One seed per candidate: 6 * 4 evaluations.
        '--max-seeds',
        '1',
        '--runs-dir',
        runsDir,
        '--run-id',
        runId,
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));

    // The run appears in the server as soon as its folder is there; a client subscribes at once.
    let projection = await server.manager.projection(runId).catch(() => undefined);
    const deadline = Date.now() + 30_000;
    while (!projection) {
      if (Date.now() > deadline || child.exitCode !== null) throw new Error(`no run: ${stderr}`);
      await new Promise((r) => setTimeout(r, 20));
      projection = await server.manager.projection(runId).catch(() => undefined);
    }
    const early = watch(runId);
    expect(await early.subscribed).toMatchObject({ ok: true });
    const projectionCounts: number[] = [];
    projection.onChange(() => projectionCounts.push(projection!.evaluationCount));

    expect(await exited, stderr).toBe(0);
    await until(
      () => early.seen.state?.view.run.status === 'completed',
      'the client to see the end',
    );

    // It arrived live: the client and the projection saw the count grow step by step.
    expect(new Set(early.seen.counts).size).toBeGreaterThan(3);
    expect(new Set(projectionCounts).size).toBeGreaterThan(3);
    expect(early.seen.resyncs).toBe(0);
    const final = early.seen.state!;
    expect(final.live).toBe(false);

    // Equal to the stored run.
    const stored = await new FileRunStorage(runsDir).read(runId);
    expect(stored.status).toBe('completed');
    expect(final.view.run).toEqual(runHeader(stored.file, stored.status));
    expect(final.view.evaluations).toEqual(stored.evaluations);
    expect(final.view.evaluations).toHaveLength(6 * 4);
    expect(final.view.working).toEqual({});

    // A late client's snapshot is exactly the state of the client that watched from the start.
    const late = watch(runId);
    await late.subscribed;
    await until(() => late.seen.state !== undefined, 'the late snapshot');
    expect(late.seen.state).toEqual(final);
    expect(projection.snapshot()).toEqual(final);
  });
});
