/**
 * /api/runs: list, start, inspect, control and export searches.
 */
import { Router, type Request } from 'express';
import { runToCsv } from '../store/run-export.js';
import { NotFoundError } from './http-errors.js';
import type { RunManager } from './run-manager.js';
import {
  evaluationsQuerySchema,
  frontQuerySchema,
  parseOrThrow,
  runParamsSchema,
} from './validation.js';

function runId(req: Request): string {
  return parseOrThrow(runParamsSchema, req.params, 'run id').id;
}

export function runsRouter(manager: RunManager): Router {
  const router = Router();

  router.get('/', async (_req, res) => {
    res.json({ runs: await manager.list() });
  });

  router.post('/', async (req, res) => {
    const run = await manager.start(req.body);
    res.status(201).location(`/api/runs/${run.id}`).json({ run });
  });

  router.get('/:id', async (req, res) => {
    const state = await manager.require(runId(req));
    const snapshot = state.snapshot();
    res.json({
      run: snapshot.run,
      config: snapshot.config,
      progress: snapshot.progress,
      front: snapshot.front,
      hypervolume: snapshot.hypervolume,
      generations: state.generations(),
    });
  });

  router.get('/:id/evaluations', async (req, res) => {
    const id = runId(req);
    const query = parseOrThrow(evaluationsQuerySchema, req.query, 'query');
    const state = await manager.require(id);
    const all = state.evaluations();
    const from = query.from ?? 0;
    const slice = all.filter((e) => e.index >= from).slice(0, query.limit ?? all.length);
    res.json({ runId: id, total: all.length, evaluations: slice });
  });

  router.get('/:id/front', async (req, res) => {
    const id = runId(req);
    const query = parseOrThrow(frontQuerySchema, req.query, 'query');
    const state = await manager.require(id);
    const front = state.front(query.generation);
    if (!front) {
      if (query.generation !== undefined) {
        throw new NotFoundError(`run ${id} has no finished generation ${query.generation}`);
      }
      res.json({ runId: id, generation: null, hypervolume: null, front: [] });
      return;
    }
    const summary = state.generations().find((g) => g.generation === front.generation);
    res.json({
      runId: id,
      generation: front.generation,
      hypervolume: summary?.hypervolume ?? null,
      front: front.records,
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

  router.get('/:id/export.csv', async (req, res) => {
    const id = runId(req);
    const state = await manager.require(id);
    // The same file as `robust-nas export`, from the run as it is now.
    res.type('text/csv; charset=utf-8').attachment(`${id}.csv`).send(runToCsv(state.data()));
  });

  return router;
}
