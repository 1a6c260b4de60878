/**
 * How the run commands reach runs: the runs folder they name, the storage that reads it, the one
 * place a SearchRun is constructed, and storage errors turned into input errors (one line, exit 2).
 */
import { resolve } from 'node:path';
import { Option } from 'commander';
import { InputError } from '../core/errors.js';
import { redisUrlSchema, type RedisTarget } from '../core/redis-url.js';
import { searchConfigObject, type SearchConfig } from '../core/search-config.js';
import { isUserDataset } from '../core/evaluation.js';
import { resolveNamedDataDir } from '../evaluator/datasets/locate.js';
import { checkSplitSizes } from '../evaluator/datasets/subsets.js';
import { loadUserDataset } from '../evaluator/datasets/user-data.js';
import { MAX_MEMORY_ENV_VAR } from '../evaluator/memory-estimate.js';
import type { SearchRunOptions } from '../runner/search-run.js';
import {
  RunCorruptError,
  RunFormatVersionError,
  RunLockedError,
  RunNotFoundError,
} from '../store/errors.js';
import { FileRunStorage } from '../store/file-run-storage.js';
import { RunCatalogue } from '../store/run-catalogue.js';
import { openRunEvaluator, placementOf, type RunEvaluator } from '../placement/placement.js';
import { numberText, schemaArgParser, secretArgParser } from './zod-options.js';

const DEFAULT_RUNS_DIR = 'runs';

/** `--runs-dir <dir>`, shared by every command that reads or writes runs. */
export function runsDirOption(): Option {
  return new Option(
    '--runs-dir <dir>',
    'where runs are saved (default: $ROBUST_NAS_RUNS or ./runs)',
  );
}

/** `--max-memory-mb <mb>`: the limit of the estimated memory of the largest network a run builds. */
export function maxMemoryOption(): Option {
  return new Option(
    '--max-memory-mb <mb>',
    `refuse a real search whose largest network would need more memory (default: $${MAX_MEMORY_ENV_VAR} or 4096)`,
  );
}

/** The runs folder this command resolved last (a CLI process runs one command): named in errors. */
let resolvedRunsDir: string | undefined;

export function runsDirOf(opts: { runsDir?: string }): string {
  const dir = opts.runsDir ?? (process.env.ROBUST_NAS_RUNS || DEFAULT_RUNS_DIR);
  resolvedRunsDir = dir;
  return dir;
}

/** The runs in `runsDir`, read-only. */
export function runStore(runsDir: string): RunCatalogue {
  return new RunCatalogue(runsDir);
}

/** How a SearchRun reaches its runs and its evaluator: the one place the CLI builds these options. */
export function searchRunOptions(
  runsDir: string,
  evaluator: RunEvaluator | undefined,
  runId?: string,
): SearchRunOptions {
  return {
    storage: new FileRunStorage(runsDir),
    ...(evaluator ? { evaluate: evaluator.evaluate, concurrency: evaluator.concurrency } : {}),
    ...(runId !== undefined ? { runId } : {}),
  };
}

/** Where evaluations run, as the command line says (over what the run's config says). */
export interface PlacementFlags {
  workers?: number;
  queue?: RedisTarget;
}

/**
 * `--workers <n>` and `--queue <url>` (search, resume): checked by the config's own schemas. They
 * are not written into the run's config (a Redis password must not be stored): they override it.
 */
export function placementOptions(): Option[] {
  return [
    new Option(
      '--workers <n>',
      "evaluate in a local pool of n worker threads (default: the config's workers, else one at a time in this process)",
    ).argParser(schemaArgParser(searchConfigObject.shape.workers.unwrap(), numberText)),
    new Option(
      '--queue <url>',
      'send evaluations as jobs to the queue on this Redis (redis://[:password@]host[:port][/db] or rediss://), where `robust-nas worker` processes on any machine take them',
    ).argParser(secretArgParser('--queue', redisUrlSchema)),
  ];
}

/**
 * The evaluator of a run that trains networks, placed by the flags, else by the config (a pool,
 * the queue, or in this process; the backend or the placement is said on stderr). Close it after
 * the run.
 */
export async function evaluatorFor(
  config: SearchConfig,
  flags: PlacementFlags = {},
): Promise<RunEvaluator | undefined> {
  const say = (line: string) => process.stderr.write(`robust-nas: ${line}\n`);
  const evaluator = await openRunEvaluator(config, placementOf(config, flags), { report: say });
  if (evaluator && evaluator.concurrency > 1) say(evaluator.description);
  return evaluator;
}

/**
 * A data folder the config names (evaluation.dataDir) must hold its data set, and so must
 * ROBUST_NAS_DATA for a run that trains networks: an InputError (exit 2) before the run starts,
 * never a search on other data.
 */
export function checkNamedDataFolder(config: SearchConfig, source: string): void {
  if (config.evaluator !== 'real' && config.evaluation.dataDir === undefined) return;
  resolveNamedDataDir(config.evaluation.dataset, config.evaluation.dataDir, {
    label: `${source}: evaluation.dataDir`,
  });
}

/**
 * A real run on the user's own data (`folder`, `npz`): the data is read and checked now (an
 * InputError naming the file otherwise), and the run's config records the sha256 of its content
 * (evaluation.dataChecksum), so the run's identity covers the data and a resumed run refuses files
 * that changed since (a config that already holds a checksum is checked against the files).
 */
export function withUserDataChecksum(config: SearchConfig, source: string): SearchConfig {
  const e = config.evaluation;
  if (config.evaluator !== 'real' || !isUserDataset(e.dataset)) return config;
  const data = loadUserDataset(e.dataset, e.dataDir, {
    label: `${source}: evaluation.dataDir`,
    ...(e.dataChecksum !== undefined ? { expectedChecksum: e.dataChecksum } : {}),
  });
  // Sizes the images cannot supply: said now, not as a paused run.
  checkSplitSizes({ ...data, source: 'data-dir' }, e);
  if (e.dataChecksum !== undefined) return config;
  return { ...config, evaluation: { ...e, dataChecksum: data.spec.checksum } };
}

/** Storage errors are problems with what the user pointed at: one line, exit code 2. */
function asInputError(err: unknown): unknown {
  if (err instanceof RunNotFoundError && resolvedRunsDir !== undefined) {
    const dir = resolve(resolvedRunsDir);
    const how =
      resolvedRunsDir === DEFAULT_RUNS_DIR && !process.env.ROBUST_NAS_RUNS
        ? ' (the default ./runs; --runs-dir or ROBUST_NAS_RUNS name another)'
        : '';
    return new InputError(`${err.message}: no such run in ${dir}${how}`);
  }
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

export async function withInputErrors<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw asInputError(err);
  }
}
