import type { Command } from 'commander';
import { InputError } from '../core/errors.js';
import { describeBackend, parseBackendName } from '../evaluator/backend.js';
import { runThroughputBench, type WorkloadName } from '../evaluator/throughput-bench.js';
import { runSearchOverheadBench } from './search-overhead-bench.js';

interface BenchOptions {
  json?: boolean;
  workers: string;
  backend?: string;
  steps: string;
  warmup: string;
  workload: string;
  only?: string;
}

function count(value: string, what: string, min: number): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || n < min) {
    throw new InputError(`--${what}: expected an integer >= ${min}, got '${value}'`);
  }
  return n;
}

/** Registers `robust-nas bench`: training and PGD-step throughput on the reference workloads. */
export function registerBenchCommand(program: Command): void {
  program
    .command('bench')
    .description(
      'Throughput: training and PGD-step images/s on the CIFAR (DARTS_V2, C=16, 8 cells) and MNIST (C=8, 5 cells) workloads, batch 64.',
    )
    .option('--json', 'print only the JSON report')
    .option('--workers <n>', 'independent copies in parallel worker threads', '1')
    .option('--backend <name>', 'auto, tensorflow-gpu, tensorflow, wasm or cpu (default: auto)')
    .option('--steps <k>', 'timed steps per phase', '10')
    .option('--warmup <k>', 'untimed warm-up steps per phase', '2')
    .option('--workload <w>', 'cifar, mnist or all', 'all')
    .option('--only <part>', 'run only one part: throughput or search (search overhead)')
    .action(async (opts: BenchOptions) => {
      const workloads: WorkloadName[] =
        opts.workload === 'all'
          ? ['cifar', 'mnist']
          : opts.workload === 'cifar' || opts.workload === 'mnist'
            ? [opts.workload]
            : (() => {
                throw new InputError(
                  `--workload: expected cifar, mnist or all, got '${opts.workload}'`,
                );
              })();
      if (opts.only !== undefined && opts.only !== 'throughput' && opts.only !== 'search') {
        throw new InputError(`--only: expected throughput or search, got '${opts.only}'`);
      }
      if (opts.only === 'search') {
        const search = await runSearchOverheadBench();
        process.stdout.write(`${JSON.stringify({ search }, null, opts.json ? undefined : 2)}\n`);
        return;
      }
      // Checked before the search-overhead part runs (it takes a while).
      const throughputOptions = {
        backend: opts.backend === undefined ? undefined : parseBackendName(opts.backend),
        workers: count(opts.workers, 'workers', 1),
        steps: count(opts.steps, 'steps', 1),
        warmupSteps: count(opts.warmup, 'warmup', 0),
        workloads,
      };
      const search = opts.only === 'throughput' ? undefined : await runSearchOverheadBench();
      const report = await runThroughputBench(throughputOptions);
      if (!opts.json) process.stderr.write(`${describeBackend(report.backend)}\n`);
      process.stdout.write(
        `${JSON.stringify({ throughput: report, search }, null, opts.json ? undefined : 2)}\n`,
      );
    });
}
