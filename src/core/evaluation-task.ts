/**
 * One evaluation task: everything the search, the study, `noise` and `validate` ask an evaluator to
 * do, as plain serialisable data (it crosses to a worker process or thread, and through Redis). One
 * network (a DARTS genotype, or a hand-crafted baseline at a width multiplier) trained and attacked,
 * or an ensemble of separately trained members attacked end to end (their logits averaged).
 *
 * Ensembles: the members' trained weights travel with the task (`memberWeights`, one encoded weights
 * file per member, as `robust-nas evaluate --save-weights` writes them), they are not trained again
 * inside it. Why: the members are the very networks whose scores the study records, so the
 * ensemble is measured on those weights; training them again would multiply an ensemble's cost by
 * its size and would only give the same weights on a worker whose backend computes bit for bit as
 * the one that trained them; and a worker on another machine needs no shared folder. The price is
 * the task's size (the study's members weigh well under a megabyte each; the queue bounds a job's
 * payload).
 *
 * Pure: zod and types only. Executed by one function, `runEvaluationTask` (src/evaluator/evaluate.ts).
 */
import { z } from 'zod';
import { genotypeHash } from './canonical.js';
import { InputError } from './errors.js';
import {
  evalConfigSchema,
  type EvalConfig,
  type EvalProgress,
  type EvaluateOptions,
  type EvaluationResult,
} from './evaluation.js';
import { genotypeProblems, validateGenotype } from './genotype-validate.js';
import type { Genotype } from './genotype.js';
import { formatIssues } from './issues.js';

export const BASELINE_ARCHS = ['resnet18', 'vgg16', 'densenet121'] as const;
export type BaselineArch = (typeof BASELINE_ARCHS)[number];

/** What to build: a DARTS genotype (NetworkCIFAR), or a baseline at a width multiplier. */
export type NetworkSpec =
  { readonly genotype: Genotype } | { readonly arch: BaselineArch; readonly width?: number };

/** An ensemble has at most this many members. */
export const MAX_ENSEMBLE_MEMBERS = 16;

export interface EvaluationTask {
  /** One network, or (two or more) the members of an ensemble. */
  readonly members: readonly NetworkSpec[];
  readonly config: EvalConfig;
  readonly seed: number;
  /** Return the trained network's weights (one network only). */
  readonly keepWeights: boolean;
  /** Ensembles: each member's trained weights (encoded weights files), loaded instead of training. */
  readonly memberWeights?: readonly Uint8Array[];
}

/** Runs a task somewhere (this process, a local worker, the queue); rejects as Evaluate does. */
export type RunTask = (
  task: EvaluationTask,
  onProgress?: (p: EvalProgress) => void,
  options?: Omit<EvaluateOptions, 'keepWeights'>,
) => Promise<EvaluationResult>;

/** The task of the search's evaluation function: one DARTS genotype. */
export function genotypeTask(
  genotype: Genotype,
  config: EvalConfig,
  seed: number,
  keepWeights = false,
): EvaluationTask {
  return { members: [{ genotype }], config, seed, keepWeights };
}

/** The genotype of a task that is one DARTS network (no weights to load), else undefined. */
export function singleGenotype(task: EvaluationTask): Genotype | undefined {
  const only = task.members.length === 1 ? task.members[0] : undefined;
  return only && 'genotype' in only && !task.memberWeights ? only.genotype : undefined;
}

/** How a task is named in the workers report: the genotype's hash, or what the task builds. */
export function taskLabel(task: EvaluationTask): string {
  const only = singleGenotype(task);
  if (only) return genotypeHash(only);
  const names = task.members.map((m) => ('genotype' in m ? genotypeHash(m.genotype) : m.arch));
  return names.length === 1 ? names[0]! : `ensemble(${names.join(',')})`;
}

const genotypeSchema = z.unknown().transform((g, ctx): Genotype => {
  const problems = genotypeProblems(g);
  if (problems.length > 0) {
    for (const message of problems) ctx.addIssue({ code: 'custom', message });
    return z.NEVER;
  }
  return validateGenotype(g);
});

const cellSpecSchema = z.object({ genotype: genotypeSchema }).strict();
const baselineSpecSchema = z
  .object({ arch: z.enum(BASELINE_ARCHS), width: z.number().positive().max(64).optional() })
  .strict();

/** A network: `{genotype}` or `{arch, width?}` (the problems named field by field). */
export const networkSpecSchema = z.unknown().transform((v, ctx): NetworkSpec => {
  const cell = v !== null && typeof v === 'object' && 'genotype' in v;
  const r = (cell ? cellSpecSchema : baselineSpecSchema).safeParse(v);
  if (!r.success) {
    for (const issue of r.error.issues) {
      ctx.addIssue({ code: 'custom', message: issue.message, path: issue.path });
    }
    return z.NEVER;
  }
  return r.data as NetworkSpec;
});

/** The fields every form of a task shares (the weights' form differs: bytes here, base64 on Redis). */
export const taskFieldsSchema = z.object({
  members: z.array(networkSpecSchema).min(1).max(MAX_ENSEMBLE_MEMBERS),
  config: evalConfigSchema,
  seed: z
    .number()
    .int()
    .min(0)
    .max(2 ** 32 - 1),
  keepWeights: z.boolean(),
});

/** The rules between fields: weights for ensembles only and one per member; keepWeights for one. */
export function taskShapeProblem(task: {
  readonly members: readonly unknown[];
  readonly keepWeights: boolean;
  readonly memberWeights?: readonly unknown[];
}): string | undefined {
  if (task.members.length > 1 && task.keepWeights) {
    return 'keepWeights: an ensemble returns no weights (one network only)';
  }
  if (task.memberWeights !== undefined && task.memberWeights.length !== task.members.length) {
    return `memberWeights: ${task.memberWeights.length} weights for ${task.members.length} members (one per member)`;
  }
  return undefined;
}

export const evaluationTaskSchema = taskFieldsSchema
  .extend({ memberWeights: z.array(z.instanceof(Uint8Array)).optional() })
  .strict()
  .superRefine((t, ctx) => {
    const problem = taskShapeProblem(t);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  });

/** The task in `data`, checked (defaults of the config filled in); an InputError names the problem. */
export function parseEvaluationTask(data: unknown): EvaluationTask {
  const r = evaluationTaskSchema.safeParse(data);
  if (!r.success) throw new InputError(`invalid evaluation task: ${formatIssues(r.error)}`);
  return r.data as EvaluationTask;
}
