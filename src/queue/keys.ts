/**
 * The names the queue's coordinators and workers agree on besides BullMQ's own keys: where a
 * cancellation is recorded and announced, and where each worker's heartbeat lives.
 */

/** BullMQ's default key prefix. */
export const DEFAULT_PREFIX = 'bull';

export interface QueueNames {
  readonly prefix: string;
  readonly queueName: string;
}

function base({ prefix, queueName }: QueueNames): string {
  return `${prefix}:${queueName}:robust-nas`;
}

/** Set (with a TTL) when a coordinator cancels a job, so a worker that takes it later refuses it. */
export function cancelKey(names: QueueNames, jobId: string): string {
  return `${base(names)}:cancel:${jobId}`;
}

/** The pub/sub channel on which coordinators announce cancelled jobs (the message: the job id). */
export function cancelChannel(names: QueueNames): string {
  return `${base(names)}:cancel`;
}

/** A worker's heartbeat (JSON, expiring unless renewed). */
export function workerKey(names: QueueNames, workerId: string): string {
  return `${base(names)}:worker:${workerId}`;
}

/** The SCAN pattern of every worker's heartbeat. */
export function workerPattern(names: QueueNames): string {
  return `${base(names)}:worker:*`;
}

/** What a worker says about itself in its heartbeat. */
export interface QueueWorkerInfo {
  readonly id: string;
  readonly name: string;
  readonly host: string;
  readonly pid: number;
  readonly concurrency: number;
  /** Jobs it is evaluating now. */
  readonly jobs: readonly string[];
  /** Jobs it finished (scores or the candidate's failure) since it started. */
  readonly finished: number;
  /** The backend its evaluations reported (once one finished). */
  readonly backend?: string;
  readonly version: string;
  readonly startedAt: string;
  readonly lastSeen: string;
}

/** Seconds a heartbeat outlives its last renewal. */
export const HEARTBEAT_TTL_SECONDS = 15;
/** How often a worker renews its heartbeat. */
export const HEARTBEAT_EVERY_MS = 5000;
