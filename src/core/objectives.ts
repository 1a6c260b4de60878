/**
 * The objectives of a search: which figure of an evaluation's Scores each one reads, whether it is
 * maximised or minimised, and the reference point used for the hypervolume.
 */
import { z } from 'zod';
import { InputError } from './errors.js';
import { ATTACKS, type DatasetName, type Scores } from './evaluation.js';
import type { Direction } from './non-dominated-sort.js';

export const OBJECTIVE_METRICS = [
  'clean',
  'adversarial',
  'hrs',
  'curve-mean',
  'params',
  'macs',
  'seconds',
] as const;
export type ObjectiveMetric = (typeof OBJECTIVE_METRICS)[number];

/**
 * The default PGD budget of a search per data set (pixel units). Mirrors `defaultEps` of
 * src/evaluator/datasets/registry.ts, which src/search may not import.
 */
export const DEFAULT_SEARCH_EPS: Record<DatasetName, number> = {
  mnist: 0.1,
  'fashion-mnist': 0.1,
  cifar10: 2 / 255,
  synthetic: 0.1,
  // The user's own images: the natural-image budget (give --eps for grey digits-like data).
  folder: 2 / 255,
  npz: 2 / 255,
};

export const objectiveSpecSchema = z
  .object({
    metric: z.enum(OBJECTIVE_METRICS),
    direction: z.enum(['max', 'min']),
    /** For 'adversarial': which attack of the evaluation config. */
    attack: z.enum(ATTACKS).optional(),
    /** For 'adversarial': its eps (default: the data set's search default). */
    eps: z.number().min(0).max(1).optional(),
    /** Hypervolume reference value (default: 0 for a maximised accuracy, 1 for a minimised one, else derived). */
    reference: z.number().finite().optional(),
  })
  .strict();
export type ObjectiveSpec = z.infer<typeof objectiveSpecSchema>;

/** True for metrics that live in [0, 1]. */
function isFraction(metric: ObjectiveMetric): boolean {
  return (
    metric === 'clean' || metric === 'adversarial' || metric === 'hrs' || metric === 'curve-mean'
  );
}

/** A short label such as "clean", "pgd@0.1" or "params". */
export function objectiveLabel(o: ObjectiveSpec): string {
  if (o.metric === 'adversarial') return `${o.attack ?? 'pgd'}@${+(o.eps ?? 0).toFixed(6)}`;
  return o.metric;
}

export function objectiveDirections(objectives: readonly ObjectiveSpec[]): Direction[] {
  return objectives.map((o) => o.direction);
}

/** Reads one objective's raw value (not sign-flipped) from an evaluation's scores. */
export function objectiveValue(o: ObjectiveSpec, scores: Scores): number {
  switch (o.metric) {
    case 'clean':
      return scores.clean.accuracy;
    case 'adversarial': {
      const hit = scores.adversarial.find(
        (a) => a.attack === o.attack && Math.abs(a.eps - (o.eps ?? NaN)) < 1e-9,
      );
      if (!hit) throw new Error(`the scores have no ${objectiveLabel(o)} accuracy`);
      return hit.accuracy;
    }
    case 'hrs':
      return scores.hrs;
    case 'curve-mean':
      if (scores.curveMean === undefined) throw new Error('the scores have no robustness curve');
      return scores.curveMean;
    case 'params':
      return scores.params;
    case 'macs':
      return scores.macs;
    case 'seconds':
      return scores.seconds.total;
  }
}

/**
 * The number of images an accuracy objective was measured on (for its binomial error); undefined for
 * figures that are not a fraction of images (HRS, parameters, MACs, seconds).
 */
export function objectiveImages(o: ObjectiveSpec, scores: Scores): number | undefined {
  switch (o.metric) {
    case 'clean':
    case 'curve-mean':
      return scores.clean?.n;
    case 'adversarial':
      return scores.adversarial?.find(
        (a) => a.attack === o.attack && Math.abs(a.eps - (o.eps ?? NaN)) < 1e-9,
      )?.n;
    default:
      return undefined;
  }
}

export function objectiveValues(objectives: readonly ObjectiveSpec[], scores: Scores): number[] {
  return objectives.map((o) => objectiveValue(o, scores));
}

/** Objective values in minimisation form (maximised ones negated), as the engine works. */
export function toMinimisation(objectives: readonly ObjectiveSpec[], values: readonly number[]) {
  return values.map((v, k) => (objectives[k]!.direction === 'max' ? -v : v));
}

/**
 * The hypervolume reference point. Explicit references win; accuracies use 0 (max) or 1 (min);
 * unbounded figures (params, MACs, seconds) use 1.1 times the worst value among `baseline` (the
 * values of the initial population, so the point is fixed for the whole run), or 0 when maximised.
 */
export function referencePoint(
  objectives: readonly ObjectiveSpec[],
  baseline: readonly (readonly number[])[],
): number[] {
  return objectives.map((o, k) => {
    if (o.reference !== undefined) return o.reference;
    if (isFraction(o.metric)) return o.direction === 'max' ? 0 : 1;
    if (o.direction === 'max') return 0;
    const worst = Math.max(0, ...baseline.map((v) => v[k]!).filter(Number.isFinite));
    return worst > 0 ? worst * 1.1 : 1;
  });
}

/**
 * Parses the command line's objective list: comma-separated names `clean`, `pgd` (or any attack,
 * optionally `@eps`), `hrs`, `curve-mean`, `params`, `macs`, `seconds`, each optionally followed by
 * `:max` or `:min` (default: max for accuracies, min for costs).
 */
export function parseObjectiveList(text: string, dataset: DatasetName): ObjectiveSpec[] {
  const items = text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (items.length === 0) throw new InputError('--objectives: expected at least one objective');
  return items.map((item) => {
    const [name = '', dir, extra] = item.split(':');
    if (extra !== undefined || (dir !== undefined && dir !== 'max' && dir !== 'min')) {
      throw new InputError(`--objectives: '${item}' (direction must be ':max' or ':min')`);
    }
    const [metricName = '', epsText, more] = name.split('@');
    if (more !== undefined) throw new InputError(`--objectives: '${item}' has two '@'`);
    if ((ATTACKS as readonly string[]).includes(metricName)) {
      const eps = epsText === undefined ? DEFAULT_SEARCH_EPS[dataset] : Number(epsText);
      if (!Number.isFinite(eps) || eps < 0 || eps > 1) {
        throw new InputError(`--objectives: '${item}' has an invalid eps (expected 0 to 1)`);
      }
      return {
        metric: 'adversarial',
        attack: metricName as ObjectiveSpec['attack'],
        eps,
        direction: (dir ?? 'max') as Direction,
      };
    }
    if (epsText !== undefined)
      throw new InputError(`--objectives: '${item}': only attacks take @eps`);
    const metric = metricName === 'curve' ? 'curve-mean' : metricName;
    if (!(OBJECTIVE_METRICS as readonly string[]).includes(metric) || metric === 'adversarial') {
      throw new InputError(
        `--objectives: unknown objective '${metricName}' (expected clean, ${ATTACKS.join(', ')}, hrs, curve-mean, params, macs, seconds)`,
      );
    }
    const m = metric as ObjectiveMetric;
    return { metric: m, direction: (dir ?? (isFraction(m) ? 'max' : 'min')) as Direction };
  });
}
