/**
 * The dashboard's socket.io connection: subscribes to the shown run, keeps its copy of the run
 * (core's RunSnapshot) up to date by applying the server's change batches with core's
 * `applyBatch`, and on a reconnect asks only for what it missed.
 */
import { io, type Socket } from 'socket.io-client';
import {
  applyBatch,
  decodeBatch,
  type EncodedChangeBatch,
  type ChangeBatch,
  type RunSnapshot,
} from '../../src/core/live-feed.js';
import type { RunOverview } from '../../src/core/run-view.js';
import { getToken } from './api.js';

/** 'unauthorized': the server wants its access token (ask for it, then call reconnect()). */
export type ConnectionStatus =
  'connecting' | 'connected' | 'reconnecting' | 'offline' | 'unauthorized';

/** The server's answer to `subscribe`. */
type SubscribeAck = { ok: true; epoch: string; seq: number } | { ok: false; error: string };

export interface LiveHandlers {
  onState(state: RunSnapshot): void;
  onOverview(run: RunOverview): void;
  onStatus(status: ConnectionStatus): void;
}

export class LiveConnection {
  private readonly socket: Socket;
  private runId: string | undefined;
  private state: RunSnapshot | undefined;

  constructor(private readonly handlers: LiveHandlers) {
    this.socket = io({
      transports: ['websocket', 'polling'],
      reconnectionDelay: 250,
      reconnectionDelayMax: 3000,
      // Read at every (re)connection, so a token entered later is used.
      auth: (cb) => {
        const token = getToken();
        cb(token ? { token } : {});
      },
    });
    handlers.onStatus('connecting');
    this.socket.on('connect_error', (err) => {
      // Refused by the server's token check: socket.io does not retry by itself.
      if (!this.socket.active && /unauthorized/.test(err.message))
        handlers.onStatus('unauthorized');
    });
    this.socket.on('connect', () => {
      handlers.onStatus('connected');
      if (this.runId) this.sendSubscribe(true);
    });
    this.socket.on('disconnect', () => handlers.onStatus('reconnecting'));
    this.socket.io.on('reconnect_attempt', () => handlers.onStatus('reconnecting'));
    this.socket.io.on('reconnect_failed', () => handlers.onStatus('offline'));
    this.socket.on('snapshot', (snapshot: RunSnapshot, ack?: () => void) => {
      if (snapshot.runId === this.runId) {
        this.state = snapshot;
        handlers.onState(snapshot);
      }
      ack?.();
    });
    this.socket.on('events', (message: EncodedChangeBatch | ChangeBatch, ack?: () => void) => {
      const batch = decodeBatch(message);
      ack?.();
      if (!this.state || batch.runId !== this.runId) return;
      const next = applyBatch(this.state, batch);
      if (next === 'resync') {
        this.sendSubscribe(false);
        return;
      }
      if (next !== this.state) {
        this.state = next;
        handlers.onState(next);
      }
    });
    this.socket.on('run-overview', (run: RunOverview) => handlers.onOverview(run));
  }

  /** Connects again (after the user gave the access token). */
  reconnect(): void {
    this.socket.disconnect().connect();
  }

  /** Shows another run (or none). */
  watch(runId: string | undefined): void {
    if (runId === this.runId) return;
    if (this.runId) this.socket.emit('unsubscribe', { runId: this.runId });
    this.runId = runId;
    this.state = undefined;
    if (runId) this.sendSubscribe(false);
  }

  current(): RunSnapshot | undefined {
    return this.state;
  }

  private sendSubscribe(resume: boolean): void {
    const s = this.state;
    const message =
      resume && s && s.runId === this.runId
        ? { runId: this.runId, epoch: s.epoch, lastSeq: s.seq }
        : { runId: this.runId };
    this.socket.emit('subscribe', message, (ack: SubscribeAck) => {
      if (!ack.ok) console.warn(`subscribe failed: ${ack.error}`);
    });
  }
}
