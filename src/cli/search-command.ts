/**
 * `robust-nas search`: start a search (NSGA-II or random) and run it in the foreground, saved after
 * every evaluation. The run config is the config file (if any) with the command-line options on
 * top; both are checked by searchConfigSchema, whose fields the options are built from.
 */
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { InputError } from '../core/errors.js';
import { evalConfigSchema } from '../core/evaluation.js';
import { parseObjectiveList } from '../core/objectives.js';
import {
  DEFAULT_RESAMPLING,
  parseSearchConfig,
  resamplingFields,
  searchConfigObject,
  type SearchConfig,
} from '../core/search-config.js';
import { checkSearchMemory, memoryLimitMB } from '../evaluator/memory-estimate.js';
import { SearchRun } from '../runner/search-run.js';
import { driveRun } from './drive-run.js';
import {
  checkNamedDataFolder,
  evaluatorFor,
  maxMemoryOption,
  placementOptions,
  runsDirOf,
  runsDirOption,
  searchRunOptions,
  withInputErrors,
  type PlacementFlags,
} from './runs-access.js';
import { SchemaOptions } from './zod-options.js';

/** Fields of the search config offered as options; defaults shown in --help, filled by the schema. */
const configOptions = new SchemaOptions(
  searchConfigObject.shape,
  {
    population: { arg: 'n', description: 'population size' },
    offspring: { arg: 'n', description: 'offspring per generation (default: population)' },
    generations: { arg: 'g', description: 'generations, counting the initial population' },
    seed: { arg: 's', description: 'random seed' },
    strategy: { arg: 'name', description: 'search strategy' },
    evaluator: {
      arg: 'kind',
      description: "'real' (train networks) or 'surrogate' (instant, labelled)",
    },
    surrogateDelayMs: {
      flag: 'surrogate-delay',
      arg: 'ms',
      description: 'surrogate only: artificial delay per evaluation',
    },
    surrogateNoise: {
      arg: 'sd',
      description: 'surrogate only: sd of a perturbation that depends on the evaluation seed',
    },
  },
  'help',
);

/** `--initial-seeds` and `--max-seeds` set the config's repeated evaluation (`resampling`). */
const resamplingOptions = new SchemaOptions(
  resamplingFields.shape,
  {
    initialSeeds: {
      arg: 'n',
      description: `seeds each new candidate is evaluated with (default: ${DEFAULT_RESAMPLING.initialSeeds})`,
    },
    maxSeeds: {
      arg: 'n',
      description: `seeds a surviving candidate gets at most, one more per generation (default: ${DEFAULT_RESAMPLING.maxSeeds})`,
    },
  },
  'help',
);

/** `--dataset` sets the evaluation config's data set. */
const evaluationOptions = new SchemaOptions(
  evalConfigSchema.shape,
  { dataset: { arg: 'name', description: 'data set' } },
  'help',
);

export interface SearchOptions extends Record<string, unknown>, PlacementFlags {
  config?: string;
  objectives?: string;
  runsDir?: string;
  runId?: string;
  json?: boolean;
  maxMemoryMb?: string;
}

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
      ? { ...(raw.evaluation as Record<string, unknown>), ...evaluationOptions.values(opts) }
      : raw.evaluation === undefined
        ? { ...evaluationOptions.values(opts) }
        : raw.evaluation;
  const merged: Record<string, unknown> = { ...raw, ...configOptions.values(opts), evaluation };
  const seeds = resamplingOptions.values(opts);
  if (Object.keys(seeds).length > 0) {
    const base =
      typeof raw.resampling === 'object' && raw.resampling !== null
        ? (raw.resampling as Record<string, unknown>)
        : raw.resampling === undefined
          ? DEFAULT_RESAMPLING
          : undefined;
    // A config file's resampling that is not an object is left for the schema to report.
    if (base !== undefined) merged.resampling = { ...base, ...seeds };
  }
  if (opts.objectives !== undefined) {
    // Dataset for the default eps: the validated one (this throws naming a bad dataset).
    const probe = parseSearchConfig({ ...merged, objectives: undefined }, source);
    merged.objectives = parseObjectiveList(opts.objectives, probe.evaluation.dataset);
  }
  return parseSearchConfig(merged, source);
}

/** Registers `robust-nas search`. */
export function registerSearchCommand(program: Command): void {
  const command = program
    .command('search')
    .description(
      'Start a search (NSGA-II or random) over DARTS genotypes; saved after every evaluation.',
    )
    .option('--config <file>', 'search config (JSON); command-line options override it');
  evaluationOptions.addTo(command);
  configOptions.addTo(command);
  resamplingOptions.addTo(command);
  command
    .option('--objectives <list>', "e.g. 'clean,pgd' or 'clean:max,pgd@0.1,params:min'")
    .addOption(runsDirOption())
    .option('--run-id <id>', 'id for the new run (default: date, time and random digits)')
    .option('--json', 'print every event as a JSON line')
    .addOption(maxMemoryOption());
  for (const option of placementOptions()) command.addOption(option);
  command.action(async (opts: SearchOptions) => {
    const config = await buildSearchConfig(opts);
    // Before anything is created: a network too big for the backend would crash it.
    checkSearchMemory(config, memoryLimitMB(opts.maxMemoryMb));
    checkNamedDataFolder(config, opts.config ? `config file ${opts.config}` : 'search options');
    const evaluator = await evaluatorFor(config, opts);
    try {
      const run = await withInputErrors(() =>
        SearchRun.create(config, searchRunOptions(runsDirOf(opts), evaluator, opts.runId)),
      );
      if (!opts.json) process.stdout.write(`run ${run.id} in ${runsDirOf(opts)}\n`);
      await driveRun(run, opts.json === true);
    } finally {
      await evaluator?.close();
    }
  });
}
