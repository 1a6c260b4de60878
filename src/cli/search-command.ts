/**
 * The search commands: `search`, `resume <runId>`, `runs list|show|front`, `export`. They drive a
 * SearchRun and consume only its events (progress bars on a TTY, plain lines otherwise, JSON lines
 * with --json) and the run folders (RunStore).
 */
import { readFile, writeFile } from 'node:fs/promises';
import { Option, type Command } from 'commander';
import cliProgress from 'cli-progress';
import { InputError } from '../core/errors.js';
import { redisUrlSchema, type RedisTarget } from '../core/redis-url.js';
import type { SearchEvent } from '../core/events.js';
import { formatGenotype } from '../core/genotype-format.js';
import { objectiveLabel, parseObjectiveList } from '../core/objectives.js';
import {
  parseSearchConfig,
  plannedEvaluations,
  searchConfigObject,
  type SearchConfig,
} from '../core/search-config.js';
import { SearchRun } from '../runner/search-run.js';
import {
  RunCorruptError,
  RunFormatVersionError,
  RunLockedError,
  RunNotFoundError,
} from '../store/errors.js';
import { RunStore, type RunData } from '../store/run-store.js';
import { runToCsv } from '../store/run-export.js';
import {
  openRunEvaluator,
  placementOf,
  type Placement,
  type RunEvaluator,
} from '../queue/placement.js';
import { zodArg } from './worker-command.js';
import {
  checkSearchMemory,
  MAX_MEMORY_ENV_VAR,
  memoryLimitMB,
} from '../evaluator/memory-estimate.js';

const DEFAULT_RUNS_DIR = 'runs';

function runsDirOf(opts: { runsDir?: string }): string {
  return opts.runsDir ?? process.env.ROBUST_NAS_RUNS ?? DEFAULT_RUNS_DIR;
}

/** Store errors are problems with what the user pointed at: one line, exit code 2. */
function asInputError(err: unknown): unknown {
  if (
    err instanceof RunNotFoundError ||
    err instanceof RunCorruptError ||
    err instanceof RunFormatVersionError ||
    err instanceof RunLockedError
  ) {
    return new InputError(err.message);
  }
  return err;
}

async function withInputErrors<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw asInputError(err);
  }
}

function intOption(name: string, min: number) {
  return (text: string): number => {
    const v = Number(text);
    if (!/^\s*\d+\s*$/.test(text) || !Number.isSafeInteger(v) || v < min) {
      throw new InputError(`${name}: expected an integer >= ${min}, got '${text}'`);
    }
    return v;
  };
}

function numberOption(name: string) {
  return (text: string): number => {
    const v = Number(text);
    if (text.trim() === '' || !Number.isFinite(v) || v < 0) {
      throw new InputError(`${name}: expected a non-negative number, got '${text}'`);
    }
    return v;
  };
}

/** The run's evaluator, placed as the command line says, else as its config says. */
async function evaluatorFor(
  config: SearchConfig,
  flags: Placement,
): Promise<RunEvaluator | undefined> {
  const evaluator = await openRunEvaluator(config, placementOf(config, flags), {
    report: (line) => process.stderr.write(`robust-nas: ${line}\n`),
  });
  if (
    evaluator &&
    (flags.workers !== undefined || flags.queue !== undefined || config.workers || config.queue)
  ) {
    process.stderr.write(`robust-nas: ${evaluator.description}\n`);
  }
  return evaluator;
}

/** `--workers` and `--queue`: where evaluations run (they override the config's). */
function addPlacementOptions(command: Command): Command {
  return command
    .addOption(
      new Option('--workers <n>', 'evaluate in a local pool of n worker threads').argParser(
        zodArg('--workers', searchConfigObject.shape.workers.unwrap()),
      ),
    )
    .addOption(
      new Option(
        '--queue <url>',
        'send evaluations as jobs to the queue on this Redis (redis:// or rediss://); run `robust-nas worker` on any machine to take them',
      ).argParser(zodArg('--queue', redisUrlSchema)),
    );
}

interface SearchOptions {
  config?: string;
  dataset?: string;
  population?: number;
  offspring?: number;
  generations?: number;
  seed?: number;
  objectives?: string;
  strategy?: string;
  evaluator?: string;
  surrogateDelay?: number;
  runsDir?: string;
  runId?: string;
  maxMemoryMb?: string;
  json?: boolean;
  workers?: number;
  queue?: RedisTarget;
}

interface ResumeOptions {
  runsDir?: string;
  maxMemoryMb?: string;
  json?: boolean;
  workers?: number;
  queue?: RedisTarget;
}

const MAX_MEMORY_HELP = `refuse a real search whose largest network would need more memory (default: $${MAX_MEMORY_ENV_VAR} or 4096)`;

async function readConfigFile(path: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    throw new InputError(`cannot read config file ${path}`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new InputError(`config file ${path} is not valid JSON (${(err as Error).message})`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new InputError(`config file ${path} must hold a JSON object`);
  }
  return raw as Record<string, unknown>;
}

/** The run config: the config file (if any) with the command-line options on top. */
export async function buildSearchConfig(opts: SearchOptions): Promise<SearchConfig> {
  const raw: Record<string, unknown> = opts.config ? await readConfigFile(opts.config) : {};
  const source = opts.config ? `config file ${opts.config}` : 'search options';
  const evaluation =
    typeof raw.evaluation === 'object' && raw.evaluation !== null
      ? { ...(raw.evaluation as Record<string, unknown>) }
      : raw.evaluation === undefined
        ? {}
        : raw.evaluation;
  if (opts.dataset !== undefined && typeof evaluation === 'object') {
    (evaluation as Record<string, unknown>).dataset = opts.dataset;
  }
  const merged: Record<string, unknown> = { ...raw, evaluation };
  const set = (key: string, v: unknown) => {
    if (v !== undefined) merged[key] = v;
  };
  set('population', opts.population);
  set('offspring', opts.offspring);
  set('generations', opts.generations);
  set('seed', opts.seed);
  set('strategy', opts.strategy);
  set('evaluator', opts.evaluator);
  set('surrogateDelayMs', opts.surrogateDelay);
  if (opts.objectives !== undefined) {
    // Dataset for the default eps: the validated one (this throws naming a bad --dataset).
    const probe = parseSearchConfig({ ...merged, objectives: undefined }, source);
    merged.objectives = parseObjectiveList(opts.objectives, probe.evaluation.dataset);
  }
  return parseSearchConfig(merged, source);
}

/** Progress display fed by events only. */
function attachProgress(run: SearchRun, json: boolean): () => void {
  const total = run.config.generations;
  const planned = plannedEvaluations(run.config);
  if (json) {
    return run.on((e) => process.stdout.write(`${JSON.stringify(e)}\n`));
  }
  if (process.stderr.isTTY) {
    const bars = new cliProgress.MultiBar(
      {
        format: ' {label} |{bar}| {value}/{total} | ETA {eta_formatted} | {info}',
        hideCursor: true,
        clearOnComplete: false,
        etaBuffer: 20,
      },
      cliProgress.Presets.shades_classic,
    );
    const gen = bars.create(total, run.generation(), { label: 'generations', info: '' });
    const evals = bars.create(planned, run.evaluationCount(), { label: 'evaluations', info: '' });
    const off = run.on((e: SearchEvent) => {
      if (e.type === 'evaluation-started') {
        evals.update({
          info: `evaluating #${e.index} (${e.inGeneration.done + 1}/${e.inGeneration.total} of generation ${e.generation})`,
        });
      } else if (e.type === 'evaluation-finished' || e.type === 'evaluation-failed') {
        evals.update(e.evaluation.index + 1, {
          info: e.type === 'evaluation-failed' ? `#${e.evaluation.index} failed` : '',
        });
      } else if (e.type === 'generation-finished') {
        gen.update(e.generation + 1, {
          info: `front ${e.front.length}, hypervolume ${e.hypervolume.toFixed(4)}`,
        });
      }
    });
    return () => {
      off();
      bars.stop();
    };
  }
  return run.on((e) => {
    if (e.type === 'generation-finished') {
      process.stdout.write(
        `generation ${e.generation + 1}/${total}: ${e.evaluations}/${planned} evaluations, front ${e.front.length}, hypervolume ${e.hypervolume.toFixed(4)}\n`,
      );
    } else if (e.type === 'evaluation-failed') {
      process.stdout.write(`evaluation ${e.evaluation.index} failed: ${e.evaluation.failure}\n`);
    }
  });
}

/** Runs to completion, pause or stop; SIGINT/SIGTERM stop gracefully (checkpoint, exit 0). */
async function drive(run: SearchRun, json: boolean): Promise<void> {
  const detach = attachProgress(run, json);
  const onSignal = () => {
    run.stop().catch((err: unknown) => {
      process.stderr.write(`robust-nas: ${err instanceof Error ? err.message : String(err)}\n`);
    });
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    await run.run();
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    detach();
  }
  if (json) return;
  const status = run.status();
  if (status === 'completed') {
    process.stdout.write(
      `run ${run.id} completed: ${run.evaluationCount()} evaluations; see: robust-nas runs front ${run.id}\n`,
    );
  } else {
    process.stdout.write(
      `run ${run.id} ${status} after ${run.evaluationCount()} evaluations; continue with: robust-nas resume ${run.id}\n`,
    );
  }
}

function frontRows(data: RunData) {
  const last = data.generations[data.generations.length - 1];
  const front = last ? last.front : [];
  return front.map((i) => {
    const r = data.evaluations[i]!;
    const objectives: Record<string, number> = {};
    data.config.objectives.forEach((o, k) => (objectives[objectiveLabel(o)] = r.objectives![k]!));
    return {
      index: r.index,
      generation: r.generation,
      hash: r.hash,
      objectives,
      hrs: r.scores?.hrs,
      surrogate: r.scores?.surrogate === true,
      genotype: r.genotype,
    };
  });
}

function pad(cells: string[][]): string {
  const widths = cells[0]!.map((_, c) => Math.max(...cells.map((row) => row[c]!.length)));
  return cells
    .map((row) =>
      row
        .map((cell, c) => cell.padEnd(widths[c]!))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

export function registerSearchCommands(program: Command): void {
  const search = program
    .command('search')
    .description(
      'Start a search (NSGA-II or random) over DARTS genotypes; saved after every evaluation.',
    )
    .option('--config <file>', 'search config (JSON); command-line options override it')
    .option('--dataset <name>', 'mnist, fashion-mnist, cifar10 or synthetic')
    .option('--population <n>', 'population size', intOption('--population', 1))
    .option(
      '--offspring <n>',
      'offspring per generation (default: population)',
      intOption('--offspring', 1),
    )
    .option(
      '--generations <g>',
      'generations, counting the initial population',
      intOption('--generations', 1),
    )
    .option('--seed <s>', 'random seed', intOption('--seed', 0))
    .option('--objectives <list>', "e.g. 'clean,pgd' or 'clean:max,pgd@0.1,params:min'")
    .option('--strategy <name>', 'nsga2 or random')
    .option('--evaluator <kind>', "'real' (train networks) or 'surrogate' (instant, labelled)")
    .option(
      '--surrogate-delay <ms>',
      'surrogate only: artificial delay per evaluation',
      numberOption('--surrogate-delay'),
    )
    .option('--runs-dir <dir>', 'where runs are saved (default: $ROBUST_NAS_RUNS or ./runs)')
    .option('--run-id <id>', 'id for the new run (default: date, time and random digits)')
    .option('--max-memory-mb <mb>', MAX_MEMORY_HELP)
    .option('--json', 'print every event as a JSON line');
  addPlacementOptions(search).action(async (opts: SearchOptions) => {
    const config = await buildSearchConfig(opts);
    checkSearchMemory(config, memoryLimitMB(opts.maxMemoryMb));
    const evaluator = await evaluatorFor(config, opts);
    try {
      const run = await withInputErrors(() =>
        SearchRun.create(config, {
          runsDir: runsDirOf(opts),
          ...(evaluator
            ? { evaluate: evaluator.evaluate, concurrency: evaluator.concurrency }
            : {}),
          ...(opts.runId !== undefined ? { runId: opts.runId } : {}),
        }),
      );
      if (!opts.json) process.stdout.write(`run ${run.id} in ${runsDirOf(opts)}\n`);
      await drive(run, opts.json === true);
    } finally {
      await evaluator?.close();
    }
  });

  const resume = program
    .command('resume <runId>')
    .description('Continue a paused, stopped or interrupted run from its last checkpoint.')
    .option('--runs-dir <dir>', 'where runs are saved (default: $ROBUST_NAS_RUNS or ./runs)')
    .option('--max-memory-mb <mb>', MAX_MEMORY_HELP)
    .option('--json', 'print every event as a JSON line');
  addPlacementOptions(resume).action(async (runId: string, opts: ResumeOptions) => {
    const runsDir = runsDirOf(opts);
    const store = new RunStore(runsDir);
    const data = await withInputErrors(() => store.read(runId));
    if (data.status === 'completed') {
      process.stdout.write(`run ${runId} is already completed\n`);
      return;
    }
    checkSearchMemory(data.config, memoryLimitMB(opts.maxMemoryMb));
    const evaluator = await evaluatorFor(data.config, opts);
    try {
      const run = await withInputErrors(() =>
        SearchRun.open(runId, {
          runsDir,
          ...(evaluator
            ? { evaluate: evaluator.evaluate, concurrency: evaluator.concurrency }
            : {}),
        }),
      );
      await drive(run, opts.json === true);
    } finally {
      await evaluator?.close();
    }
  });

  const runs = program.command('runs').description('List and inspect saved runs.');
  runs
    .command('list')
    .description('Every run in the runs folder.')
    .option('--runs-dir <dir>', 'where runs are saved (default: $ROBUST_NAS_RUNS or ./runs)')
    .option('--json', 'print JSON')
    .action(async (opts: { runsDir?: string; json?: boolean }) => {
      const list = await new RunStore(runsDirOf(opts)).list();
      if (opts.json) {
        process.stdout.write(`${JSON.stringify(list, null, 2)}\n`);
        return;
      }
      if (list.length === 0) {
        process.stdout.write(`no runs in ${runsDirOf(opts)}\n`);
        return;
      }
      const rows = [
        ['ID', 'STATUS', 'GENERATION', 'EVALUATIONS', 'STRATEGY', 'EVALUATOR', 'UPDATED'],
      ];
      for (const r of list) {
        rows.push(
          r.error
            ? [r.id, 'unreadable', '-', '-', '-', '-', r.error]
            : [
                r.id,
                r.status,
                `${r.generation}/${r.generations}`,
                `${r.evaluations}/${r.plannedEvaluations}`,
                r.strategy,
                r.evaluator,
                r.updatedAt,
              ],
        );
      }
      process.stdout.write(`${pad(rows)}\n`);
    });

  runs
    .command('show <runId>')
    .description("A run's status, config and hypervolume per generation.")
    .option('--runs-dir <dir>', 'where runs are saved (default: $ROBUST_NAS_RUNS or ./runs)')
    .option('--json', 'print JSON')
    .action(async (runId: string, opts: { runsDir?: string; json?: boolean }) => {
      const data = await withInputErrors(() => new RunStore(runsDirOf(opts)).read(runId));
      const { evaluations, ...rest } = data;
      const failed = evaluations.filter((e) => e.status === 'failed').length;
      const cached = evaluations.filter((e) => e.cached).length;
      if (opts.json) {
        const out = { ...rest, evaluationCount: evaluations.length, failed, cached };
        process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
        return;
      }
      const lines = [
        `run ${data.id}${data.name ? ` (${data.name})` : ''}: ${data.status}`,
        `strategy ${data.strategy}, evaluator ${data.evaluator}${data.evaluator === 'surrogate' ? ' (surrogate scores, not accuracies)' : ''}, seed ${data.config.seed}`,
        `objectives: ${data.objectives.map((o) => `${o.direction} ${objectiveLabel(o)}`).join(', ')}`,
        `dataset ${data.config.evaluation.dataset}, population ${data.config.population}, offspring ${data.config.offspring}`,
        `generations ${data.generation}/${data.generationsPlanned}, evaluations ${data.evaluations.length}/${data.plannedEvaluations} (${cached} cached, ${failed} failed)`,
        `created ${data.createdAt}, updated ${data.updatedAt}`,
        ...(data.message ? [`message: ${data.message}`] : []),
        ...data.generations.map(
          (g) =>
            `  generation ${g.generation}: hypervolume ${g.hypervolume.toFixed(4)}, front ${g.front.length}, ${g.evaluations} evaluations`,
        ),
      ];
      process.stdout.write(`${lines.join('\n')}\n`);
    });

  runs
    .command('front <runId>')
    .description('The Pareto front of a run (after its last finished generation).')
    .option('--runs-dir <dir>', 'where runs are saved (default: $ROBUST_NAS_RUNS or ./runs)')
    .option('--json', 'print JSON')
    .action(async (runId: string, opts: { runsDir?: string; json?: boolean }) => {
      const data = await withInputErrors(() => new RunStore(runsDirOf(opts)).read(runId));
      const rows = frontRows(data);
      if (opts.json) {
        process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
        return;
      }
      if (rows.length === 0) {
        process.stdout.write(`run ${runId} has no finished generation yet\n`);
        return;
      }
      const labels = data.config.objectives.map((o) => objectiveLabel(o));
      const table = [['#', 'HASH', ...labels.map((l) => l.toUpperCase()), 'HRS', 'GENOTYPE']];
      for (const r of rows) {
        table.push([
          String(r.index),
          r.hash,
          ...labels.map((l) => r.objectives[l]!.toFixed(4)),
          r.hrs === undefined ? '-' : r.hrs.toFixed(4),
          formatGenotype(r.genotype, 'python'),
        ]);
      }
      if (data.evaluator === 'surrogate') {
        process.stdout.write(
          '(surrogate evaluator: figures are a labelled function of the genotype, not accuracies)\n',
        );
      }
      process.stdout.write(`${pad(table)}\n`);
    });

  program
    .command('export <runId>')
    .description('Every evaluation of a run as CSV or JSON.')
    .requiredOption('--format <format>', 'csv or json')
    .option('--output <file>', 'write to a file instead of standard output')
    .option('--runs-dir <dir>', 'where runs are saved (default: $ROBUST_NAS_RUNS or ./runs)')
    .action(async (runId: string, opts: { format: string; output?: string; runsDir?: string }) => {
      if (opts.format !== 'csv' && opts.format !== 'json') {
        throw new InputError(`--format: expected csv or json, got '${opts.format}'`);
      }
      const data = await withInputErrors(() => new RunStore(runsDirOf(opts)).read(runId));
      const text = opts.format === 'csv' ? runToCsv(data) : `${JSON.stringify(data, null, 2)}\n`;
      if (opts.output) await writeFile(opts.output, text);
      else process.stdout.write(text);
    });
}
