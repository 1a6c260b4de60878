/**
 * The live feed's messages (socket.io): a snapshot of a run's view at a sequence number, then
 * batches of the changes after it. Sequence numbers count the changes the server applied to its
 * view of the run; they are comparable only within one epoch (one server process's view).
 */
import { applyChange, type RunChange, type RunView } from './run-view.js';

export interface RunSnapshot {
  readonly runId: string;
  readonly epoch: string;
  readonly seq: number;
  readonly view: RunView;
  /** True while the server's own process executes the run. */
  readonly live: boolean;
}

export interface SequencedChange {
  readonly seq: number;
  /** Server wall-clock ms when the change was applied. */
  readonly at: number;
  readonly change: RunChange;
  /** Whether the server's process executes the run after this change. */
  readonly live: boolean;
}

export interface ChangeBatch {
  readonly runId: string;
  readonly epoch: string;
  /** The batch continues the state at sequence `fromSeq` and leaves it at `toSeq`. */
  readonly fromSeq: number;
  readonly toSeq: number;
  readonly changes: readonly SequencedChange[];
}

/**
 * The `events` message as sent: the batch's JSON text. The server encodes a batch once and sends the
 * same text to every client at the same place in the feed, instead of encoding it per client.
 */
export type EncodedChangeBatch = string;

/** A received `events` message as a batch (text, or an object from an older server). */
export function decodeBatch(message: EncodedChangeBatch | ChangeBatch): ChangeBatch {
  return typeof message === 'string' ? (JSON.parse(message) as ChangeBatch) : message;
}

/**
 * Applies a batch to a client's copy, or returns 'resync' when the batch does not continue it
 * (another epoch, a gap): the client then asks for a fresh snapshot. A batch already applied is a
 * no-op.
 */
export function applyBatch(state: RunSnapshot, batch: ChangeBatch): RunSnapshot | 'resync' {
  if (batch.runId !== state.runId || batch.epoch !== state.epoch) return 'resync';
  if (batch.toSeq <= state.seq) return state;
  if (batch.fromSeq !== state.seq) return 'resync';
  let view = state.view;
  let live = state.live;
  for (const item of batch.changes) {
    view = applyChange(view, item.change, item.at);
    live = item.live;
  }
  return { ...state, view, live, seq: batch.toSeq };
}
