/**
 * Live runs over socket.io.
 *
 * Protocol (all messages JSON):
 * - client `subscribe` {runId, epoch?, lastSeq?} (ack: {ok, epoch, seq} or {error}). The server
 *   answers with a `snapshot` (RunSnapshot: status, every evaluation so far, the current front, the
 *   hypervolume history, generation progress) and then `events` batches {runId, epoch, fromSeq,
 *   toSeq, events}. A client that reconnects and sends the epoch and last sequence number it applied
 *   gets only the events it missed when the server still has them, otherwise a fresh snapshot; either
 *   way it ends in the same state as a client connected throughout.
 * - client `unsubscribe` {runId}.
 * - server `run-overview` (RunOverview) to every client whenever a run's status or counts change,
 *   for the runs list (throttled per run).
 *
 * Flow control: the search's listener only appends to each subscriber's queue and never waits.
 * Each subscriber has at most one batch in flight (acknowledged by the client); whatever arrives
 * meanwhile is sent as the next batch, with evaluation-progress events for the same evaluation
 * collapsed to the latest. A subscriber whose queue grows past a bound, or that does not
 * acknowledge in time, is sent a fresh snapshot instead, so a slow client costs the search nothing.
 */
import type { Server, Socket } from 'socket.io';
import type { SearchEvent } from '../core/events.js';
import type { RunOverview, RunSnapshot, RunState } from './run-state.js';
import { fieldIssues, subscribeMessageSchema, unsubscribeMessageSchema } from './validation.js';

/** Where the hub finds runs, and hears about changes to any of them. */
export interface RunStateSource {
  /** The run's state, loading it from disk if needed; undefined for an unknown run. */
  state(runId: string): Promise<RunState | undefined>;
  /** Called for every event applied to any run state the source holds. */
  onChange(listener: (state: RunState, event: SearchEvent) => void): () => void;
}

export interface SequencedEvent {
  readonly seq: number;
  /** Server wall-clock ms when the event was applied. */
  readonly at: number;
  readonly event: SearchEvent;
}

export interface EventBatch {
  readonly runId: string;
  readonly epoch: string;
  /** The batch continues the state at sequence `fromSeq` and leaves it at `toSeq`. */
  readonly fromSeq: number;
  readonly toSeq: number;
  readonly events: readonly SequencedEvent[];
}

export type SubscribeAck =
  | { ok: true; epoch: string; seq: number }
  | { ok: false; error: string; issues?: { path: string; message: string }[] };

export interface LiveHubOptions {
  /** Queued events per subscriber beyond which it gets a snapshot instead (default 2000). */
  maxQueue?: number;
  /** How long a client has to acknowledge a batch before it is considered lost (default 15 s). */
  ackTimeoutMs?: number;
  /** Recent events kept per run for reconnecting clients (default 1000). */
  replay?: number;
  /** Minimum ms between two `run-overview` messages for one run (default 250). */
  overviewIntervalMs?: number;
}

interface Channel {
  readonly state: RunState;
  readonly recent: SequencedEvent[];
  readonly subscribers: Set<Subscription>;
}

interface Subscription {
  readonly socket: Socket;
  readonly channel: Channel;
  queue: SequencedEvent[];
  /** Sequence number up to which this client has been sent the state. */
  sentSeq: number;
  needsSnapshot: boolean;
  inFlight: boolean;
  scheduled: boolean;
  closed: boolean;
}

export class LiveHub {
  private readonly channels = new Map<string, Channel>();
  private readonly bySocket = new Map<Socket, Map<string, Subscription>>();
  private readonly overviewTimers = new Map<string, NodeJS.Timeout>();
  private readonly overviewSentAt = new Map<string, number>();
  private readonly unlisten: () => void;
  private readonly maxQueue: number;
  private readonly ackTimeoutMs: number;
  private readonly replay: number;
  private readonly overviewIntervalMs: number;

  constructor(
    private readonly io: Server,
    private readonly source: RunStateSource,
    options: LiveHubOptions = {},
  ) {
    this.maxQueue = options.maxQueue ?? 2000;
    this.ackTimeoutMs = options.ackTimeoutMs ?? 15_000;
    this.replay = options.replay ?? 1000;
    this.overviewIntervalMs = options.overviewIntervalMs ?? 250;
    this.unlisten = source.onChange((state, event) => {
      this.channelFor(state); // keep a replay buffer for every run that changes
      if (event.type !== 'evaluation-progress') this.scheduleOverview(state);
    });
    io.on('connection', (socket) => this.attach(socket));
  }

  /** Number of live subscriptions (for tests and health). */
  subscriptionCount(): number {
    let n = 0;
    for (const subs of this.bySocket.values()) n += subs.size;
    return n;
  }

  close(): void {
    this.unlisten();
    for (const timer of this.overviewTimers.values()) clearTimeout(timer);
    this.overviewTimers.clear();
    for (const subs of this.bySocket.values()) for (const sub of subs.values()) sub.closed = true;
    this.bySocket.clear();
  }

  private attach(socket: Socket): void {
    this.bySocket.set(socket, new Map());
    socket.on('subscribe', (message: unknown, ack?: unknown) => {
      const reply = typeof ack === 'function' ? (ack as (a: SubscribeAck) => void) : () => {};
      this.subscribe(socket, message).then(reply, (err: unknown) =>
        reply({ ok: false, error: err instanceof Error ? err.message : String(err) }),
      );
    });
    socket.on('unsubscribe', (message: unknown) => {
      const parsed = unsubscribeMessageSchema.safeParse(message);
      if (parsed.success) this.drop(socket, parsed.data.runId);
    });
    socket.on('disconnect', () => {
      const subs = this.bySocket.get(socket);
      if (subs) for (const runId of [...subs.keys()]) this.drop(socket, runId);
      this.bySocket.delete(socket);
    });
  }

  private async subscribe(socket: Socket, message: unknown): Promise<SubscribeAck> {
    const parsed = subscribeMessageSchema.safeParse(message);
    if (!parsed.success) {
      return { ok: false, error: 'invalid subscribe message', issues: fieldIssues(parsed.error) };
    }
    const { runId, epoch, lastSeq } = parsed.data;
    const state = await this.source.state(runId);
    if (!state) return { ok: false, error: `unknown run: ${runId}` };
    const subs = this.bySocket.get(socket);
    if (!subs || socket.disconnected) return { ok: false, error: 'disconnected' };
    this.drop(socket, runId);

    const channel = this.channelFor(state);
    const sub: Subscription = {
      socket,
      channel,
      queue: [],
      sentSeq: 0,
      needsSnapshot: true,
      inFlight: false,
      scheduled: false,
      closed: false,
    };
    if (epoch === state.epoch && lastSeq !== undefined && lastSeq <= state.seq) {
      const oldest = channel.recent[0]?.seq ?? state.seq + 1;
      if (lastSeq === state.seq || oldest <= lastSeq + 1) {
        sub.needsSnapshot = false;
        sub.sentSeq = lastSeq;
        sub.queue = channel.recent.filter((e) => e.seq > lastSeq);
      }
    }
    subs.set(runId, sub);
    channel.subscribers.add(sub);
    this.schedule(sub);
    return { ok: true, epoch: state.epoch, seq: state.seq };
  }

  private drop(socket: Socket, runId: string): void {
    const subs = this.bySocket.get(socket);
    const sub = subs?.get(runId);
    if (!sub) return;
    sub.closed = true;
    sub.queue = [];
    sub.channel.subscribers.delete(sub);
    subs?.delete(runId);
  }

  private channelFor(state: RunState): Channel {
    const existing = this.channels.get(state.id);
    if (existing && existing.state === state) return existing;
    const channel: Channel = { state, recent: [], subscribers: new Set() };
    this.channels.set(state.id, channel);
    state.onEvent((seq, event) => this.publish(channel, { seq, at: Date.now(), event }));
    return channel;
  }

  private publish(channel: Channel, item: SequencedEvent): void {
    if (this.channels.get(channel.state.id) !== channel) return;
    channel.recent.push(item);
    if (channel.recent.length > this.replay) {
      channel.recent.splice(0, channel.recent.length - this.replay);
    }
    for (const sub of channel.subscribers) {
      if (sub.needsSnapshot) continue; // the snapshot will include it
      if (item.event.type === 'evaluation-progress') {
        const index = item.event.index;
        const at = sub.queue.findIndex(
          (q) => q.event.type === 'evaluation-progress' && q.event.index === index,
        );
        if (at >= 0) sub.queue.splice(at, 1);
      }
      sub.queue.push(item);
      if (sub.queue.length > this.maxQueue) {
        sub.queue = [];
        sub.needsSnapshot = true;
      }
      this.schedule(sub);
    }
  }

  private schedule(sub: Subscription): void {
    if (sub.scheduled || sub.inFlight || sub.closed) return;
    sub.scheduled = true;
    setImmediate(() => {
      sub.scheduled = false;
      this.flush(sub);
    });
  }

  private flush(sub: Subscription): void {
    if (sub.inFlight || sub.closed || sub.socket.disconnected) return;
    const done = (err: unknown) => {
      sub.inFlight = false;
      if (err) {
        // Not acknowledged in time: the client may have missed it, so start it over.
        sub.queue = [];
        sub.needsSnapshot = true;
      }
      this.schedule(sub);
    };
    if (sub.needsSnapshot) {
      sub.needsSnapshot = false;
      sub.queue = [];
      const snapshot: RunSnapshot = sub.channel.state.snapshot();
      sub.sentSeq = snapshot.seq;
      sub.inFlight = true;
      sub.socket.timeout(this.ackTimeoutMs).emit('snapshot', snapshot, done);
      return;
    }
    if (sub.queue.length === 0) return;
    const events = sub.queue;
    sub.queue = [];
    const batch: EventBatch = {
      runId: sub.channel.state.id,
      epoch: sub.channel.state.epoch,
      fromSeq: sub.sentSeq,
      toSeq: (events[events.length - 1] as SequencedEvent).seq,
      events,
    };
    sub.sentSeq = batch.toSeq;
    sub.inFlight = true;
    sub.socket.timeout(this.ackTimeoutMs).emit('events', batch, done);
  }

  private scheduleOverview(state: RunState): void {
    const id = state.id;
    if (this.overviewTimers.has(id)) return;
    const wait = Math.max(
      0,
      (this.overviewSentAt.get(id) ?? 0) + this.overviewIntervalMs - Date.now(),
    );
    const timer = setTimeout(() => {
      this.overviewTimers.delete(id);
      this.overviewSentAt.set(id, Date.now());
      const overview: RunOverview = state.overview();
      this.io.emit('run-overview', overview);
    }, wait);
    timer.unref();
    this.overviewTimers.set(id, timer);
  }
}
