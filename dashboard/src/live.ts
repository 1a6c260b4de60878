/**
 * The dashboard's socket.io connection: subscribes to the shown run, keeps its {@link RunModel}
 * up to date from the snapshot and event batches, and on a reconnect asks only for what it missed.
 */
import { io, type Socket } from 'socket.io-client';
import type { EventBatch, SubscribeAck } from '../../src/server/live-hub.js';
import type { RunOverview, RunSnapshot } from '../../src/server/run-state.js';
import { getToken } from './api.js';
import { applyBatch, modelFromSnapshot, type RunModel } from './run-model.js';

/** 'unauthorized': the server wants its access token (ask for it, then call reconnect()). */
export type ConnectionStatus =
  'connecting' | 'connected' | 'reconnecting' | 'offline' | 'unauthorized';

export interface LiveHandlers {
  onModel(model: RunModel): void;
  onOverview(run: RunOverview): void;
  onStatus(status: ConnectionStatus): void;
}

export class LiveConnection {
  private readonly socket: Socket;
  private runId: string | undefined;
  private model: RunModel | undefined;

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
        this.model = modelFromSnapshot(snapshot);
        handlers.onModel(this.model);
      }
      ack?.();
    });
    this.socket.on('events', (batch: EventBatch, ack?: () => void) => {
      ack?.();
      if (!this.model || batch.runId !== this.runId) return;
      const next = applyBatch(this.model, batch);
      if (next === 'resync') {
        this.sendSubscribe(false);
        return;
      }
      if (next !== this.model) {
        this.model = next;
        handlers.onModel(next);
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
    this.model = undefined;
    if (runId) this.sendSubscribe(false);
  }

  current(): RunModel | undefined {
    return this.model;
  }

  private sendSubscribe(resume: boolean): void {
    const m = this.model;
    const message =
      resume && m && m.runId === this.runId
        ? { runId: this.runId, epoch: m.epoch, lastSeq: m.seq }
        : { runId: this.runId };
    this.socket.emit('subscribe', message, (ack: SubscribeAck) => {
      if (!ack.ok) console.warn(`subscribe failed: ${ack.error}`);
    });
  }
}
