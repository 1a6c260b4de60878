/**
 * The express 5 app: the JSON API under /api and the dashboard's static files. Every request passes
 * the Host/Origin rule (access.ts), then the API's token and the JSON-only rule (auth.ts); JSON in
 * and out; bodies limited in size; bad input answered with 400 and field-level messages, unknown runs with 404,
 * run control in the wrong state with 409, runs whose files cannot be read with 422.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import express, { type NextFunction, type Request, type Response } from 'express';
import { InputError } from '../core/errors.js';
import {
  RunCorruptError,
  RunFormatVersionError,
  RunLockedError,
  RunNotFoundError,
  RunStatusError,
} from '../store/errors.js';
import type { AccessPolicy } from './access.js';
import { requireJsonForChanges, requireToken } from './auth.js';
import { HttpError } from './http-errors.js';
import type { RunManager } from './run-manager.js';
import { configRouter, genotypesRouter, healthRouter } from './routes-meta.js';
import { studiesRouter } from './routes-studies.js';
import type { StudyIndex } from './studies.js';
import { runsRouter } from './routes-runs.js';
import { workersRouter } from './routes-workers.js';
import { RequestValidationError } from './validation.js';

export interface AppOptions {
  readonly manager: RunManager;
  /** When set, every API request (but a bare health check) needs `Authorization: Bearer <token>`. */
  readonly token?: string;
  /** The Host/Origin rule checked on every request first (see access.ts); absent: no check. */
  readonly access?: AccessPolicy;
  /** Largest estimated memory (MB) of a real search's evaluations (POST /api/runs). */
  readonly maxMemoryMB?: number;
  /** Real searches may download their data set (serve --download-data); default false. */
  readonly downloadData?: boolean;
  /** Folder holding index.html and dist/ (app.js, style.css; default: the package's dashboard/). */
  readonly dashboardDir?: string;
  /** Largest JSON body accepted (default 100kb). */
  readonly bodyLimit?: string;
  /** Live subscriptions, for /api/health. */
  readonly subscriptions?: () => number;
  readonly version?: string;
  /** The study folders GET /api/studies lists (absent: none). */
  readonly studies?: StudyIndex;
  /**
   * Why the real evaluator cannot load here (undefined: it loads), for the start form's default
   * evaluator (GET /api/config). Default: it is assumed to load.
   */
  readonly realEvaluatorProblem?: () => Promise<string | undefined>;
}

/** The package's dashboard/ folder, from src/server or dist/server alike. */
export const DEFAULT_DASHBOARD_DIR = fileURLToPath(new URL('../../dashboard', import.meta.url));

export function createApp(options: AppOptions): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('json spaces', 0);

  // Host and Origin first, on everything (dashboard files included), then the API's token, the
  // JSON-only rule of changing requests, and only then the body.
  if (options.access) app.use(options.access.middleware());
  const api = express.Router();
  api.use(requireToken(options.token));
  api.use(requireJsonForChanges());
  api.use(express.json({ limit: options.bodyLimit ?? '100kb', strict: true }));
  api.use(
    '/runs',
    runsRouter(options.manager, {
      ...(options.maxMemoryMB !== undefined ? { maxMemoryMB: options.maxMemoryMB } : {}),
      ...(options.downloadData !== undefined ? { downloadData: options.downloadData } : {}),
    }),
  );
  api.use('/genotypes', genotypesRouter());
  api.use('/config', configRouter(options.realEvaluatorProblem ?? (async () => undefined)));
  api.use('/studies', studiesRouter(options.studies));
  api.use('/workers', workersRouter(options.manager));
  api.use(
    '/health',
    healthRouter(
      {
        liveRuns: () => options.manager.liveCount(),
        subscriptions: options.subscriptions ?? (() => 0),
      },
      options.version ?? '0.1.0',
    ),
  );
  api.use((req, res) => {
    res.status(404).json({ error: `no such endpoint: ${req.method} ${req.originalUrl}` });
  });
  api.use(apiErrorHandler);
  app.use('/api', api);

  const dir = options.dashboardDir ?? DEFAULT_DASHBOARD_DIR;
  app.get('/', (_req, res) => {
    res.sendFile(join(dir, 'index.html'));
  });
  app.use('/dist', express.static(join(dir, 'dist'), { fallthrough: true, index: false }));
  app.get('/dist/app.js', (_req, res) => {
    // Only reached when the bundle was not built.
    res
      .type('application/javascript')
      .send(
        `document.body.textContent = 'The dashboard is not built: run npm run build.';` +
          (existsSync(dir) ? '' : ` /* no dashboard folder at ${JSON.stringify(dir)} */`),
      );
  });
  return app;
}

/**
 * The HTTP status for the store's and the search's errors about a run: a run whose files cannot be
 * read (corrupt, newer format) is 422, a run in a state that forbids the request 409.
 */
function storeErrorStatus(err: unknown): number | undefined {
  if (err instanceof RunNotFoundError) return 404;
  if (err instanceof RunCorruptError || err instanceof RunFormatVersionError) return 422;
  if (err instanceof RunLockedError || err instanceof RunStatusError) return 409;
  if (err instanceof InputError) return 400;
  return undefined;
}

interface BodyParserError extends Error {
  type?: string;
  status?: number;
  limit?: number;
}

function apiErrorHandler(err: unknown, _req: Request, res: Response, next: NextFunction): void {
  if (res.headersSent) {
    next(err);
    return;
  }
  if (err instanceof RequestValidationError) {
    res.status(400).json(err.body());
    return;
  }
  if (err instanceof HttpError) {
    res.status(err.status).json({ error: err.message });
    return;
  }
  const status = storeErrorStatus(err);
  if (status !== undefined) {
    res.status(status).json({ error: (err as Error).message });
    return;
  }
  const e = err as BodyParserError;
  if (e?.type === 'entity.too.large') {
    res.status(413).json({ error: `request body too large (limit ${e.limit} bytes)` });
    return;
  }
  if (e?.type === 'entity.parse.failed') {
    res.status(400).json({
      error: 'invalid JSON body',
      issues: [{ path: '', message: e.message }],
    });
    return;
  }
  if (typeof e?.status === 'number' && e.status >= 400 && e.status < 500) {
    res.status(e.status).json({ error: e.message });
    return;
  }
  const message = err instanceof Error ? err.message : String(err);
  res.status(500).json({ error: `internal error: ${message}` });
}
