/**
 * The configuration of a search run (validated with zod; errors name the field). Stored in the run's
 * directory, so a resumed run continues with exactly the same settings.
 */
import { z } from 'zod';
import { InputError } from './errors.js';
import { formatIssues } from './issues.js';
import { evalConfigSchema, DATASETS, type DatasetName } from './evaluation.js';
import { OPERATIONS } from './genotype.js';
import { DEFAULT_NODES, MAX_NODES } from './sampling.js';
import { DEFAULT_SEARCH_EPS, objectiveSpecSchema, type ObjectiveSpec } from './objectives.js';
import { storedRedisUrlSchema } from './redis-url.js';

/** How two parent genotypes are recombined (see src/search/crossover.ts). */
export const CROSSOVER_MODES = ['node-uniform', 'cell-swap', 'random'] as const;
export type CrossoverMode = (typeof CROSSOVER_MODES)[number];

export const SEARCH_STRATEGIES = ['nsga2', 'random'] as const;

/** Most seeds (training runs) a candidate may be evaluated with. */
export const MAX_SEEDS_PER_CANDIDATE = 32;

/**
 * Repeated evaluation: each new candidate is evaluated with `initialSeeds` seeds; after every
 * generation, each member of the surviving population with fewer than `maxSeeds` seeds gets one more
 * (at the start of the next generation). A candidate's objectives are the means over its seeds.
 */
export const resamplingFields = z
  .object({
    /** Seeds each new candidate is evaluated with. */
    initialSeeds: z.number().int().min(1).max(MAX_SEEDS_PER_CANDIDATE),
    /** Seeds a surviving candidate is evaluated with at most (one more per generation). */
    maxSeeds: z.number().int().min(1).max(MAX_SEEDS_PER_CANDIDATE),
    /**
     * Who gets the next seeds after survival (absent: 'survivors'): every survivor below maxSeeds
     * ('survivors'), or, within `budget` re-evaluations per generation, the candidates (survivors
     * and archive) whose place on the front is still uncertain given their standard errors
     * ('racing': src/search/allocation.ts).
     */
    allocation: z.enum(['survivors', 'racing']).optional(),
    /** 'racing': re-evaluations per generation (default: half the population, rounded up). */
    budget: z.number().int().min(0).max(10_000).optional(),
    /**
     * Common random numbers: the k-th seed of every candidate is the same training seed (drawn
     * from the run's seed), so candidates compared on shared seeds cancel the seed's common effect.
     */
    commonSeeds: z.boolean().optional(),
  })
  .strict();
export const resamplingSchema = resamplingFields.refine((r) => r.maxSeeds >= r.initialSeeds, {
  message: 'maxSeeds must be at least initialSeeds',
  path: ['maxSeeds'],
});
export type Resampling = z.infer<typeof resamplingSchema>;

/** The repeated evaluation of a new run that does not say (the one place these defaults live). */
/**
 * Measured on the default evaluation settings (README, "Noise and the defaults"): PGD accuracy at
 * eps 0.1 is reliable from one seed (ICC 0.88) but clean accuracy's ICC is 0.21, so a front member's
 * mean needs 9 seeds for a reliability of 0.7. Each generation re-evaluates each survivor at most
 * once, so this costs at most one extra evaluation per population member per generation.
 */
export const DEFAULT_RESAMPLING: Resampling = { initialSeeds: 1, maxSeeds: 9 };

/** What a run stored before repeated evaluation existed does: one seed per candidate. */
export const SINGLE_SEED: Resampling = { initialSeeds: 1, maxSeeds: 1 };
export const EVALUATOR_KINDS = ['real', 'surrogate'] as const;

/**
 * The fields of a search config as written by a user (before defaults), without the defaults that
 * depend on other fields: what the CLI builds its options from. Validate with searchConfigSchema.
 */
export const searchConfigObject = z
  .object({
    /** Optional human-readable label (no control characters: it is shown in terminals and pages). */
    name: z
      .string()
      .max(200)
      .regex(/^\P{Cc}*$/u, 'must not contain control characters')
      .optional(),
    strategy: z.enum(SEARCH_STRATEGIES).default('nsga2'),
    /** Population size (mu). */
    population: z.number().int().min(1).max(10_000).default(20),
    /** Offspring per generation (lambda); default: the population size. */
    offspring: z.number().int().min(1).max(10_000).optional(),
    /** Generations, counting the initial population as generation 0. */
    generations: z.number().int().min(1).max(100_000).default(10),
    seed: z
      .number()
      .int()
      .min(0)
      .max(2 ** 32 - 1)
      .default(0),
    /** Intermediate nodes per cell of sampled genotypes. */
    nodes: z.number().int().min(1).max(MAX_NODES).default(DEFAULT_NODES),
    /** Ops that sampling and mutation may use (default: DARTS's primitives without 'none'). */
    ops: z.array(z.enum(OPERATIONS)).min(1).optional(),
    objectives: z.array(objectiveSpecSchema).min(1).max(8),
    evaluator: z.enum(EVALUATOR_KINDS).default('real'),
    evaluation: evalConfigSchema.default(evalConfigSchema.parse({})),
    crossoverProbability: z.number().min(0).max(1).default(0.9),
    crossoverMode: z.enum(CROSSOVER_MODES).default('node-uniform'),
    /** Per-edge mutation probability (default: one edge per genotype on average). */
    mutationProbability: z.number().gt(0).max(1).optional(),
    /** Rounds of redrawing offspring that duplicate the population or each other. */
    maxRedraws: z.number().int().min(0).max(1000).default(20),
    /** Surrogate evaluator only: artificial delay per evaluation, for tests and demos. */
    surrogateDelayMs: z.number().min(0).max(600_000).default(0),
    /**
     * Surrogate evaluator only: sd of a seed-dependent perturbation of its accuracies (seeded by the
     * genotype and the evaluation seed), so that repeated evaluation has noise to average out.
     */
    surrogateNoise: z.number().min(0).max(1).default(0),
    /**
     * Surrogate evaluator only: the noisy test bed (src/evaluator/surrogate.ts SurrogateIcc): seed
     * noise calibrated to these ICCs of clean and adversarial accuracy, `common` the share of it
     * every genotype shares for a seed. Takes the place of surrogateNoise.
     */
    surrogateIcc: z
      .object({
        clean: z.number().gt(0).max(1),
        robust: z.number().gt(0).max(1),
        common: z.number().min(0).max(1).optional(),
      })
      .strict()
      .optional(),
    /** Repeated evaluation (default DEFAULT_RESAMPLING; a stored run without it: one seed each). */
    resampling: resamplingSchema.default(DEFAULT_RESAMPLING),
    /**
     * Where real evaluations run (the stored run does not depend on it): a local pool of this many
     * worker threads; absent (and no `queue`), one at a time in the searching process.
     */
    workers: z.number().int().min(1).max(256).optional(),
    /** Or: the BullMQ queue on this Redis, whose workers (on any machine) take the evaluations. */
    queue: storedRedisUrlSchema.optional(),
  })
  .strict();

export type SearchConfigInput = Omit<z.input<typeof searchConfigObject>, 'objectives'> & {
  objectives?: z.input<typeof objectiveSpecSchema>[];
};

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Fills the defaults that depend on other fields: the objectives (clean + the first attack of the
 * evaluation config, or PGD at the data set's eps), an adversarial objective's missing attack/eps, and, when the evaluation config names no
 * attacks, the attacks the objectives need.
 */
function fillDependentDefaults(raw: unknown): unknown {
  if (!isRecord(raw)) return raw;
  const evaluation = raw.evaluation === undefined ? {} : raw.evaluation;
  if (!isRecord(evaluation)) return raw;
  const dataset = (DATASETS as readonly unknown[]).includes(evaluation.dataset)
    ? (evaluation.dataset as DatasetName)
    : 'mnist';
  // The adversarial objective's default attack: the first one the evaluation config names, else
  // PGD at the data set's search eps.
  const firstAttack =
    Array.isArray(evaluation.attacks) && isRecord(evaluation.attacks[0])
      ? evaluation.attacks[0]
      : undefined;
  const defaultAttack = firstAttack?.name ?? 'pgd';
  const eps = firstAttack?.eps ?? DEFAULT_SEARCH_EPS[dataset];
  const objectives =
    raw.objectives === undefined
      ? [
          { metric: 'clean', direction: 'max' },
          { metric: 'adversarial', attack: defaultAttack, eps, direction: 'max' },
        ]
      : Array.isArray(raw.objectives)
        ? raw.objectives.map((o: unknown) =>
            isRecord(o) && o.metric === 'adversarial'
              ? { ...o, attack: o.attack ?? defaultAttack, eps: o.eps ?? eps }
              : o,
          )
        : raw.objectives;
  let attacks = evaluation.attacks;
  if (attacks === undefined && Array.isArray(objectives)) {
    const wanted = objectives.filter(
      (o: unknown): o is { attack: string; eps: number } =>
        isRecord(o) && o.metric === 'adversarial',
    );
    const unique = wanted.filter(
      (o, i) => wanted.findIndex((p) => p.attack === o.attack && p.eps === o.eps) === i,
    );
    attacks = (unique.length > 0 ? unique : [{ attack: 'pgd', eps }]).map((o) => ({
      name: o.attack,
      eps: o.eps,
    }));
  }
  return { ...raw, objectives, evaluation: { ...evaluation, attacks } };
}

export const searchConfigSchema = z.preprocess(
  fillDependentDefaults,
  searchConfigObject
    .superRefine((c, ctx) => {
      if (c.workers !== undefined && c.queue !== undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['queue'],
          message: 'give either workers (a local pool) or queue (Redis), not both',
        });
      }
      c.objectives.forEach((o: ObjectiveSpec, i) => {
        if (o.metric === 'adversarial') {
          const found = c.evaluation.attacks.some(
            (a) => a.name === o.attack && Math.abs(a.eps - (o.eps ?? NaN)) < 1e-9,
          );
          if (!found) {
            ctx.addIssue({
              code: 'custom',
              path: ['objectives', i],
              message: `${o.attack}@${o.eps} is not among evaluation.attacks`,
            });
          }
        } else if (o.attack !== undefined || o.eps !== undefined) {
          ctx.addIssue({
            code: 'custom',
            path: ['objectives', i],
            message: `attack and eps apply to the 'adversarial' metric only`,
          });
        }
        if (o.metric === 'curve-mean' && c.evaluation.curveEps.length === 0) {
          ctx.addIssue({
            code: 'custom',
            path: ['objectives', i],
            message: `'curve-mean' needs evaluation.curveEps`,
          });
        }
      });
    })
    .transform((c) => ({ ...c, offspring: c.offspring ?? c.population })),
);

export type SearchConfig = z.output<typeof searchConfigSchema>;

/** Validates a search config; InputError naming the field otherwise. */
export function parseSearchConfig(input: unknown, source = 'search config'): SearchConfig {
  const r = searchConfigSchema.safeParse(input);
  if (!r.success) throw new InputError(`invalid ${source}: ${formatIssues(r.error)}`);
  return r.data;
}

/**
 * Evaluations the run will make when it completes: exact with one seed per candidate; with repeated
 * evaluation, the most it can make (every survivor re-evaluated until maxSeeds).
 */
export function plannedEvaluations(c: SearchConfig): number {
  const { initialSeeds, maxSeeds } = c.resampling;
  const reevaluations = maxSeeds > initialSeeds ? c.population : 0;
  return (
    c.population * initialSeeds + (c.generations - 1) * (c.offspring * initialSeeds + reevaluations)
  );
}

/**
 * A stored config as the run was made: a run stored before repeated evaluation existed has no
 * `resampling` and evaluates each candidate once.
 */
export function withStoredResamplingDefault(
  config: Record<string, unknown>,
): Record<string, unknown> {
  return 'resampling' in config ? config : { ...config, resampling: SINGLE_SEED };
}
