/**
 * The one run status machine. Every part (runner, storage, server, dashboard, CLI) asks it what a
 * status allows instead of listing statuses itself.
 *
 *   created ──start──> running ──finish──> completed
 *      │                 │ ├──pause──> paused ──resume──> running
 *      │                 │ ├──stop───> stopped ──resume──> running
 *      │                 │ ├──fail───> failed
 *      │                 │ └──(process died)──> interrupted ──resume──> running
 *      └──stop──> stopped          paused/interrupted ──stop──> stopped
 *
 * 'interrupted' is never written by a run: storage reports a 'running' run whose process is gone
 * (its lock is not held) as interrupted. A stopped run can still be resumed; completed and failed
 * runs are final.
 */
export const RUN_STATUSES = [
  'created',
  'running',
  'paused',
  'stopped', // stopped by the user; resumable
  'interrupted', // the process died or was signalled mid-run; resumable
  'completed',
  'failed',
] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

export type RunAction = 'start' | 'resume' | 'pause' | 'stop' | 'finish' | 'fail';

const TRANSITIONS: Readonly<Record<RunStatus, Partial<Record<RunAction, RunStatus>>>> = {
  created: { start: 'running', stop: 'stopped' },
  running: { pause: 'paused', stop: 'stopped', finish: 'completed', fail: 'failed' },
  paused: { resume: 'running', stop: 'stopped' },
  stopped: { resume: 'running' },
  interrupted: { resume: 'running', stop: 'stopped' },
  completed: {},
  failed: {},
};

/** The status after `action`, or undefined when `status` does not allow it. */
export function nextStatus(status: RunStatus, action: RunAction): RunStatus | undefined {
  return TRANSITIONS[status][action];
}

export function canTransition(status: RunStatus, action: RunAction): boolean {
  return nextStatus(status, action) !== undefined;
}

/** A run that is not executing and can be continued (paused, stopped, interrupted, or never started). */
export function isResumable(status: RunStatus): boolean {
  return canTransition(status, 'resume') || status === 'created';
}

/** A run that nobody may continue. */
export function isFinal(status: RunStatus): boolean {
  return Object.keys(TRANSITIONS[status]).length === 0;
}

/** Why `action` is refused in `status`, as one sentence for a 409 or an exit-2 message. */
export function refusal(runId: string, status: RunStatus, action: RunAction): string {
  const allowed = RUN_STATUSES.filter(
    (s) => canTransition(s, action) || (action === 'resume' && s === 'created'),
  );
  const what = status === 'running' ? 'running' : status;
  return `run ${runId} is ${what}: only a ${allowed.join(', ')} run can be ${PAST[action]}`;
}

const PAST: Record<RunAction, string> = {
  start: 'started',
  resume: 'resumed',
  pause: 'paused',
  stop: 'stopped',
  finish: 'finished',
  fail: 'failed',
};
