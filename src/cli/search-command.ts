/**
 * `robust-nas search`: start a search (NSGA-II or random) and run it in the foreground, saved after
 * every evaluation. The run config is the config file (if any) with the command-line options on
 * top; both are checked by searchConfigSchema, whose fields the options are built from.
 */
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { InputError } from '../core/errors.js';
import { DATASETS, type DatasetName } from '../core/evaluation.js';
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
  withUserDataChecksum,
  type PlacementFlags,
} from './runs-access.js';
import {
  attackListOptions,
  attacksFromOptions,
  attackSettingOptions,
  evaluationOptions,
  type AttackListValues,
} from './evaluation-options.js';
import { SchemaOptions } from './zod-options.js';

/** Fields of the search config offered as options; defaults shown in --help, filled by the schema. */
const configOptions = new SchemaOptions(
  searchConfigObject.shape,
  {
    population: { arg: 'n', description: 'population size' },
    offspring: { arg: 'n', description: 'offspring per generation (default: population)' },
    generations: {
      arg: 'g',
      description: 'generations, counting the initial population as generation 1',
    },
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

/**
 * The network, training, data and attack options of `evaluate` (evaluation-options.ts): they set
 * the run's `evaluation` config, over the config file's.
 */
const evaluationFieldOptions = evaluationOptions('help');
const attackOptions = attackSettingOptions('help');

export interface SearchOptions extends Record<string, unknown>, PlacementFlags, AttackListValues {
  config?: string;
  curveEps?: number[];
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

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * The run config: the config file (if any) with the command-line options on top. `--attack` and
 * `--eps` replace the config's attacks (every attack at every eps); `--steps`, `--alpha` and
 * `--restarts` apply to every attack (those listed, the config's, or the ones the objectives need).
 */
export async function buildSearchConfig(opts: SearchOptions): Promise<SearchConfig> {
  const raw: Record<string, unknown> = opts.config ? await readConfigFile(opts.config) : {};
  const source = opts.config ? `config file ${opts.config}` : 'search options';
  const given = evaluationFieldOptions.values(opts);
  // A config file's evaluation that is not an object is left for the schema to report.
  const evaluation: unknown = isRecord(raw.evaluation)
    ? { ...raw.evaluation, ...given }
    : raw.evaluation === undefined
      ? { ...given }
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
  const settings = attackOptions.values(opts);
  if (isRecord(evaluation)) {
    const dataset = (DATASETS as readonly unknown[]).includes(evaluation.dataset)
      ? (evaluation.dataset as DatasetName)
      : 'mnist'; // the schema reports a bad one
    const listed = attacksFromOptions(opts, dataset, settings);
    if (listed) evaluation.attacks = listed;
    if (opts.curveEps !== undefined) evaluation.curveEps = opts.curveEps;
  }
  if (opts.objectives !== undefined) {
    // Dataset for the default eps: the validated one (this throws naming a bad dataset).
    const probe = parseSearchConfig({ ...merged, objectives: undefined }, source);
    merged.objectives = parseObjectiveList(opts.objectives, probe.evaluation.dataset);
  }
  if (Object.keys(settings).length > 0 && isRecord(evaluation)) {
    // The attack settings go to the attacks given, or to those the objectives need.
    const attacks = Array.isArray(evaluation.attacks)
      ? (evaluation.attacks as unknown[])
      : parseSearchConfig(merged, source).evaluation.attacks;
    evaluation.attacks = attacks.map((a) => (isRecord(a) ? { ...a, ...settings } : a));
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
  configOptions.addTo(command);
  resamplingOptions.addTo(command);
  evaluationFieldOptions.addTo(command);
  for (const option of attackListOptions()) command.addOption(option);
  attackOptions.addTo(command);
  command
    .option('--objectives <list>', "e.g. 'clean,pgd' or 'clean:max,pgd@0.1,params:min'")
    .addOption(runsDirOption())
    .option('--run-id <id>', 'id for the new run (default: date, time and random digits)')
    .option('--json', 'print every event as a JSON line')
    .addOption(maxMemoryOption());
  for (const option of placementOptions()) command.addOption(option);
  command.action(async (opts: SearchOptions) => {
    const source = opts.config ? `config file ${opts.config}` : 'search options';
    const built = await buildSearchConfig(opts);
    checkNamedDataFolder(built, source);
    const config = withUserDataChecksum(built, source);
    // Before anything is created: a network too big for the backend would crash it.
    checkSearchMemory(config, memoryLimitMB(opts.maxMemoryMb));
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
