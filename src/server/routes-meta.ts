/**
 * GET /api/genotypes (the published cell library) and GET /api/health (public, but without the
 * token of a server that has one it says only `{ok, version}`).
 */
import { Router } from 'express';
import { formatGenotype } from '../core/genotype-format.js';
import { genotypeHash } from '../core/canonical.js';
import { PUBLISHED_GENOTYPES } from '../core/published-genotypes.js';
import { ATTACKS, DATASETS } from '../core/evaluation.js';
import { searchConfigSchema } from '../core/search-config.js';
import { demoConfig, demoEstimate } from './demo.js';

export function genotypesRouter(): Router {
  const router = Router();
  router.get('/', (_req, res) => {
    const genotypes = Object.entries(PUBLISHED_GENOTYPES).map(([name, p]) => ({
      name,
      source: p.source,
      hash: genotypeHash(p.genotype),
      genotype: p.genotype,
      darts: formatGenotype(p.genotype, 'python'),
    }));
    res.json({ genotypes });
  });
  return router;
}

export interface HealthInfo {
  /** Runs this process is executing right now. */
  liveRuns(): number;
  /** Clients subscribed to runs over socket.io. */
  subscriptions(): number;
}

export function healthRouter(info: HealthInfo, version: string): Router {
  const router = Router();
  const startedAt = Date.now();
  router.get('/', (_req, res) => {
    if (res.locals.authorized === false) {
      // A server with a token tells a caller without it only that it is up.
      res.json({ ok: true, version });
      return;
    }
    res.json({
      ok: true,
      version,
      uptimeSeconds: Math.round((Date.now() - startedAt) / 1000),
      liveRuns: info.liveRuns(),
      subscriptions: info.subscriptions(),
    });
  });
  return router;
}

/**
 * GET /api/config: what the dashboard's start form starts from (issue 23). `defaults` is the demo's
 * search config through the same zod schema as the CLI (every field filled, e.g. PGD with the demo's
 * 5 steps, not the schema's silent 10); `schemaDefaults` the schema's own defaults (what `search`
 * uses without flags); `realEvaluator` whether the real evaluator (tfjs) loads here, and why not;
 * `demo` the demo's expected duration (an estimate for an idle 2-core machine).
 */
export function configRouter(realEvaluatorProblem: () => Promise<string | undefined>): Router {
  const router = Router();
  router.get('/', async (_req, res) => {
    const problem = await realEvaluatorProblem();
    res.json({
      defaults: searchConfigSchema.parse(demoConfig('real')),
      schemaDefaults: searchConfigSchema.parse({}),
      realEvaluator: problem === undefined ? { available: true } : { available: false, problem },
      datasets: DATASETS,
      attacks: ATTACKS,
      // The demo's expected duration from the start (the page shows it on a run named 'demo').
      demo: demoEstimate(problem === undefined ? 'real' : 'surrogate'),
    });
  });
  return router;
}
