/**
 * Issue 11: clients that subscribe and never read must not grow the server. Twenty raw clients
 * stop reading at the TCP level right after subscribing (and keep answering the heartbeat) while
 * a surrogate search runs; the bytes socket.io holds unsent for each stay under the hub's bound,
 * each stuck client is disconnected with a reason, and a reading client still ends in the
 * server's state. The snapshot resend cap is lifted here (and the acknowledgement timeout made
 * short) so that resent snapshots fill the kernel's socket buffers (a few MB per connection on
 * loopback) and the byte bound, not the cap, is what stops them.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { io } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  applyBatch,
  decodeBatch,
  type EncodedChangeBatch,
  type ChangeBatch,
  type RunSnapshot,
} from '../../src/core/live-feed.js';
import { startServer, type RunningServer } from '../../src/server/server.js';
import { stuckSubscriber, type StuckClient } from '../helpers/raw-ws-client.js';

const BOUND = 512 * 1024;
const CONFIG = {
  population: 40,
  generations: 15,
  seed: 5,
  evaluator: 'surrogate',
  surrogateDelayMs: 10,
  // One seed per candidate: PLANNED is exact.
  resampling: { initialSeeds: 1, maxSeeds: 1 },
  objectives: [
    { metric: 'clean', direction: 'max' },
    { metric: 'adversarial', attack: 'pgd', eps: 0.1, direction: 'max' },
  ],
};
const PLANNED = 40 * 15;

let runsDir: string;
let server: RunningServer;

beforeAll(async () => {
  runsDir = await mkdtemp(join(tmpdir(), 'robust-nas-bounds-'));
  server = await startServer({
    port: 0,
    runsDir,
    hub: {
      maxBufferedBytes: BOUND,
      ackTimeoutMs: 150,
      stallTimeoutMs: 1500,
      maxSnapshotResends: 10_000,
    },
  });
});

afterAll(async () => {
  await server?.close();
  await rm(runsDir, { recursive: true, force: true });
});

describe('a live feed with clients that never read', () => {
  it('keeps what it holds per client under the bound and cuts stuck clients off', async () => {
    const res = await fetch(new URL('/api/runs', server.url), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(CONFIG),
    });
    expect(res.status).toBe(201);
    const id = ((await res.json()) as { run: { id: string } }).run.id;

    // A reading client, folding what it receives with core's applyBatch.
    const reader = io(server.url, { transports: ['websocket'], forceNew: true });
    let state: RunSnapshot | undefined;
    reader.on('snapshot', (s: RunSnapshot, ack: () => void) => {
      state = s;
      ack();
    });
    reader.on('events', (message: EncodedChangeBatch | ChangeBatch, ack: () => void) => {
      const batch = decodeBatch(message);
      ack();
      const next = state && applyBatch(state, batch);
      if (next && next !== 'resync') state = next;
    });
    await reader.timeout(5000).emitWithAck('subscribe', { runId: id });

    const stuck: StuckClient[] = [];
    for (let i = 0; i < 20; i++) stuck.push(await stuckSubscriber(server.port, id, 500));

    let maxUnsent = 0;
    let remaining = -1;
    const sampler = setInterval(() => {
      for (const n of server.hub.unsentBytes()) maxUnsent = Math.max(maxUnsent, n);
    }, 10);
    try {
      await server.manager.settled(id);
      const deadline = Date.now() + 30_000;
      while (server.io.engine.clientsCount > 1 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 50));
      }
      while (state?.view.run.status !== 'completed' || state.live) {
        if (Date.now() > deadline) throw new Error('the reading client did not reach the end');
        await new Promise((r) => setTimeout(r, 50));
      }
      remaining = server.io.engine.clientsCount; // the reader alone
    } finally {
      clearInterval(sampler);
      reader.close();
      for (const c of stuck) c.close();
    }
    const projection = (await server.manager.projection(id))!;
    expect(projection.view.evaluations).toHaveLength(PLANNED);
    expect(state.seq).toBe(projection.seq);
    expect(state.view.evaluations).toEqual(projection.view.evaluations);

    // Every stuck client was disconnected, each with its reason; none held more than the bound.
    expect(remaining).toBe(1);
    const reasons = server.hub.dropped.map((d) => d.reason);
    // (Under heavy load engine.io itself may close one first; the hub names why it cut the rest.)
    expect(reasons.length).toBeGreaterThanOrEqual(15);
    for (const r of reasons) expect(r).toMatch(/unsent|nothing read/);
    expect(maxUnsent).toBeGreaterThan(0); // the kernel's buffers did fill: the bound was reached
    expect(maxUnsent).toBeLessThanOrEqual(BOUND);
    console.log(
      `stuck clients: max ${maxUnsent} bytes held unsent for one client (bound ${BOUND}); ` +
        `${reasons.length} of 20 cut off by the hub; ` +
        `reasons: ${[...new Set(reasons.map((r) => r.replace(/\d+/g, 'N')))].join('; ')}`,
    );
  });
});
