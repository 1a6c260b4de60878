/**
 * `robust-nas worker --redis URL`: a long-running process that takes evaluation jobs from the
 * queue on Redis (sent by `search --queue`, `resume --queue` or `serve --queue` on any machine),
 * evaluates them in worker threads and returns the results. SIGTERM or SIGINT hands the jobs in
 * flight back to the queue and exits 0; a second signal exits at once.
 */
import { hostname } from 'node:os';
import { Option, type Command } from 'commander';
import { z } from 'zod';
import { InputError } from '../core/errors.js';
import { redisUrlSchema, type RedisTarget } from '../core/redis-url.js';
import { DEFAULT_QUEUE_NAME } from '../queue/job.js';
import { startQueueWorker, type QueueWorker } from '../queue/queue-worker.js';

/** One zod schema per option: the option's parser runs it and exits 2 with its message. */
export const workerOptionSchemas = {
  redis: redisUrlSchema,
  concurrency: z.number().int().min(1).max(64),
  queueName: z
    .string()
    .min(1)
    .max(100)
    .regex(/^[^:\s]+$/, 'must not contain ":" or spaces'),
  name: z.string().min(1).max(200),
  lockDuration: z.number().min(1).max(3600),
  backend: z.enum(['auto', 'tensorflow-gpu', 'tensorflow', 'wasm', 'cpu']),
} as const;

/** A decimal number as typed, else the text itself (for the schema to refuse by name). */
export function numberOrText(text: string): unknown {
  const t = text.trim();
  return /^[+-]?(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?$/i.test(t) ? Number(t) : text;
}

/**
 * An argParser that runs `schema` on the text (numbers for number fields); an InputError naming the
 * option and zod's message otherwise (exit 2). The message is the schema's own, so a Redis URL's
 * password never reaches the terminal.
 */
export function zodArg<S extends z.ZodType>(flag: string, schema: S) {
  const numeric = schema instanceof z.ZodNumber;
  return (text: string): z.output<S> => {
    const r = schema.safeParse(numeric ? numberOrText(text) : text);
    if (!r.success) throw new InputError(`${flag}: ${r.error.issues[0]?.message ?? 'invalid'}`);
    return r.data;
  };
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
  program
    .command('worker')
    .description(
      'Take evaluation jobs from the queue on Redis and evaluate them (run on any machine that reaches Redis); SIGTERM hands jobs in flight back and exits.',
    )
    .addOption(
      new Option(
        '--redis <url>',
        "the queue's Redis: redis://[:password@]host[:port][/db] or rediss:// (TLS)",
      )
        .argParser(zodArg('--redis', s.redis))
        .makeOptionMandatory(),
    )
    .addOption(
      new Option('--concurrency <n>', 'evaluations at once, one worker thread each')
        .argParser(zodArg('--concurrency', s.concurrency))
        .default(1),
    )
    .addOption(
      new Option(
        '--backend <name>',
        'TensorFlow.js backend of the evaluations (default: the fastest)',
      ).choices(s.backend.options),
    )
    .addOption(
      new Option('--queue-name <name>', 'the queue to take jobs from')
        .argParser(zodArg('--queue-name', s.queueName))
        .default(DEFAULT_QUEUE_NAME),
    )
    .addOption(
      new Option(
        '--name <name>',
        "this worker's name in logs and heartbeats (default: host:pid)",
      ).argParser(zodArg('--name', s.name)),
    )
    .addOption(
      new Option(
        '--lock-duration <s>',
        "seconds a job stays locked without renewal (renewed every half); a dead worker's job returns to the queue after that",
      )
        .argParser(zodArg('--lock-duration', s.lockDuration))
        .default(60),
    )
    .action(async (flags: WorkerFlags) => {
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
