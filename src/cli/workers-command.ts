/**
 * `robust-nas workers --redis URL [--json]`: the queue's workers (name, host, pid, what each
 * evaluates, when each was last heard from) and its waiting and active jobs. A malformed URL exits 2
 * naming it (password masked); an unreachable Redis exits 1 with the reason after `--timeout`.
 */
import type { Command } from 'commander';
import { z } from 'zod';
import { redisUrlSchema, type RedisTarget } from '../core/redis-url.js';
import { secondsSince, type WorkersReport } from '../core/workers.js';
import { readQueueStatus } from '../placement/queue-status.js';
import { redisOption, workerOptionSchemas } from './worker-command.js';
import { formatTable } from './tables.js';
import { schemaOption } from './zod-options.js';

export const workersOptionSchemas = {
  redis: redisUrlSchema,
  queueName: workerOptionSchemas.queueName,
  timeout: z.number().min(1).max(600).default(10),
} as const;

interface WorkersFlags {
  redis: RedisTarget;
  queueName: string;
  timeout: number;
  json?: boolean;
}

/** The report as text: one line per job in flight (or per idle worker), then the counts. */
export function formatWorkersReport(report: WorkersReport, now = Date.now()): string {
  const rows: string[][] = [['worker', 'host', 'pid', 'seen', 'evaluating', 'progress', 'for']];
  for (const w of report.workers) {
    const seen = `${Math.round(secondsSince(w.lastSeen, now))} s ago`;
    const head = [w.name ?? w.id, w.host ?? '', w.pid === undefined ? '' : String(w.pid), seen];
    if (w.busy.length === 0) rows.push([...head, 'idle', '', '']);
    for (const t of w.busy) {
      const what =
        t.runId !== undefined && t.index !== undefined
          ? `run ${t.runId} #${t.index}${t.hash ? ` (${t.hash.slice(0, 8)})` : ''}`
          : t.hash.slice(0, 8);
      const progress = t.progress
        ? `${t.progress.phase} ${t.progress.done}/${t.progress.total}`
        : '';
      rows.push([...head, what, progress, `${Math.round(secondsSince(t.startedAt, now))} s`]);
    }
  }
  const n = report.workers.length;
  return [
    `${report.description}: ${n} worker${n === 1 ? '' : 's'}, ${report.active} job${report.active === 1 ? '' : 's'} active, ${report.waiting} waiting`,
    ...(n > 0 ? [formatTable(rows)] : []),
  ].join('\n');
}

export function registerWorkersCommand(program: Command): void {
  const s = workersOptionSchemas;
  const command = program
    .command('workers')
    .description(
      "List the queue's workers (what each evaluates, when each was last heard from) and its waiting and active jobs.",
    )
    .addOption(redisOption())
    .addOption(
      schemaOption('queueName', s.queueName, { arg: 'name', description: 'the queue to look at' }),
    )
    .addOption(
      schemaOption('timeout', s.timeout, {
        arg: 's',
        description: 'seconds to wait for an unreachable Redis before giving up',
      }),
    )
    .option('--json', 'print the report as JSON (the same as GET /api/workers of serve --queue)');
  command.action(async (flags: WorkersFlags) => {
    const report = await readQueueStatus({
      url: flags.redis,
      queueName: flags.queueName,
      connectTimeoutMs: flags.timeout * 1000,
    });
    process.stdout.write(
      flags.json ? `${JSON.stringify(report)}\n` : `${formatWorkersReport(report)}\n`,
    );
  });
}
