/**
 * `robust-nas worker --redis URL`: a long-running process that takes evaluation jobs from the
 * queue on Redis (sent by `search --queue`, `resume --queue` or `serve --queue` on any machine),
 * evaluates them in worker threads and returns the results. SIGTERM or SIGINT hands the jobs in
 * flight back to the queue and exits 0; a second signal exits at once.
 */
import { hostname } from 'node:os';
import { Option, type Command } from 'commander';
import { z } from 'zod';
import { redisUrlSchema, type RedisTarget } from '../core/redis-url.js';
import { DEFAULT_QUEUE_NAME } from '../placement/job.js';
import { startQueueWorker, type QueueWorker } from '../placement/queue-worker.js';
import { schemaOption, secretArgParser } from './zod-options.js';

/** One zod schema per option: a default is written once, here; bad values exit 2 with zod's message. */
export const workerOptionSchemas = {
  redis: redisUrlSchema,
  concurrency: z.number().int().min(1).max(64).default(1),
  queueName: z
    .string()
    .min(1)
    .max(100)
    .regex(/^[^:\s]+$/, 'must not contain ":" or spaces')
    .default(DEFAULT_QUEUE_NAME),
  name: z.string().min(1).max(200).optional(),
  lockDuration: z.number().min(1).max(3600).default(60),
  backend: z.enum(['auto', 'tensorflow-gpu', 'tensorflow', 'wasm', 'cpu']).optional(),
} as const;

/** The mandatory `--redis <url>` option of the queue commands (the password masked in errors). */
export function redisOption(): Option {
  return new Option(
    '--redis <url>',
    "the queue's Redis: redis://[[user]:password@]host[:port][/db], or rediss:// for TLS",
  )
    .argParser(secretArgParser('--redis', workerOptionSchemas.redis))
    .makeOptionMandatory();
}

interface WorkerFlags {
  redis: RedisTarget;
  concurrency: number;
  queueName: string;
  name?: string;
  lockDuration: number;
  backend?: string;
}

export function registerWorkerCommand(program: Command): void {
  const s = workerOptionSchemas;
  const command = program
    .command('worker')
    .description(
      'Take evaluation jobs from the queue on Redis and evaluate them (run on any machine that reaches Redis); SIGTERM hands jobs in flight back and exits.',
    )
    .addOption(redisOption());
  for (const option of [
    schemaOption('concurrency', s.concurrency, {
      arg: 'n',
      description: 'evaluations at once, one worker thread each',
    }),
    schemaOption('backend', s.backend, {
      arg: 'name',
      description: 'TensorFlow.js backend of the evaluations (default: the fastest)',
    }),
    schemaOption('queueName', s.queueName, {
      arg: 'name',
      description: 'the queue to take jobs from',
    }),
    schemaOption('name', s.name, {
      arg: 'name',
      description: "this worker's name in logs and heartbeats (default: host:pid)",
    }),
    schemaOption('lockDuration', s.lockDuration, {
      arg: 's',
      description:
        "seconds a job stays locked without renewal (renewed every half); a dead worker's job returns to the queue after that",
    }),
  ]) {
    command.addOption(option);
  }
  command.action(async (flags: WorkerFlags) => {
    if (flags.backend && flags.backend !== 'auto') process.env.ROBUST_NAS_BACKEND = flags.backend;
    const say = (line: string) => process.stdout.write(`${line}\n`);
    const complain = (line: string) => process.stderr.write(`robust-nas worker: ${line}\n`);
    for (const stream of [process.stdout, process.stderr]) stream.on('error', () => {});
    const name = flags.name ?? `${hostname()}:${process.pid}`;
    const started: { worker?: QueueWorker } = {};
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) {
        complain(`${signal} again: exiting now`);
        process.exit(1);
      }
      stopping = true;
      const worker = started.worker;
      if (!worker) {
        say(`robust-nas worker ${name}: ${signal} before it connected: stopping`);
        process.exit(0);
      }
      const n = worker.current().length;
      say(
        `robust-nas worker ${name}: ${signal}: ${n > 0 ? `handing ${n} job${n === 1 ? '' : 's'} back to the queue and ` : ''}stopping`,
      );
      worker.close('hand-back').then(
        () => process.exit(0),
        (err: unknown) => {
          complain(`could not stop cleanly: ${err instanceof Error ? err.message : String(err)}`);
          process.exit(1);
        },
      );
    };
    process.on('SIGTERM', () => stop('SIGTERM'));
    process.on('SIGINT', () => stop('SIGINT'));
    started.worker = await startQueueWorker({
      url: flags.redis,
      queueName: flags.queueName,
      concurrency: flags.concurrency,
      lockDurationMs: flags.lockDuration * 1000,
      name,
      report: complain,
      log: (line) => say(`robust-nas worker ${name}: ${line}`),
    });
    say(
      `robust-nas worker ${name}: taking jobs from queue ${flags.queueName} on ${flags.redis.masked} (${flags.concurrency} at once)`,
    );
  });
}
