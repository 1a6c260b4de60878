/**
 * Live runs over socket.io.
 *
 * Protocol (all messages JSON; the types are core's, src/core/live-feed.ts and run-view.ts):
 * - client `subscribe` {runId, epoch?, lastSeq?} (ack: {ok, epoch, seq} or {error}). The server
 *   answers with a `snapshot` (RunSnapshot {runId, epoch, seq, view, live}: the run's RunView at
 *   sequence `seq`) and then `events` batches (ChangeBatch {runId, epoch, fromSeq, toSeq,
 *   changes}), which the client applies with core's `applyBatch`. A client that reconnects and
 *   sends the epoch and last sequence number it applied gets only the changes it missed when the
 *   server still has them, otherwise a fresh snapshot; either way it ends in the same state as a
 *   client connected throughout.
 * - client `unsubscribe` {runId}.
 * - server `run-overview` (RunOverview) to every client when a run's stored facts change, for the
 *   runs list (at most one per run per `overviewIntervalMs`).
 *
 * Flow control: the projection's listener only appends to each subscriber's queue and never waits.
 * Each subscriber has at most one batch in flight (acknowledged by the client) and gets batches at
 * most every `batchIntervalMs`; whatever arrives meanwhile goes into the next batch, with activity
 * changes for the same evaluation collapsed to the latest (they are display-only). A subscriber
 * whose queue grows past `maxQueue`, or that does not acknowledge in time, is sent a fresh snapshot
 * instead; one that leaves `maxSnapshotResends` snapshots in a row unacknowledged is disconnected.
 *
 * socket.io keeps what it has not written per connection (engine.io's write buffer, the
 * WebSocket's buffered bytes), whatever this hub queues. Before anything is sent to a client the
 * hub looks at those bytes: while any are unsent the client is skipped (batches wait, the latest
 * overview per run is kept for it) and served once they drain; a client with more than
 * `maxBufferedBytes` unsent, or that has not drained for `stallTimeoutMs`, is disconnected with the
 * reason recorded. So a client that stops reading costs the server a bounded amount of memory and
 * nothing of the search's time.
 */
import type { Server, Socket } from 'socket.io';
import type {
  ChangeBatch,
  EncodedChangeBatch,
  RunSnapshot,
  SequencedChange,
} from '../core/live-feed.js';
import type { RunOverview } from '../core/run-view.js';
import type { RunProjection } from './run-state.js';
import { fieldIssues, subscribeMessageSchema, unsubscribeMessageSchema } from './validation.js';

/** Where the hub finds runs, and hears about changes to any of them. */
export interface RunSource {
  /** The run's projection, reading it from storage if needed; undefined for an unknown run. */
  projection(runId: string): Promise<RunProjection | undefined>;
  /** Called for every change applied to any projection the source holds. */
  onChange(listener: (projection: RunProjection, item: SequencedChange) => void): () => void;
}

export type SubscribeAck =
  | { ok: true; epoch: string; seq: number }
  | { ok: false; error: string; issues?: { path: string; message: string }[] };

export interface LiveHubOptions {
  /** Queued changes per subscriber beyond which it gets a snapshot instead (default 2000). */
  maxQueue?: number;
  /** How long a client has to acknowledge a batch or snapshot (default 15 s). */
  ackTimeoutMs?: number;
  /** Recent changes kept per run for reconnecting clients (default 1000). */
  replay?: number;
  /** Minimum ms between two `run-overview` messages for one run (default 1000). */
  overviewIntervalMs?: number;
  /** Minimum ms between two batches to one subscriber (default 100). */
  batchIntervalMs?: number;
  /** Unsent bytes of one client beyond which it is disconnected (default 4 MiB). */
  maxBufferedBytes?: number;
  /** How long a client may leave bytes unsent before it is disconnected (default ackTimeoutMs). */
  stallTimeoutMs?: number;
  /** Snapshots in a row a client may leave unacknowledged before it is disconnected (default 3). */
  maxSnapshotResends?: number;
}

/** Why the hub disconnected a client. */
export interface DroppedClient {
  readonly socketId: string;
  readonly reason: string;
  readonly at: number;
}

interface Channel {
  readonly projection: RunProjection;
  readonly recent: SequencedChange[];
  readonly subscribers: Set<Subscription>;
}

interface Subscription {
  readonly client: Client;
  readonly channel: Channel;
  queue: SequencedChange[];
  /** Sequence number up to which this client has been sent the state. */
  sentSeq: number;
  needsSnapshot: boolean;
  inFlight: boolean;
  timer: NodeJS.Timeout | undefined;
  lastSentAt: number;
  /** Snapshots sent since the last acknowledgement. */
  unackedSnapshots: number;
  closed: boolean;
}

interface Client {
  readonly socket: Socket;
  readonly subs: Map<string, Subscription>;
  /** The latest overview per run not yet sent (while the client was behind). */
  readonly overviews: Map<string, RunOverview>;
  /** Since when the client has had unsent bytes (0 when drained). */
  behindSince: number;
}

interface EngineConnection {
  writeBuffer?: { data?: unknown }[];
  transport?: { socket?: { bufferedAmount?: number; terminate?: () => void } };
}

/** Bytes socket.io has accepted for this client but not yet handed to the kernel. */
export function unsentBytes(socket: Socket): number {
  const conn = socket.conn as unknown as EngineConnection;
  let n = 0;
  for (const packet of conn.writeBuffer ?? []) {
    const d = packet.data;
    n += typeof d === 'string' ? d.length : ((d as { byteLength?: number })?.byteLength ?? 0);
  }
  return n + (conn.transport?.socket?.bufferedAmount ?? 0);
}

const BEHIND_ROOM = 'robust-nas:behind';
/** Encoded batches kept for reuse (clients that keep up share the latest few). */
const ENCODED_BATCHES_KEPT = 64;

export class LiveHub {
  private readonly channels = new Map<string, Channel>();
  private readonly clients = new Map<Socket, Client>();
  private readonly overviewTimers = new Map<string, NodeJS.Timeout>();
  private readonly overviewSentAt = new Map<string, number>();
  private readonly behind = new Set<Client>();
  private drainTimer: NodeJS.Timeout | undefined;
  private readonly unlisten: () => void;
  private readonly maxQueue: number;
  private readonly ackTimeoutMs: number;
  private readonly replay: number;
  private readonly overviewIntervalMs: number;
  private readonly batchIntervalMs: number;
  /** Batches encoded lately, by run, epoch and sequence range (oldest first). */
  private readonly encoded = new Map<string, EncodedChangeBatch>();
  private readonly maxBufferedBytes: number;
  private readonly stallTimeoutMs: number;
  private readonly maxSnapshotResends: number;
  /** Clients disconnected for falling behind, most recent last (at most 100 kept). */
  readonly dropped: DroppedClient[] = [];

  constructor(
    private readonly io: Server,
    private readonly source: RunSource,
    options: LiveHubOptions = {},
  ) {
    this.maxQueue = options.maxQueue ?? 2000;
    this.ackTimeoutMs = options.ackTimeoutMs ?? 15_000;
    this.replay = options.replay ?? 1000;
    this.overviewIntervalMs = options.overviewIntervalMs ?? 1000;
    this.batchIntervalMs = options.batchIntervalMs ?? 100;
    this.maxBufferedBytes = options.maxBufferedBytes ?? 4 * 1024 * 1024;
    this.stallTimeoutMs = options.stallTimeoutMs ?? this.ackTimeoutMs;
    this.maxSnapshotResends = options.maxSnapshotResends ?? 3;
    this.unlisten = source.onChange((projection, item) => {
      this.publish(this.channelFor(projection), item);
      if (item.change.type !== 'activity') this.scheduleOverview(projection);
    });
    io.on('connection', (socket) => this.attach(socket));
  }

  /** Number of live subscriptions (for tests and health). */
  subscriptionCount(): number {
    let n = 0;
    for (const client of this.clients.values()) n += client.subs.size;
    return n;
  }

  /** Unsent bytes of every connected client (for tests and the load benchmark). */
  unsentBytes(): number[] {
    return [...this.clients.keys()].map(unsentBytes);
  }

  close(): void {
    this.unlisten();
    for (const timer of this.overviewTimers.values()) clearTimeout(timer);
    this.overviewTimers.clear();
    clearInterval(this.drainTimer);
    this.drainTimer = undefined;
    for (const client of this.clients.values()) {
      for (const sub of client.subs.values()) this.closeSub(sub);
    }
    this.clients.clear();
    this.behind.clear();
  }

  private attach(socket: Socket): void {
    const client: Client = { socket, subs: new Map(), overviews: new Map(), behindSince: 0 };
    this.clients.set(socket, client);
    socket.on('subscribe', (message: unknown, ack?: unknown) => {
      const reply = typeof ack === 'function' ? (ack as (a: SubscribeAck) => void) : () => {};
      this.subscribe(client, message).then(reply, (err: unknown) =>
        reply({ ok: false, error: err instanceof Error ? err.message : String(err) }),
      );
    });
    socket.on('unsubscribe', (message: unknown) => {
      const parsed = unsubscribeMessageSchema.safeParse(message);
      if (parsed.success) this.drop(client, parsed.data.runId);
    });
    socket.on('disconnect', () => {
      for (const runId of [...client.subs.keys()]) this.drop(client, runId);
      this.clients.delete(socket);
      this.behind.delete(client);
    });
  }

  private async subscribe(client: Client, message: unknown): Promise<SubscribeAck> {
    const parsed = subscribeMessageSchema.safeParse(message);
    if (!parsed.success) {
      return { ok: false, error: 'invalid subscribe message', issues: fieldIssues(parsed.error) };
    }
    const { runId, epoch, lastSeq } = parsed.data;
    const projection = await this.source.projection(runId);
    if (!projection) return { ok: false, error: `unknown run: ${runId}` };
    if (!this.clients.has(client.socket) || client.socket.disconnected) {
      return { ok: false, error: 'disconnected' };
    }
    this.drop(client, runId);

    const channel = this.channelFor(projection);
    const sub: Subscription = {
      client,
      channel,
      queue: [],
      sentSeq: 0,
      needsSnapshot: true,
      inFlight: false,
      timer: undefined,
      lastSentAt: 0,
      unackedSnapshots: 0,
      closed: false,
    };
    const seq = projection.seq;
    if (epoch === projection.epoch && lastSeq !== undefined && lastSeq <= seq) {
      const oldest = channel.recent[0]?.seq ?? seq + 1;
      if (lastSeq === seq || oldest <= lastSeq + 1) {
        sub.needsSnapshot = false;
        sub.sentSeq = lastSeq;
        sub.queue = channel.recent.filter((c) => c.seq > lastSeq);
      }
    }
    client.subs.set(runId, sub);
    channel.subscribers.add(sub);
    this.schedule(sub);
    return { ok: true, epoch: projection.epoch, seq };
  }

  private drop(client: Client, runId: string): void {
    const sub = client.subs.get(runId);
    if (!sub) return;
    this.closeSub(sub);
    sub.channel.subscribers.delete(sub);
    client.subs.delete(runId);
  }

  private closeSub(sub: Subscription): void {
    sub.closed = true;
    sub.queue = [];
    clearTimeout(sub.timer);
    sub.timer = undefined;
  }

  private channelFor(projection: RunProjection): Channel {
    const existing = this.channels.get(projection.id);
    if (existing && existing.projection === projection) return existing;
    const channel: Channel = { projection, recent: [], subscribers: new Set() };
    this.channels.set(projection.id, channel);
    return channel;
  }

  private publish(channel: Channel, item: SequencedChange): void {
    channel.recent.push(item);
    if (channel.recent.length > this.replay) {
      channel.recent.splice(0, channel.recent.length - this.replay);
    }
    for (const sub of channel.subscribers) {
      if (sub.needsSnapshot) continue; // the snapshot will include it
      if (item.change.type === 'activity') collapseActivity(sub.queue, item.change.activity.index);
      sub.queue.push(item);
      if (sub.queue.length > this.maxQueue) {
        sub.queue = [];
        sub.needsSnapshot = true;
      }
      this.schedule(sub);
    }
  }

  private schedule(sub: Subscription): void {
    if (sub.timer || sub.inFlight || sub.closed) return;
    const wait = Math.max(0, sub.lastSentAt + this.batchIntervalMs - Date.now());
    sub.timer = setTimeout(() => {
      sub.timer = undefined;
      this.flush(sub);
    }, wait);
  }

  /** True when the client can be sent something now; otherwise it waits for a drain (or is cut off). */
  private ready(client: Client): boolean {
    if (client.socket.disconnected) return false;
    const unsent = unsentBytes(client.socket);
    if (unsent === 0) {
      if (client.behindSince !== 0) this.caughtUp(client);
      return true;
    }
    const now = Date.now();
    if (unsent > this.maxBufferedBytes) {
      this.disconnect(client, `${unsent} bytes unsent (bound ${this.maxBufferedBytes})`);
    } else if (client.behindSince !== 0 && now - client.behindSince > this.stallTimeoutMs) {
      this.disconnect(client, `nothing read for ${now - client.behindSince} ms`);
    } else if (client.behindSince === 0) {
      client.behindSince = now;
      this.behind.add(client);
      void client.socket.join(BEHIND_ROOM);
      this.drainTimer ??= setInterval(() => this.checkBehind(), 50);
    }
    return false;
  }

  private caughtUp(client: Client): void {
    client.behindSince = 0;
    this.behind.delete(client);
    void client.socket.leave(BEHIND_ROOM);
    for (const overview of client.overviews.values()) client.socket.emit('run-overview', overview);
    client.overviews.clear();
    for (const sub of client.subs.values()) this.schedule(sub);
  }

  private checkBehind(): void {
    for (const client of [...this.behind]) this.ready(client);
    if (this.behind.size === 0) {
      clearInterval(this.drainTimer);
      this.drainTimer = undefined;
    }
  }

  private disconnect(client: Client, reason: string): void {
    this.dropped.push({ socketId: client.socket.id, reason, at: Date.now() });
    if (this.dropped.length > 100) this.dropped.splice(0, this.dropped.length - 100);
    this.behind.delete(client);
    client.overviews.clear();
    for (const runId of [...client.subs.keys()]) this.drop(client, runId);
    client.socket.disconnect(true);
    // A WebSocket close waits for the peer's answer (30 s) while holding what it could not send;
    // a client that does not read will not answer, so the connection is dropped at once.
    const conn = client.socket.conn as unknown as EngineConnection;
    conn.transport?.socket?.terminate?.();
  }

  private flush(sub: Subscription): void {
    if (sub.inFlight || sub.closed) return;
    const client = sub.client;
    if (!sub.needsSnapshot && sub.queue.length === 0) return;
    if (!this.ready(client)) return; // served again when the client drains
    const done = (err: unknown) => {
      sub.inFlight = false;
      if (sub.closed) return;
      if (err) {
        // Not acknowledged in time: the client may have missed it, so start it over.
        sub.queue = [];
        sub.needsSnapshot = true;
      } else {
        sub.unackedSnapshots = 0;
      }
      this.schedule(sub);
    };
    const projection = sub.channel.projection;
    sub.lastSentAt = Date.now();
    if (sub.needsSnapshot) {
      if (sub.unackedSnapshots >= this.maxSnapshotResends) {
        this.disconnect(client, `${sub.unackedSnapshots} snapshots unacknowledged`);
        return;
      }
      sub.needsSnapshot = false;
      sub.queue = [];
      const snapshot: RunSnapshot = projection.snapshot();
      sub.sentSeq = snapshot.seq;
      sub.inFlight = true;
      sub.unackedSnapshots += 1;
      client.socket.timeout(this.ackTimeoutMs).emit('snapshot', snapshot, done);
      return;
    }
    const changes = sub.queue;
    sub.queue = [];
    const fromSeq = sub.sentSeq;
    const toSeq = changes[changes.length - 1]!.seq;
    sub.sentSeq = toSeq;
    sub.inFlight = true;
    const text = this.encodedBatch(projection, fromSeq, toSeq, changes);
    client.socket.timeout(this.ackTimeoutMs).emit('events', text, done);
  }

  /**
   * A batch's JSON text, encoded once for every client sent the same stretch of the feed: clients
   * that keep up flush the same changes (with the same activity collapsed) between the same sequence
   * numbers, so the text is reused instead of encoded per client.
   */
  private encodedBatch(
    projection: RunProjection,
    fromSeq: number,
    toSeq: number,
    changes: readonly SequencedChange[],
  ): EncodedChangeBatch {
    const key = `${projection.id}\n${projection.epoch}\n${fromSeq}\n${toSeq}`;
    const cached = this.encoded.get(key);
    if (cached !== undefined) return cached;
    const batch: ChangeBatch = {
      runId: projection.id,
      epoch: projection.epoch,
      fromSeq,
      toSeq,
      changes,
    };
    const text = JSON.stringify(batch);
    this.encoded.set(key, text);
    if (this.encoded.size > ENCODED_BATCHES_KEPT) {
      this.encoded.delete(this.encoded.keys().next().value!);
    }
    return text;
  }

  private scheduleOverview(projection: RunProjection): void {
    const id = projection.id;
    if (this.overviewTimers.has(id)) return;
    const wait = Math.max(
      0,
      (this.overviewSentAt.get(id) ?? 0) + this.overviewIntervalMs - Date.now(),
    );
    const timer = setTimeout(() => {
      this.overviewTimers.delete(id);
      this.overviewSentAt.set(id, Date.now());
      this.broadcastOverview(projection.overview());
    }, wait);
    timer.unref();
    this.overviewTimers.set(id, timer);
  }

  /** Sends an overview to every client that keeps up (encoded once); the others get it on drain. */
  private broadcastOverview(overview: RunOverview): void {
    for (const client of [...this.clients.values()]) {
      if (client.behindSince === 0) this.ready(client); // a client with bytes unsent joins the room
      if (client.behindSince !== 0) client.overviews.set(overview.id, overview);
    }
    this.io.except(BEHIND_ROOM).emit('run-overview', overview);
  }
}

/** Removes a queued activity change for the same evaluation (only the latest is worth sending). */
function collapseActivity(queue: SequencedChange[], index: number): void {
  for (let i = queue.length - 1; i >= 0; i--) {
    const c = queue[i]!.change;
    if (c.type === 'activity' && c.activity.index === index) {
      queue.splice(i, 1);
      return;
    }
  }
}
