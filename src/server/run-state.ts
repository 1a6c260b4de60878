/**
 * The server's projection of one run: the core {@link RunView} built from what storage holds
 * (`viewOf`) and advanced only by core's `applyChange`, with a sequence number per applied change
 * and an epoch (sequence numbers are comparable only within one projection). The changes come from
 * storage (the run file rewritten, evaluations appended, whichever process wrote them) and, for a
 * run executing in this process, from the runner's activity reports; the projection itself holds
 * no rule about runs. Records keep what storage holds (the evaluation seed included), as the API
 * has always served them.
 */
import { randomUUID } from 'node:crypto';
import type { RunSnapshot, SequencedChange } from '../core/live-feed.js';
import type { RunStatus } from '../core/run-status.js';
import {
  applyChange,
  isNoop,
  runHeader,
  runOverview,
  viewOf,
  type RunChange,
  type RunHeader,
  type RunOverview,
  type RunView,
} from '../core/run-view.js';
import type { StoredChange, StoredRun } from '../store/run-storage.js';

export type ChangeListener = (item: SequencedChange) => void;

/** The changes to a view that one storage change stands for. */
export function changesOf(change: StoredChange): RunChange[] {
  return change.type === 'run'
    ? [{ type: 'run', run: runHeader(change.file, change.status) }]
    : change.evaluations.map((e) => ({ type: 'evaluation', evaluation: e }));
}

/**
 * The changes that bring a view up to a stored run (read with readAfter): the evaluations of the
 * generations the run file summarises, the run file, then the evaluations of the generation in
 * progress, so that a view never holds a generation summary before its evaluations.
 */
export function storedRunChanges(stored: StoredRun): RunChange[] {
  const header = runHeader(stored.file, stored.status);
  const done = stored.evaluations.filter((e) => e.generation < header.generation);
  const rest = stored.evaluations.filter((e) => e.generation >= header.generation);
  return [
    ...done.map((e): RunChange => ({ type: 'evaluation', evaluation: e })),
    { type: 'run', run: header },
    ...rest.map((e): RunChange => ({ type: 'evaluation', evaluation: e })),
  ];
}

function sameHeader(a: RunHeader, b: RunHeader): boolean {
  return a === b || JSON.stringify(a) === JSON.stringify(b);
}

export class RunProjection {
  /** Sequence numbers restart with every projection (e.g. a server restart); the epoch tells them apart. */
  readonly epoch = randomUUID();
  private seqNo = 0;
  private current: RunView;
  private liveValue = false;
  private readonly listeners = new Set<ChangeListener>();

  constructor(stored: StoredRun) {
    this.current = viewOf(runHeader(stored.file, stored.status), stored.evaluations);
  }

  get id(): string {
    return this.current.run.id;
  }

  get seq(): number {
    return this.seqNo;
  }

  get view(): RunView {
    return this.current;
  }

  get status(): RunStatus {
    return this.current.run.status;
  }

  /** True while this server's process executes the run. */
  get live(): boolean {
    return this.liveValue;
  }

  /** Evaluations held (the next index storage will append). */
  get evaluationCount(): number {
    return this.current.evaluations.length;
  }

  overview(): RunOverview {
    return runOverview(this.current, this.liveValue);
  }

  snapshot(): RunSnapshot {
    return {
      runId: this.id,
      epoch: this.epoch,
      seq: this.seqNo,
      view: this.current,
      live: this.liveValue,
    };
  }

  /** Listens to every change applied from now on, with its sequence number. */
  onChange(listener: ChangeListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Applies one change; a change that would alter nothing (a record already held, the run file
   * re-read unchanged) is dropped, so storage may report a fact twice.
   */
  apply(change: RunChange, at = Date.now()): void {
    if (change.type === 'evaluation') {
      // Storage appends records densely (index = position), so a held one is found at its index.
      const i = change.evaluation.index;
      if (this.current.evaluations[i]?.index === i || isNoop(this.current, change)) return;
    }
    if (change.type === 'run' && sameHeader(change.run, this.current.run)) return;
    this.advance(change, at);
  }

  /**
   * Marks whether this process executes the run. The flag travels with the changes; when it flips
   * the stored header is re-stated as a change so that clients learn it in sequence.
   */
  setLive(live: boolean): void {
    if (live === this.liveValue) return;
    this.liveValue = live;
    this.advance({ type: 'run', run: this.current.run }, Date.now());
  }

  private advance(change: RunChange, at: number): void {
    this.current = applyChange(this.current, change, at);
    this.seqNo += 1;
    const item: SequencedChange = { seq: this.seqNo, at, change, live: this.liveValue };
    for (const listener of this.listeners) listener(item);
  }
}
