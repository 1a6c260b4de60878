/**
 * The queue as seen from outside a run (`robust-nas workers`): the workers whose heartbeat is
 * current and the queue's waiting and active jobs, read from Redis with short-lived connections.
 */
import { Queue } from 'bullmq';
import type { RedisTarget } from '../core/redis-url.js';
import type { WorkersReport } from '../core/workers.js';
import { closeClient, redisClient, redisTarget, RedisHealth, type Report } from './connection.js';
import { DEFAULT_QUEUE_NAME } from './job.js';
import { DEFAULT_PREFIX, type QueueNames } from './keys.js';
import { listWorkers, queueReport } from './queue-evaluator.js';

export interface QueueStatusOptions {
  readonly url: string | RedisTarget;
  readonly queueName?: string;
  readonly prefix?: string;
  /** How long to wait for Redis before giving up (default 10 s). */
  readonly connectTimeoutMs?: number;
  readonly report?: Report;
}

export async function readQueueStatus(options: QueueStatusOptions): Promise<WorkersReport> {
  const target = redisTarget(options.url);
  const names: QueueNames = {
    prefix: options.prefix ?? DEFAULT_PREFIX,
    queueName: options.queueName ?? DEFAULT_QUEUE_NAME,
  };
  const health = new RedisHealth(target, options.report ?? (() => {}));
  const control = redisClient(health, { name: 'robust-nas-status' });
  const connection = redisClient(health, { name: 'robust-nas-status-queue' });
  let queue: Queue | undefined;
  try {
    await health.waitReady(control, options.connectTimeoutMs ?? 10_000);
    queue = new Queue(names.queueName, { connection, prefix: names.prefix });
    queue.on('error', (err) => health.failed(err));
    const [workers, counts] = await Promise.all([
      listWorkers(control, names),
      queue.getJobCounts('waiting', 'prioritized', 'delayed', 'active'),
    ]);
    return queueReport(`queue ${names.queueName} on ${target.masked}`, workers, counts);
  } finally {
    await queue?.close().catch(() => {});
    await Promise.allSettled([closeClient(control), closeClient(connection)]);
  }
}
