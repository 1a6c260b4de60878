/**
 * `npm run bench`: the developers' benchmarks in one JSON report. `throughput` is the product's own
 * `robust-nas bench` (training and PGD-step images/s, run as the built command so its worker threads
 * load from dist/); `search` is the search overhead (bench/search-overhead.ts); `evaluations` is
 * the search throughput with local and queue workers (bench/search-throughput.ts). bench/run.mjs
 * bundles this file with esbuild and runs it; arguments after `npm run bench --` reach it.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { z } from 'zod';
import { schemaOption } from '../src/cli/zod-options.js';
import { runSearchOverheadBench } from './search-overhead.js';
import { runStrategiesBench } from './strategies.js';
import { runSearchThroughputBench } from './search-throughput.js';

const CLI = resolve('dist/cli.js');

const sizes = z.object({
  points: z.number().int().min(10).max(1_000_000).default(10_000),
  stored: z.number().int().min(1).max(1_000_000).default(1000),
  repeats: z.number().int().min(1).max(1000).default(7),
  rounds: z.number().int().min(0).max(20).default(2),
  generations: z.number().int().min(1).max(50).default(3),
});

/** Options handed to `robust-nas bench` as they were typed. */
const THROUGHPUT_OPTIONS = ['workers', 'backend', 'steps', 'warmup', 'workload'] as const;

function throughput(opts: Record<string, string | undefined>): unknown {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build first`);
  const args = [CLI, 'bench', '--json'];
  for (const name of THROUGHPUT_OPTIONS) {
    if (opts[name] !== undefined) args.push(`--${name}`, opts[name]);
  }
  const r = spawnSync(process.execPath, args, {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  if (r.status !== 0) throw new Error(`robust-nas bench exited with code ${r.status}`);
  return (JSON.parse(r.stdout) as { throughput: unknown }).throughput;
}

async function main(argv: readonly string[]): Promise<number> {
  const program = new Command('npm run bench --')
    .description('Throughput (robust-nas bench) and search overhead, as one JSON report.')
    .exitOverride()
    .option('--json', 'print the report on one line')
    .addOption(
      new Option('--only <part>', 'run one part only').choices([
        'throughput',
        'search',
        'evaluations',
        'strategies',
      ]),
    )
    .addOption(
      schemaOption('points', sizes.shape.points, {
        arg: 'n',
        description: 'search: points sorted',
      }),
    )
    .addOption(
      schemaOption('stored', sizes.shape.stored, {
        arg: 'n',
        description: 'search: evaluations already in the run',
      }),
    )
    .addOption(
      schemaOption('repeats', sizes.shape.repeats, {
        arg: 'n',
        description: 'search: timed repeats',
      }),
    )
    .addOption(
      schemaOption('rounds', sizes.shape.rounds, {
        arg: 'n',
        description: 'evaluations: rounds of each placement, the fastest kept (0: leave them out)',
      }),
    )
    .addOption(
      schemaOption('generations', sizes.shape.generations, {
        arg: 'g',
        description: 'evaluations: generations of the timed search (8 candidates each)',
      }),
    );
  program.addOption(
    new Option('--strategy-repeats <n>', 'strategies: search seeds per strategy')
      .argParser((v) => {
        const n = Number(v);
        if (!Number.isInteger(n) || n < 2 || n > 200) {
          throw new InvalidArgumentError('an integer from 2 to 200');
        }
        return n;
      })
      .default(20),
  );
  for (const name of THROUGHPUT_OPTIONS) {
    program.option(`--${name} <value>`, `throughput: passed to robust-nas bench --${name}`);
  }
  try {
    program.parse([...argv], { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) return err.code === 'commander.helpDisplayed' ? 0 : 2;
    throw err;
  }
  const opts = program.opts();
  const report: Record<string, unknown> = {};
  const all = opts.only === undefined;
  if (all || opts.only === 'throughput') report.throughput = throughput(opts);
  if (all || opts.only === 'search') {
    report.search = await runSearchOverheadBench({
      points: opts.points,
      stored: opts.stored,
      repeats: opts.repeats,
    });
  }
  // Evaluations per hour of a small real search: 1 and 2 local workers, 2 queue workers.
  if ((all || opts.only === 'evaluations') && opts.rounds > 0) {
    report.evaluations = await runSearchThroughputBench(opts.rounds, opts.generations);
  }
  // Allocation strategies on the noisy surrogate test bed (only when asked: it takes minutes).
  if (opts.only === 'strategies') {
    report.strategies = await runStrategiesBench(opts.strategyRepeats, undefined, (line) =>
      process.stderr.write(`strategies: ${line}\n`),
    );
  }
  process.stdout.write(`${JSON.stringify(report, null, opts.json ? undefined : 2)}\n`);
  return 0;
}

process.exitCode = await main(process.argv.slice(2));
