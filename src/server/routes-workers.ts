/**
 * GET /api/workers: where the server's evaluations run, each worker with what it evaluates and when
 * it was last heard from, and the evaluations waiting for a worker (core's WorkersReport). Guarded
 * like every API route (Host/Origin, then the token). A queue whose Redis cannot be reached answers
 * 503 with the reason.
 */
import { Router } from 'express';
import { HttpError } from './http-errors.js';
import type { RunManager } from './run-manager.js';

/** A report not ready within this long (a Redis that does not answer) is a 503. */
const REPORT_TIMEOUT_MS = 5000;

export function workersRouter(manager: RunManager): Router {
  const router = Router();
  router.get('/', async (_req, res) => {
    let timer: NodeJS.Timeout | undefined;
    try {
      const late = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`no answer within ${REPORT_TIMEOUT_MS / 1000} s`)),
          REPORT_TIMEOUT_MS,
        );
      });
      res.json(await Promise.race([manager.workers(), late]));
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      throw new HttpError(503, `the workers cannot be listed: ${message}`);
    } finally {
      clearTimeout(timer);
    }
  });
  return router;
}
