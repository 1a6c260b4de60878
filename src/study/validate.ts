/**
 * `robust-nas validate`: a finished (or paused) search's chosen members, and random control genotypes
 * from the same search space, re-trained with fresh seeds and scored on the test split (by default),
 * optionally under a stronger attack suite; the figures of validation-report.ts say whether the
 * search's ranking holds.
 *
 * Fresh seeds: seed k of a validation is the k-th `seed32()` of the RNG seeded with the string
 * `robust-nas validate <run seed>`. The search draws its seeds from the RNG seeded with the run's
 * numeric seed (and its successors), a different stream, so a validation never reuses a search's
 * training seed except by a 1-in-2^32 coincidence. Every network gets the same seeds (paired design).
 * Controls: sampled uniformly from the run's search space (its nodes and ops) with the RNG seeded
 * `robust-nas validate controls <control seed>`, skipping genotypes already chosen.
 *
 * Resumable like the study: the folder (default `<run folder>/validation`) holds settings.json, an
 * fdatasynced journal and a lock (journal-folder.ts); a rerun with the same settings continues.
 */
import { z } from 'zod';
import { candidateEstimates, frontMembers } from '../core/candidates.js';
import { genotypeHash } from '../core/canonical.js';
import { InputError } from '../core/errors.js';
import { formatIssues } from '../core/issues.js';
import {
  EvaluationFailure,
  evalConfigSchema,
  type EvalConfig,
  type EvalProgress,
  type Evaluate,
  type Scores,
} from '../core/evaluation.js';
import type { Genotype } from '../core/genotype.js';
import { validateGenotype } from '../core/genotype-validate.js';
import { objectiveLabel, objectiveValues, type ObjectiveSpec } from '../core/objectives.js';
import { Rng } from '../core/rng.js';
import { sampleGenotype } from '../core/sampling.js';
import type { RunData } from '../store/run-catalogue.js';
import { join } from 'node:path';
import { writeFileAtomic } from '../store/atomic-write.js';
import {
  JournalFolder,
  readFolderEntries,
  readFolderSettings,
  type JournalFolderSpec,
} from './journal-folder.js';
import { robustNasVersion } from './study.js';
import {
  validationFigures,
  type ValidationFigures,
  type ValidationMemberInput,
  type ValidationRole,
} from './validation-report.js';

export const VALIDATION_SUITES = ['pgd', 'strong'] as const;
export type ValidationSuite = (typeof VALIDATION_SUITES)[number];

/** At most this many networks x seeds in one validation (each is a full training run). */
export const MAX_VALIDATION_JOBS = 2000;

export interface ValidateOptions {
  /** 'front' (default): the run's current front; 'all': every candidate; or genotype hashes. */
  readonly members?: 'front' | 'all' | readonly string[];
  /** Random control genotypes (default: as many as members). */
  readonly controls?: number;
  /** Seed of the controls' sampling (default: the run's seed + 1). */
  readonly controlSeed?: number;
  /** Fresh seeds per network (default 3). */
  readonly seeds?: number;
  readonly split?: 'test' | 'val';
  readonly epochs?: number;
  readonly trainSize?: number;
  readonly channels?: number;
  readonly layers?: number;
  readonly suite?: ValidationSuite;
}

const networkSchema = z
  .object({
    hash: z.string().min(1).max(128),
    role: z.enum(['front', 'member', 'control']),
    genotype: z.unknown(),
  })
  .strict();

export const validationSettingsSchema = z
  .object({
    format: z.literal('robust-nas-validation'),
    version: z.literal(1),
    robustNasVersion: z.string(),
    runId: z.string(),
    runCreatedAt: z.string(),
    networks: z.array(networkSchema).min(1).max(MAX_VALIDATION_JOBS),
    controlSeed: z.number().int().min(0),
    seeds: z.array(z.number().int().min(0)).min(1).max(100),
    suite: z.enum(VALIDATION_SUITES),
    evaluation: z.unknown(),
  })
  .strict();
export type ValidationSettings = z.infer<typeof validationSettingsSchema>;

const fraction = z.number().min(0).max(1);
const accuracy = z.object({
  accuracy: fraction,
  stderr: z.number().min(0),
  n: z.number().int().min(1),
});
/** Scores as read back from a validation journal: accuracies in [0, 1], counts positive. */
const storedScoresSchema = z
  .object({
    clean: accuracy,
    adversarial: z.array(
      accuracy.extend({ attack: z.string(), eps: z.number(), steps: z.number().optional() }),
    ),
    hrs: fraction,
    params: z.number().min(0),
    macs: z.number().min(0),
    seconds: z.object({ train: z.number(), attack: z.number(), total: z.number() }),
    backend: z.string(),
  })
  .passthrough();

export const validationEntrySchema = z.union([
  z.object({ id: z.string(), scores: storedScoresSchema }).strict(),
  z.object({ id: z.string(), failed: z.string().max(2000) }).strict(),
]);
export type ValidationEntry = z.infer<typeof validationEntrySchema>;

const SPEC: JournalFolderSpec<ValidationSettings, ValidationEntry> = {
  kind: 'validation',
  option: '--out',
  settingsSchema: validationSettingsSchema,
  entrySchema: validationEntrySchema,
  difference: (a, b) => {
    for (const key of Object.keys(b) as (keyof ValidationSettings)[]) {
      if (key === 'robustNasVersion') continue;
      const x = JSON.stringify(a[key]);
      const y = JSON.stringify(b[key]);
      if (x !== y) {
        const show = (s: string) => (s.length > 80 ? `${s.slice(0, 77)}...` : s);
        return `${key}: the folder has ${show(x)}, this command asks for ${show(y)}`;
      }
    }
    return undefined;
  },
};

/** The fresh seeds of a validation of a run with `runSeed` (see the module comment). */
export function validationSeeds(runSeed: number, count: number): number[] {
  const rng = Rng.fromSeed(`robust-nas validate ${runSeed}`);
  return Array.from({ length: count }, () => rng.seed32());
}

export interface ValidationNetwork {
  readonly hash: string;
  readonly role: ValidationRole;
  readonly genotype: Genotype;
  /** The search's estimate (controls: null). */
  readonly search: {
    readonly mean: number[];
    readonly stderr: number[];
    readonly seeds: number;
  } | null;
}

export interface ValidationPlan {
  readonly settings: ValidationSettings;
  readonly networks: readonly ValidationNetwork[];
  readonly config: EvalConfig;
  readonly objectives: readonly ObjectiveSpec[];
  readonly jobs: readonly ValidationJob[];
}

export interface ValidationJob {
  /** `<hash>/<seed index>` */
  readonly id: string;
  readonly network: number;
  readonly seedIndex: number;
  readonly seed: number;
}

/** The strong suite's attacks at `eps` (the run's first attack stays first). */
export type StrongSuiteConfig = (config: EvalConfig) => EvalConfig;

/** What validate needs of the run, the options and (for --suite strong) how to add the suite. */
export function planValidation(
  run: RunData,
  options: ValidateOptions = {},
  strong?: StrongSuiteConfig,
): ValidationPlan {
  if (run.config.evaluator !== 'real') {
    throw new InputError(
      `run ${run.id} used the surrogate evaluator: there are no trained networks to validate`,
    );
  }
  const objectives = run.config.objectives;
  const estimates = candidateEstimates(run.evaluations, objectives);
  const finished = [...estimates.values()].filter((e) => e.seeds > 0);
  if (finished.length === 0) {
    throw new InputError(`run ${run.id} has no finished evaluation to validate`);
  }
  const lastFront = run.generations.at(-1)?.front;
  const frontHashes = new Set(
    (lastFront ? frontMembers(run.evaluations, objectives, lastFront) : []).map((m) => m.hash),
  );
  const which = options.members ?? 'front';
  let chosen;
  if (which === 'front') {
    if (frontHashes.size === 0) {
      throw new InputError(
        `run ${run.id} has no stored front yet (no generation finished): give --members all or hashes`,
      );
    }
    chosen = finished.filter((e) => frontHashes.has(e.hash));
  } else if (which === 'all') {
    chosen = finished;
  } else {
    chosen = which.map((prefix) => {
      const hits = finished.filter((e) => e.hash.startsWith(prefix));
      if (prefix.length < 4 || hits.length === 0) {
        throw new InputError(
          `--members: no finished candidate of run ${run.id} has hash ${prefix}`,
        );
      }
      if (hits.length > 1) {
        throw new InputError(
          `--members: ${prefix} matches ${hits.length} candidates (give more of the hash)`,
        );
      }
      return hits[0]!;
    });
  }
  const controlCount = options.controls ?? chosen.length;
  const controlSeed = options.controlSeed ?? run.config.seed + 1;
  const seedCount = options.seeds ?? 3;
  if (!Number.isInteger(seedCount) || seedCount < 1 || seedCount > 100) {
    throw new InputError('--seeds must be an integer from 1 to 100');
  }
  if (!Number.isInteger(controlCount) || controlCount < 0 || controlCount > 1000) {
    throw new InputError('--controls must be an integer from 0 to 1000');
  }
  const networks: ValidationNetwork[] = chosen.map((e) => ({
    hash: e.hash,
    role: frontHashes.has(e.hash) ? 'front' : 'member',
    genotype: e.genotype,
    search: { mean: [...e.mean], stderr: [...e.stderr], seeds: e.seeds },
  }));
  const taken = new Set(networks.map((n) => n.hash));
  const rng = Rng.fromSeed(`robust-nas validate controls ${controlSeed}`);
  const sampleOptions = {
    nodes: run.config.nodes,
    ...(run.config.ops ? { ops: run.config.ops } : {}),
  };
  for (let tries = 0; networks.length < chosen.length + controlCount; tries++) {
    if (tries > 100 * (controlCount + 1)) {
      throw new InputError(
        `could not sample ${controlCount} distinct controls from the run's space`,
      );
    }
    const genotype = sampleGenotype(rng, sampleOptions);
    const hash = genotypeHash(genotype);
    if (taken.has(hash)) continue;
    taken.add(hash);
    networks.push({ hash, role: 'control', genotype, search: null });
  }

  let config = evalConfigSchema.parse({
    ...run.config.evaluation,
    split: options.split ?? 'test',
    ...(options.epochs !== undefined ? { epochs: options.epochs } : {}),
    ...(options.trainSize !== undefined ? { trainSize: options.trainSize } : {}),
    ...(options.channels !== undefined ? { channels: options.channels } : {}),
    ...(options.layers !== undefined ? { layers: options.layers } : {}),
  });
  const suite = options.suite ?? 'pgd';
  if (suite === 'strong') {
    if (!strong) throw new InputError('--suite strong is not available in this build');
    config = strong(config);
  }
  const seeds = validationSeeds(run.config.seed, seedCount);
  if (networks.length * seedCount > MAX_VALIDATION_JOBS) {
    throw new InputError(
      `${networks.length} networks x ${seedCount} seeds = ${networks.length * seedCount} trainings: more than ${MAX_VALIDATION_JOBS}`,
    );
  }
  const settings: ValidationSettings = {
    format: 'robust-nas-validation',
    version: 1,
    robustNasVersion: robustNasVersion(),
    runId: run.id,
    runCreatedAt: run.createdAt,
    networks: networks.map((n) => ({ hash: n.hash, role: n.role, genotype: n.genotype })),
    controlSeed,
    seeds,
    suite,
    evaluation: config,
  };
  return planOfSettings(run, settings);
}

/**
 * The plan that stored `settings` describe, with the search's estimates read from `run` (for
 * `--report-only` and for checking a folder against its run).
 */
export function planOfSettings(run: RunData, settings: ValidationSettings): ValidationPlan {
  if (settings.runId !== run.id || settings.runCreatedAt !== run.createdAt) {
    throw new InputError(
      `the validation folder belongs to run ${settings.runId} created ${settings.runCreatedAt}, not to run ${run.id} created ${run.createdAt}`,
    );
  }
  const objectives = run.config.objectives;
  const estimates = candidateEstimates(run.evaluations, objectives);
  const genotypes = networksOfSettings(settings);
  const networks: ValidationNetwork[] = settings.networks.map((n, i) => {
    const e = n.role === 'control' ? undefined : estimates.get(n.hash);
    return {
      hash: n.hash,
      role: n.role,
      genotype: genotypes[i]!,
      search:
        e && e.seeds > 0 ? { mean: [...e.mean], stderr: [...e.stderr], seeds: e.seeds } : null,
    };
  });
  const parsed = evalConfigSchema.safeParse(settings.evaluation);
  if (!parsed.success) {
    throw new InputError(`settings.json evaluation: ${formatIssues(parsed.error)}`);
  }
  const jobs: ValidationJob[] = [];
  networks.forEach((n, network) =>
    settings.seeds.forEach((seed, seedIndex) =>
      jobs.push({ id: `${n.hash}/${seedIndex}`, network, seedIndex, seed }),
    ),
  );
  return { settings, networks, config: parsed.data, objectives, jobs };
}

/** The networks of stored settings (genotypes checked as any genotype read back is). */
export function networksOfSettings(settings: ValidationSettings): Genotype[] {
  return settings.networks.map((n, i) => {
    let g: Genotype;
    try {
      g = validateGenotype(n.genotype);
    } catch (err) {
      throw new InputError(
        `settings.json networks[${i}].genotype: ${err instanceof Error ? err.message : String(err)}`,
      );
    }
    if (genotypeHash(g) !== n.hash) {
      throw new InputError(
        `settings.json networks[${i}]: the genotype does not have hash ${n.hash}`,
      );
    }
    return g;
  });
}

export interface ValidationProgress {
  readonly done: number;
  readonly total: number;
  /** The job that just finished, or undefined for the first call (what was already done). */
  readonly finished?: { readonly id: string; readonly failed?: string };
  /** Progress of a job in flight. */
  readonly job?: { readonly id: string; readonly progress: EvalProgress };
}

/**
 * Runs the plan's jobs not yet in the folder at `dir` (creating it), at most `concurrency` at once,
 * each recorded as it finishes. A candidate's own failure (EvaluationFailure) is recorded as failed;
 * any other error (an environment fault) stops the validation and is thrown: nothing is recorded for
 * it, and a rerun continues.
 */
export async function runValidation(
  plan: ValidationPlan,
  dir: string,
  evaluator: { readonly evaluate: Evaluate; readonly concurrency: number },
  onProgress?: (p: ValidationProgress) => void,
  signal?: AbortSignal,
): Promise<Map<string, ValidationEntry>> {
  const folder = await JournalFolder.open(dir, plan.settings, SPEC);
  try {
    const done = folder.entries();
    const todo = plan.jobs.filter((j) => !done.has(j.id));
    let finished = plan.jobs.length - todo.length;
    onProgress?.({ done: finished, total: plan.jobs.length });
    let next = 0;
    let failure: unknown;
    const worker = async () => {
      while (failure === undefined && next < todo.length) {
        signal?.throwIfAborted();
        const job = todo[next++]!;
        const network = plan.networks[job.network]!;
        let entry: ValidationEntry;
        try {
          const result = await evaluator.evaluate(
            network.genotype,
            plan.config,
            job.seed,
            (progress) =>
              onProgress?.({
                done: finished,
                total: plan.jobs.length,
                job: { id: job.id, progress },
              }),
            {
              ...(signal ? { signal } : {}),
              job: { runId: `validate-${plan.settings.runId}`, index: plan.jobs.indexOf(job) },
            },
          );
          entry = { id: job.id, scores: result.scores as z.infer<typeof storedScoresSchema> };
          await folder.record(entry);
          await result.release?.();
        } catch (err) {
          if (!(err instanceof EvaluationFailure)) throw err;
          entry = { id: job.id, failed: err.message.slice(0, 2000) };
          await folder.record(entry);
          await err.release?.();
        }
        finished++;
        onProgress?.({
          done: finished,
          total: plan.jobs.length,
          finished: { id: job.id, ...('failed' in entry ? { failed: entry.failed } : {}) },
        });
      }
    };
    const lanes = Array.from(
      { length: Math.max(1, Math.min(evaluator.concurrency, todo.length)) },
      () =>
        worker().catch((err: unknown) => {
          failure ??= err;
        }),
    );
    await Promise.all(lanes);
    if (failure !== undefined) throw failure;
    return new Map(folder.entries());
  } finally {
    await folder.close();
  }
}

export interface ValidationReport {
  readonly format: 'robust-nas-validation-report';
  readonly version: 1;
  readonly runId: string;
  readonly split: 'val' | 'test';
  readonly seeds: readonly number[];
  readonly controlSeed: number;
  readonly suite: ValidationSuite;
  /** What the attacks were, with their budgets (the run's, and the suite's when strong). */
  readonly attacks: readonly { name: string; eps: number; steps?: number; restarts?: number }[];
  /** The strong suite's attacks with their budgets, in the order they ran (after the run's first). */
  readonly suiteAttacks: readonly {
    name: string;
    steps?: number;
    targets?: number;
    queries?: number;
    restarts?: number;
  }[];
  /** True only when APGD-CE, APGD-T, FAB-T and Square all ran at AutoAttack's standard settings. */
  readonly autoAttack: boolean;
  readonly training: {
    readonly epochs: number;
    readonly trainSize: number;
    readonly channels: number;
    readonly layers: number;
    readonly scoredImages: number;
  };
  readonly objectives: (ValidationFigures['objectives'][number] & { readonly label: string })[];
  readonly members: (ValidationFigures['members'][number] & {
    readonly genotype: Genotype;
    readonly failedSeeds: number;
  })[];
  readonly dominanceKept: ValidationFigures['dominanceKept'];
  readonly validatedFront: readonly string[];
  readonly complete: boolean;
}

/** The worst case of the strong suite in a validation's scores (undefined when it did not run). */
function strongAccuracy(scores: Scores): number | undefined {
  return scores.worstCase?.accuracy;
}

/** The report from a plan and its journal entries (missing ones leave the report incomplete). */
export function validationReport(
  plan: ValidationPlan,
  entries: ReadonlyMap<string, ValidationEntry>,
): ValidationReport {
  const seedsCount = plan.settings.seeds.length;
  const inputs: ValidationMemberInput[] = plan.networks.map((n) => {
    const validated: (number[] | null)[] = [];
    const strong: (number | null)[] = [];
    for (let k = 0; k < seedsCount; k++) {
      const e = entries.get(`${n.hash}/${k}`);
      if (e && 'scores' in e) {
        const scores = e.scores as unknown as Scores;
        validated.push(objectiveValues(plan.objectives, scores));
        strong.push(strongAccuracy(scores) ?? null);
      } else {
        validated.push(null);
        strong.push(null);
      }
    }
    return { hash: n.hash, role: n.role, search: n.search, validated, strong };
  });
  const attackedIndex = plan.objectives.findIndex((o) => o.metric === 'adversarial');
  const figures = validationFigures(
    plan.objectives.map((o, k) => ({
      name: objectiveLabel(o),
      direction: o.direction,
      ...(k === attackedIndex ? { attacked: true } : {}),
    })),
    inputs,
  );
  const failedSeeds = (hash: string) =>
    Array.from({ length: seedsCount }, (_, k) => entries.get(`${hash}/${k}`)).filter(
      (e) => e && 'failed' in e,
    ).length;
  const c = plan.config;
  return {
    format: 'robust-nas-validation-report',
    version: 1,
    runId: plan.settings.runId,
    split: c.split,
    seeds: plan.settings.seeds,
    controlSeed: plan.settings.controlSeed,
    suite: plan.settings.suite,
    attacks: c.attacks.map((a) => ({
      name: a.name,
      eps: a.eps,
      steps: a.steps,
      restarts: a.restarts,
    })),
    suiteAttacks: (c.suite ?? []).map((a) => ({ ...a })),
    autoAttack:
      c.suite !== undefined &&
      [...entries.values()].some((e) => 'scores' in e) &&
      [...entries.values()].every(
        (e) => !('scores' in e) || (e.scores as unknown as Scores).worstCase?.autoAttack === true,
      ),
    training: {
      epochs: c.epochs,
      trainSize: c.trainSize,
      channels: c.channels,
      layers: c.layers,
      scoredImages: c.split === 'test' ? c.testSize : c.valSize,
    },
    objectives: figures.objectives.map((o) => ({ ...o, label: o.name })),
    members: figures.members.map((m, i) => ({
      ...m,
      genotype: plan.networks[i]!.genotype,
      failedSeeds: failedSeeds(m.hash),
    })),
    dominanceKept: figures.dominanceKept,
    validatedFront: figures.validatedFront,
    complete: plan.jobs.every((j) => entries.has(j.id)),
  };
}

export const VALIDATION_DIR = 'validation';
export const VALIDATION_REPORT_FILES = ['report.json', 'report.md', 'report.html'] as const;

/** The settings and journal of a validation folder, read without taking its lock or changing it. */
export async function readValidationFolder(
  dir: string,
): Promise<{ settings: ValidationSettings; entries: Map<string, ValidationEntry> }> {
  const settings = await readFolderSettings(dir, SPEC);
  const entries = await readFolderEntries(dir, SPEC, { readOnly: true });
  return { settings, entries };
}

/** Writes report.json, report.md and report.html into `dir` (each atomically). */
export async function writeValidationReport(dir: string, report: ValidationReport): Promise<void> {
  const { validationHtml, validationMarkdown } = await import('./validation-pages.js');
  await writeFileAtomic(join(dir, 'report.json'), `${JSON.stringify(report, null, 2)}\n`);
  await writeFileAtomic(join(dir, 'report.md'), validationMarkdown(report));
  await writeFileAtomic(join(dir, 'report.html'), validationHtml(report));
}
