/**
 * GET /api/genotypes (the published cell library) and GET /api/health.
 */
import { Router } from 'express';
import { formatGenotype } from '../core/genotype-format.js';
import { genotypeHash } from '../core/canonical.js';
import { PUBLISHED_GENOTYPES } from '../core/published-genotypes.js';

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
