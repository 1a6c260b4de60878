/**
 * The live socket.io feed with real socket.io-client connections to a real server running a real
 * surrogate search (with a delay per evaluation, so events arrive over time): snapshot then events,
 * a late joiner, a reconnect, a client that never acknowledges, and a search nobody watches. Each
 * client folds what it receives with the dashboard's own reducer (dashboard/src/run-model.ts).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { io, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  applyBatch,
  currentFront,
  modelFromSnapshot,
  type RunModel,
} from '../dashboard/src/run-model.js';
import type { EventBatch, SubscribeAck } from '../src/server/live-hub.js';
import type { RunSnapshot } from '../src/server/run-state.js';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server as SocketServer } from 'socket.io';
import { getPublishedGenotype } from '../src/core/published-genotypes.js';
import { parseSearchConfig } from '../src/core/search-config.js';
import { LiveHub } from '../src/server/live-hub.js';
import { RunState } from '../src/server/run-state.js';
import { startServer, type RunningServer } from '../src/server/server.js';

const CONFIG = {
  population: 6,
  generations: 4,
  seed: 3,
  evaluator: 'surrogate',
  surrogateDelayMs: 25,
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
  model: RunModel | undefined;
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
      this.model = modelFromSnapshot(s);
      if (acknowledge) ack();
      this.notify();
    });
    this.socket.on('events', (batch: EventBatch, ack: () => void) => {
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

  async until(predicate: (m: RunModel) => boolean, timeoutMs = 60_000): Promise<RunModel> {
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

/** The parts of a model every client must agree on. */
function essence(m: RunModel) {
  return {
    runId: m.runId,
    epoch: m.epoch,
    seq: m.seq,
    status: m.run.status,
    evaluations: m.evaluations.map((e) => [e.index, e.generation, e.hash, e.status, e.objectives]),
    front: m.front,
    hypervolume: m.hypervolume,
    progress: { generation: m.progress.generation, done: m.progress.done, total: m.progress.total },
  };
}

async function serverEssence(runId: string) {
  const state = await server.manager.state(runId);
  return essence(modelFromSnapshot(state!.snapshot()));
}

const completed = (m: RunModel) => m.run.status === 'completed';

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
    expect(final.evaluations).toHaveLength(PLANNED);
    expect(final.hypervolume.map((h) => h.generation)).toEqual([0, 1, 2, 3]);
    expect(essence(final)).toEqual(await serverEssence(id));
    // The dashboard's live front is the search's own front at the end of a generation.
    expect(currentFront(final)).toEqual([...final.front].sort((a, b) => a - b));
  });

  it('a late joiner and a reconnecting client end in the same state as one connected throughout', async () => {
    const throughout = await connected(new TestClient());
    const reconnecting = await connected(new TestClient());
    const id = await startRun();
    await throughout.subscribe(id);
    await reconnecting.subscribe(id);

    // Drop the connection mid-run, miss some events, come back and ask for what was missed.
    await reconnecting.until((m) => m.evaluations.length >= 4);
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
    expect(final.evaluations).toHaveLength(PLANNED);
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
    await watcher.until((m) => m.evaluations.length >= 2);
    watcher.socket.disconnect();
    await server.manager.settled(id);
    const state = await server.manager.state(id);
    expect(state!.status).toBe('completed');
    expect(state!.evaluations()).toHaveLength(PLANNED);
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
    // A run state fed by hand, so the burst is exactly known.
    const genotype = getPublishedGenotype('DARTS_V2');
    const config = parseSearchConfig({ population: 2, generations: 1, evaluation: {} });
    const state = new RunState({
      id: 'burst',
      status: 'running',
      createdAt: new Date().toISOString(),
      updatedAt: new Date().toISOString(),
      generation: 0,
      generations: [],
      generationsPlanned: 1,
      plannedEvaluations: 2,
      objectives: config.objectives,
      strategy: 'nsga2',
      evaluator: 'real',
      config,
      evaluations: [],
    });
    const http = createServer();
    const ioServer = new SocketServer(http);
    const hub = new LiveHub(ioServer, {
      state: async (id) => (id === 'burst' ? state : undefined),
      onChange: () => () => {},
    });
    await new Promise<void>((r) => http.listen(0, '127.0.0.1', () => r()));
    const client = io(`http://127.0.0.1:${(http.address() as AddressInfo).port}`, {
      transports: ['websocket'],
      forceNew: true,
    });
    try {
      let model: RunModel | undefined;
      const batches: EventBatch[] = [];
      let releaseFirst: (() => void) | undefined;
      client.on('snapshot', (snap: RunSnapshot, ack: () => void) => {
        model = modelFromSnapshot(snap);
        ack();
      });
      client.on('events', (batch: EventBatch, ack: () => void) => {
        batches.push(batch);
        const next = applyBatch(model!, batch);
        expect(next).not.toBe('resync');
        model = next as RunModel;
        // Hold the first batch's acknowledgement until the burst has been produced.
        if (batches.length === 1) releaseFirst = ack;
        else ack();
      });
      await client.timeout(5000).emitWithAck('subscribe', { runId: 'burst' });
      while (!model) await new Promise((r) => setTimeout(r, 10));
      const started = {
        type: 'evaluation-started',
        runId: 'burst',
        index: 0,
        generation: 0,
        inGeneration: { done: 0, total: 2 },
        genotype,
        hash: 'h0',
      } as const;
      state.apply(started);
      while (batches.length < 1) await new Promise((r) => setTimeout(r, 10));
      for (let k = 1; k <= 500; k++) {
        state.apply({
          type: 'evaluation-progress',
          runId: 'burst',
          index: 0,
          phase: 'train',
          done: k,
          total: 500,
        });
      }
      state.apply({
        type: 'evaluation-finished',
        runId: 'burst',
        evaluation: {
          index: 0,
          generation: 0,
          genotype,
          hash: 'h0',
          status: 'failed',
          failure: 'test',
          cached: false,
          startedAt: new Date().toISOString(),
          finishedAt: new Date().toISOString(),
        },
      });
      releaseFirst!();
      while (!model || model.seq < state.seq) await new Promise((r) => setTimeout(r, 10));
      // 502 events reached the client as 2 batches; the 500 progress reports as the last one only.
      expect(batches).toHaveLength(2);
      const second = batches[1]!.events.map((e) => e.event.type);
      expect(second).toEqual(['evaluation-progress', 'evaluation-finished']);
      expect(batches[1]!.events[0]!.event).toMatchObject({ done: 500 });
      expect(model.seq).toBe(502);
      expect(model.evaluations.map((e) => e.index)).toEqual([0]);
      expect(model.progress.done).toBe(1);
    } finally {
      client.close();
      hub.close();
      await new Promise<void>((r) => ioServer.close(() => r()));
    }
  });
});
