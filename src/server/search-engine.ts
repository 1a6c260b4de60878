/**
 * The real {@link RunEngine}: SearchRun for running, storage for reading and watching, and the
 * evaluator a run asks for, opened through the placement layer (src/placement/placement.ts). The real evaluator (tfjs) is loaded by dynamic import only when a run needs it, so a
 * server that only shows runs or runs surrogate searches never loads TensorFlow.js.
 */
import { InputError } from '../core/errors.js';
import type { WorkersReport } from '../core/workers.js';
import {
  everyCore,
  generationSizeOf,
  openEvaluator,
  type Placement,
  type RunEvaluator,
} from '../placement/placement.js';
import { searchConfigSchema, type SearchConfig } from '../core/search-config.js';
import { resolveNamedDataDir } from '../evaluator/datasets/locate.js';
import { SearchRun } from '../runner/search-run.js';
import type { RunStorage } from '../store/run-storage.js';
import { FileRunStorage } from '../store/file-run-storage.js';
import { HttpError } from './http-errors.js';
import type { LiveSearchRun, RetireAction, RunEngine } from './run-manager.js';
import { retireRunFolder } from './run-archive.js';
import { parseOrThrow, RequestValidationError } from './validation.js';
import { loadRealEvaluate } from '../placement/load-real-evaluator.js';

export interface SearchEngineOptions {
  readonly runsDir: string;
  /** Storage of the runs in `runsDir` (default: the runs folder's own). */
  readonly storage?: RunStorage;
  /**
   * Where the real evaluations of every run go (serve --workers/--queue), opened through the
   * placement layer with the first real run. Default: every core (a local pool, so training never
   * blocks the API and the live feed, and a worker that dies is replaced).
   */
  readonly placement?: Placement;
  /** An evaluator opened already (serve --queue reaches Redis at start; tests); used as is. */
  readonly evaluator?: RunEvaluator;
}

export { loadRealEvaluate };

export function createSearchEngine(options: SearchEngineOptions): RunEngine {
  const storage = options.storage ?? new FileRunStorage(options.runsDir);
  const placement = options.placement ?? everyCore();
  let opened: Promise<RunEvaluator> | undefined = options.evaluator
    ? Promise.resolve(options.evaluator)
    : undefined;
  let evaluator: RunEvaluator | undefined = options.evaluator;
  const workers = async (): Promise<WorkersReport> => {
    if (evaluator) return evaluator.workers();
    return {
      placement: placement.queue !== undefined ? 'queue' : 'pool',
      description:
        placement.queue !== undefined
          ? 'evaluations go to the queue, reached with the first real run'
          : `evaluations run in ${placement.workers ?? 1} worker thread${placement.workers === 1 ? '' : 's'}, started with the first real run`,
      workers: [],
      waiting: 0,
      active: 0,
      at: new Date().toISOString(),
    };
  };
  /** The evaluator for a run with `config`, and how many of its evaluations to keep in flight. */
  const evaluateFor = async (
    config: SearchConfig,
  ): Promise<{ evaluate: RunEvaluator['evaluate']; concurrency: number } | undefined> => {
    if (config.evaluator !== 'real') return undefined; // SearchRun uses its own surrogate
    opened ??= openEvaluator(placement).then(
      (e) => (evaluator = e),
      (err: unknown) => {
        opened = undefined;
        const message = err instanceof Error ? err.message : String(err);
        throw new HttpError(503, `the real evaluator cannot be loaded: ${message}`);
      },
    );
    const e = await opened;
    // A pool or a queue: a whole generation in flight, so every free worker finds a candidate.
    const concurrency =
      e.placement === 'in-process' ? 1 : Math.max(e.concurrency, generationSizeOf(config));
    return { evaluate: e.evaluate, concurrency };
  };

  return {
    storage,
    workers,
    parseConfig(body: unknown): SearchConfig {
      const config = parseOrThrow(searchConfigSchema, body, 'search config');
      if (config.evaluation.dataDir !== undefined) {
        // A client must not make the server read from a folder of its choosing.
        throw new RequestValidationError('search config', [
          {
            path: 'evaluation.dataDir',
            message: 'the data folder cannot be chosen through the API (the server uses its own)',
          },
        ]);
      }
      // Where evaluations run is the server's choice (serve --workers / --queue): a client must not
      // make it (or a later `resume` of the stored config) connect to a Redis of its choosing.
      const placement = (['workers', 'queue'] as const).filter((k) => config[k] !== undefined);
      if (placement.length > 0) {
        throw new RequestValidationError(
          'search config',
          placement.map((k) => ({
            path: k,
            message: `${k} cannot be chosen through the API (the server evaluates as serve --workers/--queue says)`,
          })),
        );
      }
      if (config.evaluator === 'real') {
        // The server's own data folder (ROBUST_NAS_DATA), when it names one, must hold the data set.
        try {
          resolveNamedDataDir(config.evaluation.dataset);
        } catch (err) {
          if (!(err instanceof InputError)) throw err;
          throw new RequestValidationError('search config', [
            { path: 'evaluation.dataset', message: `the server's ${err.message}` },
          ]);
        }
      }
      return config;
    },
    async create(config: SearchConfig): Promise<LiveSearchRun> {
      const placed = await evaluateFor(config);
      return SearchRun.create(config, { storage, ...placed });
    },
    async open(runId: string): Promise<LiveSearchRun> {
      const stored = await storage.read(runId);
      const placed = await evaluateFor(stored.file.config);
      return SearchRun.open(runId, { storage, ...placed });
    },
    async retire(runId: string, how: RetireAction): Promise<void> {
      await retireRunFolder(storage, options.runsDir, runId, how);
    },
    async close() {
      // An evaluator given by the caller is the caller's to close.
      if (!options.evaluator) await evaluator?.close();
      await storage.close();
    },
  };
}
