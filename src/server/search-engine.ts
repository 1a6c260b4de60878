/**
 * The real {@link RunEngine}: SearchRun for running, storage for reading and watching, and the
 * evaluator a run asks for. The real evaluator (tfjs) is loaded by dynamic import only when a run needs it, so a
 * server that only shows runs or runs surrogate searches never loads TensorFlow.js.
 */
import { InputError } from '../core/errors.js';
import type { Evaluate } from '../core/evaluation.js';
import type { WorkersReport } from '../core/workers.js';
import { inProcessWorkers } from '../placement/in-process-workers.js';
import { poolReport } from '../placement/placement.js';
import { searchConfigSchema, type SearchConfig } from '../core/search-config.js';
import { resolveNamedDataDir } from '../evaluator/datasets/locate.js';
import { SearchRun } from '../runner/search-run.js';
import type { RunStorage } from '../store/run-storage.js';
import { FileRunStorage } from '../store/file-run-storage.js';
import { HttpError } from './http-errors.js';
import type { LiveSearchRun, RunEngine } from './run-manager.js';
import { parseOrThrow, RequestValidationError } from './validation.js';
import {
  createPoolEvaluator,
  evaluationWorkerFile,
  type PoolEvaluator,
} from '../placement/worker-pool.js';
import { loadRealEvaluate } from '../placement/load-real-evaluator.js';

export interface SearchEngineOptions {
  readonly runsDir: string;
  /** Storage of the runs in `runsDir` (default: the runs folder's own). */
  readonly storage?: RunStorage;
  /**
   * The real evaluator. Default: `evaluateGenotype` of src/evaluator/evaluate.ts in a pool of one
   * worker thread (so training never blocks the API and the live feed; a thread whose backend
   * crashed is replaced), or in this thread when the compiled worker is not there (not built).
   */
  readonly loadRealEvaluate?: () => Promise<Evaluate>;
  /**
   * How many evaluations of a real run are in flight at once (default 1). With a pool or a queue
   * (serve --workers/--queue), a whole generation, so every free worker finds a candidate.
   */
  readonly concurrencyFor?: (config: SearchConfig) => number;
  /** The workers of `loadRealEvaluate`'s evaluator (serve --workers/--queue). */
  readonly workers?: () => Promise<WorkersReport>;
}

const DEFAULT_POOL = 'evaluations run in 1 worker thread';

export { loadRealEvaluate };

export function createSearchEngine(options: SearchEngineOptions): RunEngine {
  const storage = options.storage ?? new FileRunStorage(options.runsDir);
  let worker: PoolEvaluator | undefined;
  let inProcess: ReturnType<typeof inProcessWorkers> | undefined;
  const load =
    options.loadRealEvaluate ??
    (async () => {
      if (!evaluationWorkerFile()) {
        inProcess ??= inProcessWorkers(await loadRealEvaluate());
        return inProcess.evaluate;
      }
      worker ??= createPoolEvaluator({ size: 1 });
      return worker.evaluate;
    });
  const workers =
    options.workers ??
    (async (): Promise<WorkersReport> => {
      if (inProcess) return inProcess.report('evaluations run in this process, one at a time');
      if (worker) return poolReport(worker, DEFAULT_POOL);
      return {
        placement: options.loadRealEvaluate ? 'in-process' : 'pool',
        description: options.loadRealEvaluate
          ? 'evaluations run in this process'
          : `${DEFAULT_POOL}, started with the first real run`,
        workers: [],
        waiting: 0,
        active: 0,
        at: new Date().toISOString(),
      };
    });
  const concurrencyOf = (config: SearchConfig) => options.concurrencyFor?.(config) ?? 1;
  let real: Promise<Evaluate> | undefined;
  const evaluateFor = async (config: SearchConfig): Promise<Evaluate | undefined> => {
    if (config.evaluator !== 'real') return undefined; // SearchRun uses its own surrogate
    real ??= load().catch((err: unknown) => {
      real = undefined;
      const message = err instanceof Error ? err.message : String(err);
      throw new HttpError(503, `the real evaluator cannot be loaded: ${message}`);
    });
    return real;
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
      const evaluate = await evaluateFor(config);
      return SearchRun.create(config, {
        storage,
        ...(evaluate ? { evaluate, concurrency: concurrencyOf(config) } : {}),
      });
    },
    async open(runId: string): Promise<LiveSearchRun> {
      const stored = await storage.read(runId);
      const evaluate = await evaluateFor(stored.file.config);
      return SearchRun.open(runId, {
        storage,
        ...(evaluate ? { evaluate, concurrency: concurrencyOf(stored.file.config) } : {}),
      });
    },
    async close() {
      await worker?.close();
      await storage.close();
    },
  };
}
