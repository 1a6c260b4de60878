/**
 * /api/runs: list, start, inspect, control and export searches. Every answer is computed from the
 * run's projection with core's functions (the same ones the dashboard uses).
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Router, type Request } from 'express';
import {
  checkSearchMemory,
  memoryLimitMB,
  ResourceLimitError,
} from '../evaluator/memory-estimate.js';
import { isUserDataset } from '../core/evaluation.js';
import { searchConfigSchema } from '../core/search-config.js';
import { datasetFolder } from '../evaluator/datasets/fingerprint.js';
import {
  generationFront,
  viewNoise,
  generationProgress,
  hypervolumeHistory,
  runSummary,
  type RunView,
} from '../core/run-view.js';
import { runToCsv } from '../store/run-export.js';
import { NotFoundError } from './http-errors.js';
import type { RunManager } from './run-manager.js';
import {
  evaluationsQuerySchema,
  frontQuerySchema,
  parseOrThrow,
  RequestValidationError,
  runParamsSchema,
} from './validation.js';

export interface RunsRouterOptions {
  /** Largest estimated memory (MB) of a real search's evaluations; default memoryLimitMB(). */
  readonly maxMemoryMB?: number;
  /**
   * Whether a real search may download its data set into the user cache (serve --download-data).
   * Default false: a POST naming a data set this machine does not hold is refused (a request must
   * not start a 170 MB download on the server).
   */
  readonly downloadData?: boolean;
}

/** A real search on a built-in data set not on this machine, on a server that does not download. */
function checkDataHere(body: unknown, downloadData: boolean): void {
  if (downloadData) return;
  const parsed = searchConfigSchema.safeParse(body);
  if (!parsed.success || parsed.data.evaluator !== 'real') return;
  const e = parsed.data.evaluation;
  if (isUserDataset(e.dataset) || e.dataset === 'synthetic') return;
  // A folder named (the body's dataDir, the server's ROBUST_NAS_DATA) is checked by the engine,
  // which names it; here only the user cache would be downloaded into.
  if (e.dataDir !== undefined || process.env.ROBUST_NAS_DATA) return;
  if (datasetFolder(e.dataset, e.dataDir) !== undefined) return;
  throw new RequestValidationError('search config', [
    {
      path: 'evaluation.dataset',
      message: `${e.dataset} is not on this machine and this server does not download data sets: start it with --download-data, or put the files under ROBUST_NAS_DATA (robust-nas evaluate --dataset ${e.dataset} downloads them from the command line)`,
    },
  ]);
}

/**
 * What POST /api/runs checks before the engine parses the config: the body is a non-empty JSON
 * object (an empty one is a mistake, not a request for a default 200-evaluation search), and a
 * real search's largest network fits the memory limit (400 naming evaluation.channels, layers and
 * batchSize, with the figures).
 */
function checkNewRunBody(body: unknown, maxMemoryMB: number): void {
  const isObject = typeof body === 'object' && body !== null && !Array.isArray(body);
  if (!isObject || Object.keys(body).length === 0) {
    throw new RequestValidationError('search config', [
      {
        path: '',
        message: isObject
          ? 'the body must be a search config: this one is empty (give at least the evaluator, the objectives or the evaluation)'
          : 'the body must be a search config (a JSON object)',
      },
    ]);
  }
  const parsed = searchConfigSchema.safeParse(body);
  if (!parsed.success) return; // the engine reports the config's problems
  try {
    checkSearchMemory(parsed.data, maxMemoryMB);
  } catch (err) {
    if (err instanceof ResourceLimitError) {
      throw new RequestValidationError('search config', err.issues);
    }
    throw err;
  }
}

function runId(req: Request): string {
  return parseOrThrow(runParamsSchema, req.params, 'run id').id;
}

/** The run as `robust-nas export` reads it, for the same CSV. */
function exportCsv(view: RunView): string {
  const {
    generations: _planned,
    evaluations: _count,
    ...summary
  } = runSummary(view.run, view.evaluations.length);
  return runToCsv({
    ...summary,
    objectives: [...summary.objectives],
    config: view.run.config,
    evaluations: [...view.evaluations],
    generations: [...view.run.generations],
    generationsPlanned: view.run.config.generations,
  });
}

export function runsRouter(manager: RunManager, options: RunsRouterOptions = {}): Router {
  const router = Router();
  const maxMemoryMB = options.maxMemoryMB ?? memoryLimitMB();

  router.get('/', async (_req, res) => {
    res.json({ runs: await manager.list() });
  });

  router.post('/', async (req, res) => {
    checkNewRunBody(req.body, maxMemoryMB);
    checkDataHere(req.body, options.downloadData ?? false);
    const run = await manager.start(req.body);
    res.status(201).location(`/api/runs/${run.id}`).json({ run });
  });

  router.get('/:id', async (req, res) => {
    const projection = await manager.require(runId(req));
    const view = projection.view;
    res.json({
      run: projection.overview(),
      config: view.run.config,
      progress: generationProgress(view),
      front: generationFront(view)?.summary.front ?? [],
      hypervolume: hypervolumeHistory(view),
      generations: view.run.generations,
      noise: viewNoise(view),
    });
  });

  router.get('/:id/noise', async (req, res) => {
    const id = runId(req);
    res.json({ runId: id, ...viewNoise((await manager.require(id)).view) });
  });

  router.get('/:id/evaluations', async (req, res) => {
    const id = runId(req);
    const query = parseOrThrow(evaluationsQuerySchema, req.query, 'query');
    const all = (await manager.require(id)).view.evaluations;
    const from = query.from ?? 0;
    const slice = all.filter((e) => e.index >= from).slice(0, query.limit ?? all.length);
    res.json({ runId: id, total: all.length, evaluations: slice });
  });

  router.get('/:id/front', async (req, res) => {
    const id = runId(req);
    const query = parseOrThrow(frontQuerySchema, req.query, 'query');
    const front = generationFront((await manager.require(id)).view, query.generation);
    if (!front) {
      if (query.generation !== undefined) {
        throw new NotFoundError(`run ${id} has no finished generation ${query.generation}`);
      }
      res.json({ runId: id, generation: null, hypervolume: null, front: [] });
      return;
    }
    res.json({
      runId: id,
      generation: front.summary.generation,
      hypervolume: front.summary.hypervolume,
      // Each member: its record (first finished seed) with its seeds, means and standard errors.
      front: front.records.map((r) => {
        const m = front.members.find((x) => x.index === r.index);
        return { ...r, seeds: m?.seeds ?? 0, mean: m?.mean ?? [], stderr: m?.stderr ?? [] };
      }),
    });
  });

  router.post('/:id/pause', async (req, res) => {
    res.json({ run: await manager.pause(runId(req)) });
  });

  router.post('/:id/resume', async (req, res) => {
    res.json({ run: await manager.resume(runId(req)) });
  });

  router.post('/:id/stop', async (req, res) => {
    res.json({ run: await manager.stop(runId(req)) });
  });

  // Deleting or archiving a run that nothing runs (409 for a running one: pause or stop it first).
  router.delete('/:id', async (req, res) => {
    const id = runId(req);
    await manager.retire(id, 'delete');
    res.json({ deleted: id });
  });

  router.post('/:id/archive', async (req, res) => {
    const id = runId(req);
    await manager.retire(id, 'archive');
    res.json({ archived: id });
  });

  /** The folder of a run's validation with its report written, or a 404 saying how to make one. */
  const validationFolder = async (id: string): Promise<string> => {
    await manager.require(id);
    const dir = manager.storage.validationDir?.(id);
    if (!dir || !existsSync(join(dir, 'report.json'))) {
      throw new NotFoundError(
        `run ${id} has no validation report yet (robust-nas validate ${id} writes one)`,
      );
    }
    return dir;
  };

  // `robust-nas validate`'s report.json, as written (validate.ts ValidationReport).
  router.get('/:id/validation', async (req, res) => {
    const dir = await validationFolder(runId(req));
    res.type('application/json; charset=utf-8');
    res.send(await readFile(join(dir, 'report.json'), 'utf8'));
  });

  // Its self-contained report.html, allowed to run no script and load nothing.
  router.get('/:id/validation/report.html', async (req, res) => {
    const dir = await validationFolder(runId(req));
    res.setHeader(
      'Content-Security-Policy',
      "default-src 'none'; style-src 'unsafe-inline'; img-src data:; sandbox",
    );
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.type('text/html; charset=utf-8');
    res.send(await readFile(join(dir, 'report.html'), 'utf8'));
  });

  router.get('/:id/export.csv', async (req, res) => {
    const id = runId(req);
    const { view } = await manager.require(id);
    // The same file as `robust-nas export`, from the run as it is now.
    res.type('text/csv; charset=utf-8').attachment(`${id}.csv`).send(exportCsv(view));
  });

  return router;
}
