import { describe, expect, it } from 'vitest';
import {
  RUN_STATUSES,
  canTransition,
  isFinal,
  isResumable,
  nextStatus,
  refusal,
} from '../../src/core/run-status.js';

describe('the run status machine', () => {
  it('allows exactly the documented transitions', () => {
    const table = Object.fromEntries(
      RUN_STATUSES.map((s) => [
        s,
        (['start', 'resume', 'pause', 'stop', 'finish', 'fail'] as const)
          .filter((a) => canTransition(s, a))
          .map((a) => `${a}->${nextStatus(s, a)}`),
      ]),
    );
    expect(table).toEqual({
      created: ['start->running', 'stop->stopped'],
      running: ['pause->paused', 'stop->stopped', 'finish->completed', 'fail->failed'],
      paused: ['resume->running', 'stop->stopped'],
      stopped: ['resume->running'],
      interrupted: ['resume->running', 'stop->stopped'],
      completed: [],
      failed: [],
    });
  });

  it('says which runs can be resumed and which are final', () => {
    expect(RUN_STATUSES.filter(isResumable)).toEqual([
      'created',
      'paused',
      'stopped',
      'interrupted',
    ]);
    expect(RUN_STATUSES.filter(isFinal)).toEqual(['completed', 'failed']);
  });

  it('explains a refused action in one sentence', () => {
    expect(refusal('r1', 'completed', 'stop')).toBe(
      'run r1 is completed: only a created, running, paused, interrupted run can be stopped',
    );
    expect(refusal('r1', 'failed', 'resume')).toBe(
      'run r1 is failed: only a created, paused, stopped, interrupted run can be resumed',
    );
  });
});
