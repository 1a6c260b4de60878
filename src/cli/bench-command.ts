/**
 * `robust-nas bench`: training and PGD-step images/s of this machine on the two reference workloads
 * (product code: it tells a user what their backend and cores deliver before a search). The
 * developers' benchmarks, with the search overhead, are `npm run bench` (bench/).
 */
import type { Command } from 'commander';
import { z } from 'zod';
import { describeBackend, parseBackendName } from '../evaluator/backend.js';
import { runThroughputBench, type WorkloadName } from '../evaluator/throughput-bench.js';
import { SchemaOptions } from './zod-options.js';

const benchOptionsSchema = z.object({
  workers: z.number().int().min(1).max(256).default(1),
  steps: z.number().int().min(1).max(100_000).default(10),
  warmup: z.number().int().min(0).max(100_000).default(2),
  workload: z.enum(['cifar', 'mnist', 'all']).default('all'),
});

const benchOptions = new SchemaOptions(benchOptionsSchema.shape, {
  workers: { arg: 'n', description: 'independent copies in parallel worker threads' },
  steps: { arg: 'k', description: 'timed steps per phase' },
  warmup: { arg: 'k', description: 'untimed warm-up steps per phase' },
  workload: { arg: 'w', description: 'which reference workload' },
});

interface BenchOptions extends Record<string, unknown> {
  json?: boolean;
  backend?: string;
}

/** Registers `robust-nas bench`: training and PGD-step throughput on the reference workloads. */
export function registerBenchCommand(program: Command): void {
  const command = program
    .command('bench')
    .description(
      'Throughput: training and PGD-step images/s on the CIFAR (DARTS_V2, C=16, 8 cells) and MNIST (C=8, 5 cells) workloads, batch 64.',
    )
    .option('--json', 'print only the JSON report')
    .option('--backend <name>', 'auto, tensorflow-gpu, tensorflow, wasm or cpu (default: auto)');
  benchOptions.addTo(command);
  command.action(async (opts: BenchOptions) => {
    const { workers, steps, warmup, workload } = benchOptions.parse(opts);
    const workloads: WorkloadName[] = workload === 'all' ? ['cifar', 'mnist'] : [workload];
    const report = await runThroughputBench({
      backend: opts.backend === undefined ? undefined : parseBackendName(opts.backend),
      workers,
      steps,
      warmupSteps: warmup,
      workloads,
    });
    if (!opts.json) process.stderr.write(`${describeBackend(report.backend)}\n`);
    process.stdout.write(
      `${JSON.stringify({ throughput: report }, null, opts.json ? undefined : 2)}\n`,
    );
  });
}
