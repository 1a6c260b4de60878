/**
 * The live socket.io feed with real socket.io-client connections to a real server running a real
 * surrogate search (with a delay per evaluation, so changes arrive over time): snapshot then change
 * batches, a late joiner, a reconnect, a client that never acknowledges, and a search nobody
 * watches. Each client folds what it receives with core's reducer (`applyBatch`), as the dashboard
 * does.
 */
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
import type { RunFile } from '../../src/core/records.js';
import { Rng } from '../../src/core/rng.js';
import {
  currentFront,
  generationFront,
  generationProgress,
  hypervolumeHistory,
} from '../../src/core/run-view.js';
import type { SubscribeAck } from '../../src/server/live-hub.js';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server as SocketServer } from 'socket.io';
import { getPublishedGenotype } from '../../src/core/published-genotypes.js';
import { parseSearchConfig } from '../../src/core/search-config.js';
import { LiveHub } from '../../src/server/live-hub.js';
import { RunProjection } from '../../src/server/run-state.js';
import { startServer, type RunningServer } from '../../src/server/server.js';

const CONFIG = {
  population: 6,
  generations: 4,
  seed: 3,
  evaluator: 'surrogate',
  surrogateDelayMs: 25,
  // One seed per candidate: PLANNED is exact (the feed's machinery does not depend on it).
  resampling: { initialSeeds: 1, maxSeeds: 1 },
  objectives: [
    { metric: 'clean', direction: 'max' },
    { metric: 'adversarial', attack: 'pgd', eps: 0.1, direction: 'max' },
  ],
};
const PLANNED = 6 + 3 * 6;

let runsDir: string;
let server: RunningServer;
const clients: TestClient[] = [];

beforeAll(async () => {
  runsDir = await mkdtemp(join(tmpdir(), 'robust-nas-live-'));
  server = await startServer({ port: 0, runsDir, hub: { ackTimeoutMs: 400, maxQueue: 50 } });
});

afterAll(async () => {
  for (const c of clients) c.socket.close();
  await server?.close();
  await rm(runsDir, { recursive: true, force: true });
});

/** A client that behaves like the dashboard: snapshot, then batches, re-subscribing on reconnect. */
class TestClient {
  readonly socket: Socket;
  model: RunSnapshot | undefined;
  runId: string | undefined;
  readonly received: ('snapshot' | 'events')[] = [];
  gaps = 0;
  private waiters: (() => void)[] = [];

  constructor(options: { acknowledge?: boolean } = {}) {
    const acknowledge = options.acknowledge ?? true;
    this.socket = io(server.url, {
      transports: ['websocket'],
      reconnection: false,
      forceNew: true,
    });
    clients.push(this);
    this.socket.on('connect', () => {
      if (this.runId) void this.subscribe(this.runId, true);
    });
    this.socket.on('snapshot', (s: RunSnapshot, ack: () => void) => {
      this.received.push('snapshot');
      this.model = s;
      if (acknowledge) ack();
      this.notify();
    });
    this.socket.on('events', (message: EncodedChangeBatch | ChangeBatch, ack: () => void) => {
      const batch = decodeBatch(message);
      this.received.push('events');
      if (!acknowledge) return; // a stuck client: never acknowledges
      ack();
      if (!this.model) return;
      const next = applyBatch(this.model, batch);
      if (next === 'resync') {
        this.gaps += 1;
        void this.subscribe(batch.runId, false);
        return;
      }
      this.model = next;
      this.notify();
    });
  }

  subscribe(runId: string, resume = false): Promise<SubscribeAck> {
    this.runId = runId;
    const m = this.model;
    const message = resume && m ? { runId, epoch: m.epoch, lastSeq: m.seq } : { runId };
    return this.socket.timeout(5000).emitWithAck('subscribe', message) as Promise<SubscribeAck>;
  }

  async until(predicate: (m: RunSnapshot) => boolean, timeoutMs = 60_000): Promise<RunSnapshot> {
    const deadline = Date.now() + timeoutMs;
    while (!this.model || !predicate(this.model)) {
      if (Date.now() > deadline) throw new Error('timed out waiting for the client state');
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 200);
      });
    }
    return this.model;
  }

  private notify(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }
}

async function connected(client: TestClient): Promise<TestClient> {
  if (!client.socket.connected)
    await new Promise((r) => client.socket.once('connect', () => r(null)));
  return client;
}

async function startRun(config: object = CONFIG): Promise<string> {
  const res = await fetch(new URL('/api/runs', server.url), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(config),
  });
  expect(res.status).toBe(201);
  return ((await res.json()) as { run: { id: string } }).run.id;
}

/** The parts of a run's state every client must agree on (all derived with core's functions). */
function essence(m: RunSnapshot) {
  const p = generationProgress(m.view);
  return {
    runId: m.runId,
    epoch: m.epoch,
    seq: m.seq,
    live: m.live,
    status: m.view.run.status,
    evaluations: m.view.evaluations.map((e) => [
      e.index,
      e.generation,
      e.hash,
      e.status,
      e.objectives,
    ]),
    front: generationFront(m.view)?.summary.front ?? [],
    current: currentFront(m.view),
    hypervolume: hypervolumeHistory(m.view),
    progress: { generation: p.generation, done: p.done, total: p.total, running: p.running },
  };
}

async function serverEssence(runId: string) {
  const projection = await server.manager.projection(runId);
  return essence(projection!.snapshot());
}

const completed = (m: RunSnapshot) => m.view.run.status === 'completed' && !m.live;

describe('live feed', () => {
  it('sends a snapshot first, then gap-free event batches, ending in the server state', async () => {
    const client = await connected(new TestClient());
    const id = await startRun();
    const ack = await client.subscribe(id);
    expect(ack.ok).toBe(true);
    const final = await client.until(completed);
    expect(client.received[0]).toBe('snapshot');
    expect(client.received.filter((r) => r === 'snapshot')).toHaveLength(1);
    expect(client.received.filter((r) => r === 'events').length).toBeGreaterThan(3);
    expect(client.gaps).toBe(0);
    expect(final.view.evaluations).toHaveLength(PLANNED);
    expect(hypervolumeHistory(final.view).map((h) => h.generation)).toEqual([0, 1, 2, 3]);
    expect(essence(final)).toEqual(await serverEssence(id));
    // The live front (core's currentFront) is the search's own front at the end of a generation.
    expect(currentFront(final.view)).toEqual(generationFront(final.view)!.summary.front);
  });

  it('a late joiner and a reconnecting client end in the same state as one connected throughout', async () => {
    const throughout = await connected(new TestClient());
    const reconnecting = await connected(new TestClient());
    const id = await startRun();
    await throughout.subscribe(id);
    await reconnecting.subscribe(id);

    // Drop the connection mid-run, miss some events, come back and ask for what was missed.
    await reconnecting.until((m) => m.view.evaluations.length >= 4);
    reconnecting.socket.disconnect();
    const missedFrom = reconnecting.model!.seq;
    await throughout.until((m) => m.seq > missedFrom + 5);
    const late = await connected(new TestClient());
    await late.subscribe(id); // joins mid-run
    reconnecting.socket.connect();

    const a = await throughout.until(completed);
    const b = await reconnecting.until(completed);
    const c = await late.until(completed);
    expect(essence(b)).toEqual(essence(a));
    expect(essence(c)).toEqual(essence(a));
    expect(essence(a)).toEqual(await serverEssence(id));
    // The reconnect was served from the replay buffer: no second snapshot.
    expect(reconnecting.received.filter((r) => r === 'snapshot')).toHaveLength(1);
    expect(late.received[0]).toBe('snapshot');

    // Joining after the end gives the same final state in one snapshot.
    const after = await connected(new TestClient());
    await after.subscribe(id);
    expect(essence(await after.until(completed))).toEqual(essence(a));
  });

  it('a client that never acknowledges does not stall the search or other clients', async () => {
    const stuck = await connected(new TestClient({ acknowledge: false }));
    const healthy = await connected(new TestClient());
    const id = await startRun();
    await stuck.subscribe(id);
    await healthy.subscribe(id);
    const final = await healthy.until(completed);
    expect(final.view.evaluations).toHaveLength(PLANNED);
    expect(essence(final)).toEqual(await serverEssence(id));
    // The stuck client was sent at most one batch at a time: a snapshot, then on each missed
    // acknowledgement a fresh snapshot, never a growing backlog.
    const events = stuck.received.filter((r) => r === 'events').length;
    expect(events).toBeLessThanOrEqual(stuck.received.filter((r) => r === 'snapshot').length);
  });

  it('keeps searching when every client leaves', async () => {
    const watcher = await connected(new TestClient());
    const id = await startRun();
    await watcher.subscribe(id);
    await watcher.until((m) => m.view.evaluations.length >= 2);
    watcher.socket.disconnect();
    await server.manager.settled(id);
    const projection = await server.manager.projection(id);
    expect(projection!.status).toBe('completed');
    expect(projection!.view.evaluations).toHaveLength(PLANNED);
    expect(server.hub.subscriptionCount()).toBeGreaterThanOrEqual(0);
  });

  it('answers a bad or unknown subscription with an error', async () => {
    const client = await connected(new TestClient());
    const bad = (await client.socket.emitWithAck('subscribe', { runId: '../etc' })) as SubscribeAck;
    expect(bad.ok).toBe(false);
    if (!bad.ok) {
      expect(bad.error).toBe('invalid subscribe message');
      expect(bad.issues?.[0]?.path).toBe('runId');
    }
    const unknown = (await client.socket.emitWithAck('subscribe', {
      runId: 'nope',
    })) as SubscribeAck;
    expect(unknown).toEqual({ ok: false, error: 'unknown run: nope' });
  });

  it('coalesces a burst while a client has a batch unacknowledged', async () => {
    // A projection fed by hand, so the burst is exactly known.
    const genotype = getPublishedGenotype('DARTS_V2');
    const config = parseSearchConfig({ population: 2, generations: 1, evaluation: {} });
    const now = new Date().toISOString();
    const file: RunFile = {
      format: 'robust-nas-run',
      formatVersion: 1,
      id: 'burst',
      createdAt: now,
      updatedAt: now,
      status: 'running',
      config,
      checkpoint: {
        generation: 0,
        rngState: Rng.fromSeed(1).state(),
        evaluationsAtStart: 0,
        population: [],
      },
      generations: [],
    };
    const projection = new RunProjection({ file, status: 'running', evaluations: [] });
    const http = createServer();
    const ioServer = new SocketServer(http);
    const hub = new LiveHub(ioServer, {
      projection: async (id) => (id === 'burst' ? projection : undefined),
      onChange: (listener) => projection.onChange((item) => listener(projection, item)),
    });
    await new Promise<void>((r) => http.listen(0, '127.0.0.1', () => r()));
    const client = io(`http://127.0.0.1:${(http.address() as AddressInfo).port}`, {
      transports: ['websocket'],
      forceNew: true,
    });
    try {
      let model: RunSnapshot | undefined;
      const batches: ChangeBatch[] = [];
      let releaseFirst: (() => void) | undefined;
      client.on('snapshot', (snap: RunSnapshot, ack: () => void) => {
        model = snap;
        ack();
      });
      client.on('events', (message: EncodedChangeBatch | ChangeBatch, ack: () => void) => {
        const batch = decodeBatch(message);
        batches.push(batch);
        const next = applyBatch(model!, batch);
        expect(next).not.toBe('resync');
        model = next as RunSnapshot;
        // Hold the first batch's acknowledgement until the burst has been produced.
        if (batches.length === 1) releaseFirst = ack;
        else ack();
      });
      await client.timeout(5000).emitWithAck('subscribe', { runId: 'burst' });
      while (!model) await new Promise((r) => setTimeout(r, 10));
      const activity = (phase: 'started' | 'train', done: number, total: number) =>
        projection.apply({
          type: 'activity',
          activity: { index: 0, generation: 0, phase, done, total },
        });
      activity('started', 0, 1);
      while (batches.length < 1) await new Promise((r) => setTimeout(r, 10));
      for (let k = 1; k <= 500; k++) activity('train', k, 500);
      projection.apply({
        type: 'evaluation',
        evaluation: {
          index: 0,
          generation: 0,
          genotype,
          hash: 'h0',
          status: 'failed',
          failure: 'test',
          cached: false,
          startedAt: now,
          finishedAt: new Date().toISOString(),
        },
      });
      releaseFirst!();
      while (!model || model.seq < projection.seq) await new Promise((r) => setTimeout(r, 10));
      // 502 changes reached the client as 2 batches; the 500 progress reports as the last one only.
      expect(batches).toHaveLength(2);
      const second = batches[1]!.changes.map((c) => c.change.type);
      expect(second).toEqual(['activity', 'evaluation']);
      expect(batches[1]!.changes[0]!.change).toMatchObject({ activity: { done: 500 } });
      expect(model.seq).toBe(502);
      expect(model.view.evaluations.map((e) => e.index)).toEqual([0]);
      expect(generationProgress(model.view)).toMatchObject({ done: 1, running: [] });
      expect(model.view).toEqual(projection.view);
    } finally {
      client.close();
      hub.close();
      await new Promise<void>((r) => ioServer.close(() => r()));
    }
  });
});
