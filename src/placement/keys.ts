import { z } from 'zod';
import type { WorkerTask } from '../core/workers.js';

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
  /** The same jobs: run, evaluation index, genotype hash, since when, latest progress. */
  readonly tasks?: readonly WorkerTask[];
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

const text = (max: number) => z.string().max(max);
const progressSchema = z.object({
  phase: z.enum(['data', 'train', 'attack']),
  done: z.number().finite().min(0),
  total: z.number().finite().min(0),
});
const taskSchema = z.object({
  runId: text(200).optional(),
  index: z.number().int().min(0).optional(),
  hash: text(128),
  startedAt: text(40),
  progress: progressSchema.optional(),
});

/**
 * A heartbeat as read back from Redis, which any client of that Redis may have written: checked,
 * with every string and list bounded. Unknown fields are dropped.
 */
export const workerInfoSchema = z.object({
  id: text(64),
  name: text(200),
  host: text(255),
  pid: z.number().int().min(0),
  concurrency: z.number().int().min(1).max(1024),
  jobs: z.array(text(260)).max(1024),
  tasks: z.array(taskSchema).max(1024).optional(),
  finished: z.number().int().min(0),
  backend: text(40).optional(),
  version: text(40),
  startedAt: text(40),
  lastSeen: text(40),
});

/** The heartbeat in `json`, or undefined when it is not one (unreadable, or not of this form). */
export function parseWorkerInfo(json: string): QueueWorkerInfo | undefined {
  try {
    const parsed = workerInfoSchema.safeParse(JSON.parse(json));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}
