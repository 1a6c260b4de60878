/**
 * The on-disk format of a run: runs/<runId>/run.json (config, status, checkpoint, generations; lowdb,
 * replaced atomically at status changes and generation boundaries) and runs/<runId>/evaluations.jsonl
 * (one EvaluationRecord per line, appended and fsynced after every evaluation); while a process
 * writes the run, runs/<runId>/run.lock names it (see run-lock.ts).
 */
import { z } from 'zod';
import { RUN_STATUSES } from '../core/run-status.js';

export type { Checkpoint, RunFile, StoredEvaluation } from '../core/records.js';

import { RUN_FORMAT, RUN_FORMAT_VERSION } from '../core/records.js';

export { RUN_FORMAT, RUN_FORMAT_VERSION };
export const RUN_FILE = 'run.json';
export const EVALUATIONS_FILE = 'evaluations.jsonl';

const indexList = z.array(z.number().int().min(0));

export const runFileSchema = z.object({
  format: z.literal(RUN_FORMAT),
  formatVersion: z.number().int().min(1),
  id: z.string(),
  createdAt: z.string(),
  updatedAt: z.string(),
  status: z.enum(RUN_STATUSES),
  pid: z.number().int().optional(),
  host: z.string().optional(),
  message: z.string().optional(),
  config: z.record(z.string(), z.unknown()),
  checkpoint: z.object({
    generation: z.number().int().min(0),
    rngState: z.object({
      i: z.number().int(),
      j: z.number().int(),
      S: z.array(z.number().int()).length(256),
    }),
    evaluationsAtStart: z.number().int().min(0),
    population: indexList,
    rank: z.array(z.number().int().min(0)).optional(),
    crowding: z.array(z.number().nullable()).optional(),
    reference: z.array(z.number()).optional(),
  }),
  generations: z.array(
    z.object({
      generation: z.number().int().min(0),
      population: indexList,
      front: indexList,
      hypervolume: z.number(),
      evaluations: z.number().int().min(0),
    }),
  ),
});

const edgeSchema = z.tuple([z.string(), z.number().int().min(0)]);

/** An accuracy as stored: a fraction in [0, 1] with its standard error and its n (a count). */
export const storedAccuracySchema = z.object({
  accuracy: z.number().min(0).max(1),
  stderr: z.number().min(0).max(1),
  n: z.number().int().min(0),
});

/**
 * The figures a finished evaluation's scores must hold to be shown (a value edited to 7.5 would
 * read as 750 %): clean and adversarial accuracies in [0, 1] with integer counts, the curve's
 * accuracies too. Other fields pass through (they are the evaluator's and may grow).
 */
export const storedScoresSchema = z.looseObject({
  clean: storedAccuracySchema,
  adversarial: z.array(storedAccuracySchema.extend({ attack: z.string(), eps: z.number().min(0) })),
  curve: z
    .array(z.object({ eps: z.number().min(0), accuracy: z.number().min(0).max(1) }))
    .optional(),
  params: z.number().int().min(0),
  macs: z.number().min(0),
});

export const evaluationRecordSchema = z
  .object({
    index: z.number().int().min(0),
    generation: z.number().int().min(0),
    genotype: z.object({
      normal: z.array(edgeSchema),
      normal_concat: z.array(z.number().int()),
      reduce: z.array(edgeSchema),
      reduce_concat: z.array(z.number().int()),
    }),
    hash: z.string(),
    status: z.enum(['finished', 'failed']),
    scores: z.record(z.string(), z.unknown()).optional(),
    objectives: z.array(z.number()).optional(),
    failure: z.string().optional(),
    cached: z.boolean(),
    seed: z.number().int().optional(),
    seedIndex: z.number().int().min(0).optional(),
    startedAt: z.string(),
    finishedAt: z.string(),
  })
  .superRefine((r, ctx) => {
    if (r.status === 'finished') {
      if (!r.scores || !r.objectives) {
        ctx.addIssue({
          code: 'custom',
          message: 'a finished evaluation needs its scores and objectives',
        });
        return;
      }
      const s = storedScoresSchema.safeParse(r.scores);
      for (const issue of s.success ? [] : s.error.issues) {
        ctx.addIssue({ code: 'custom', path: ['scores', ...issue.path], message: issue.message });
      }
      if (r.objectives.some((v) => !Number.isFinite(v))) {
        ctx.addIssue({
          code: 'custom',
          path: ['objectives'],
          message: 'objectives must be finite',
        });
      }
    } else if (r.failure === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['failure'],
        message: 'a failed evaluation needs its reason',
      });
    }
  });
