/**
 * An evaluation job as it travels through the queue: an evaluation task (src/core/evaluation-task.ts:
 * a DARTS genotype, a baseline with its width, or an ensemble with its members' weights in base64)
 * keyed by run and index, as plain serialisable data, checked with zod at
 * both ends (a worker fails a malformed or other-version job with the reason; a coordinator refuses
 * a result it cannot read). The job's result is a pure function of its data, so a job id names an
 * evaluation, and a result found in Redis under that id (with the same data) is the evaluation's.
 */
import { z } from 'zod';
import {
  ATTACKS,
  EvaluationFailure,
  type EvalConfig,
  type EvaluationResult,
  type Scores,
} from '../core/evaluation.js';
import {
  taskFieldsSchema,
  taskShapeProblem,
  type EvaluationTask,
  type NetworkSpec,
} from '../core/evaluation-task.js';

/**
 * The version of the job and result formats below; a worker refuses any other. Version 2: the job
 * carries an evaluation task (`members`, `memberWeights`) where version 1 carried one `genotype`.
 */
export const JOB_FORMAT_VERSION = 2;

/** The queue's default name (one queue serves every run; job ids keep runs apart). */
export const DEFAULT_QUEUE_NAME = 'robust-nas-evaluations';

/** How a worker fails a job its coordinator cancelled (a coordinator that asks again re-queues it). */
export const CANCELLED_REASON = 'cancelled by its coordinator (the run was paused or stopped)';

/**
 * A job's data larger than this (its JSON) is refused unread: a genotype and its config take a few
 * kilobytes; anything near this is not a job a coordinator sent.
 */
export const MAX_JOB_BYTES = 64 * 1024;

/** An ensemble job's member weights (base64) larger than this in all are refused unread. */
export const MAX_MEMBER_WEIGHTS_BYTES = 64 * 1024 * 1024;

/** Trained weights larger than this are not sent through Redis (the job fails saying so). */
export const MAX_RESULT_WEIGHTS_BYTES = 128 * 1024 * 1024;

export const evaluationJobSchema = taskFieldsSchema
  .extend({
    formatVersion: z.literal(JOB_FORMAT_VERSION),
    runId: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/, 'must be a run id'),
    index: z.number().int().min(0),
    /** Ensembles: each member's encoded weights, base64. */
    memberWeights: z.array(z.base64()).optional(),
    /** The coordinator's fingerprint of the data set (datasets/fingerprint.ts); a worker compares. */
    dataFingerprint: z.string().max(200).optional(),
  })
  .strict()
  .superRefine((job, ctx) => {
    const problem = taskShapeProblem(job);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  });

export interface EvaluationJob {
  readonly formatVersion: typeof JOB_FORMAT_VERSION;
  readonly runId: string;
  readonly index: number;
  readonly members: readonly NetworkSpec[];
  readonly config: EvalConfig;
  readonly seed: number;
  readonly keepWeights: boolean;
  readonly dataFingerprint?: string;
  readonly memberWeights?: readonly string[];
}

/** The job of `task` as evaluation `index` of run `runId` (weights in base64). */
export function jobOfTask(runId: string, index: number, task: EvaluationTask): EvaluationJob {
  return {
    formatVersion: JOB_FORMAT_VERSION,
    runId,
    index,
    members: task.members,
    config: task.config,
    seed: task.seed,
    keepWeights: task.keepWeights,
    ...(task.memberWeights
      ? {
          memberWeights: task.memberWeights.map((w) =>
            Buffer.from(w.buffer, w.byteOffset, w.byteLength).toString('base64'),
          ),
        }
      : {}),
  };
}

/** The evaluation task a (checked) job carries. */
export function taskOfJob(job: EvaluationJob): EvaluationTask {
  return {
    members: job.members,
    config: job.config,
    seed: job.seed,
    keepWeights: job.keepWeights,
    ...(job.memberWeights
      ? { memberWeights: job.memberWeights.map((w) => new Uint8Array(Buffer.from(w, 'base64'))) }
      : {}),
  };
}

/** The queue's job id of evaluation `index` of run `runId` (BullMQ refuses ':' in custom ids). */
export function jobIdOf(runId: string, index: number): string {
  return `${runId}.${index}`;
}

/**
 * The job's data, or the reason it cannot be run: another format version is named as such (the
 * coordinator and this worker run different versions of robust-nas), anything else names the fields.
 */
export function parseEvaluationJob(data: unknown): EvaluationJob | { readonly problem: string } {
  let bytes: number;
  let weightBytes = 0;
  try {
    // An ensemble's member weights travel with the job: bounded on their own (MAX_MEMBER_WEIGHTS_BYTES);
    // everything else within MAX_JOB_BYTES.
    const weights = (data as { memberWeights?: unknown } | null)?.memberWeights;
    if (Array.isArray(weights)) {
      for (const w of weights) weightBytes += typeof w === 'string' ? w.length : 0;
    }
    bytes = Buffer.byteLength(
      JSON.stringify(
        data !== null && typeof data === 'object' ? { ...data, memberWeights: undefined } : data,
      ) ?? '',
    );
  } catch {
    return { problem: 'malformed job: not JSON data' };
  }
  if (bytes > MAX_JOB_BYTES) {
    return {
      problem: `malformed job: ${bytes} bytes of data, more than a job may hold (${MAX_JOB_BYTES})`,
    };
  }
  if (weightBytes > MAX_MEMBER_WEIGHTS_BYTES) {
    return {
      problem: `malformed job: ${weightBytes} bytes of member weights, more than a job may carry (${MAX_MEMBER_WEIGHTS_BYTES})`,
    };
  }
  const version = (data as { formatVersion?: unknown } | null)?.formatVersion;
  if (version !== JOB_FORMAT_VERSION) {
    return {
      problem:
        typeof version === 'number'
          ? `job format version ${version}, but this worker reads version ${JOB_FORMAT_VERSION} (run the same robust-nas version on the coordinator and the workers)`
          : `malformed job: formatVersion: expected ${JOB_FORMAT_VERSION}, found ${JSON.stringify(version) ?? 'nothing'}`,
    };
  }
  const r = evaluationJobSchema.safeParse(data);
  if (!r.success) {
    const issues = r.error.issues
      .slice(0, 4)
      .map((i) => `${i.path.map(String).join('.') || '(job)'}: ${i.message}`);
    return { problem: `malformed job: ${issues.join('; ')}` };
  }
  // As strictly as the API: a key the schemas do not know (zod drops nested ones) is refused.
  const unknown = unknownKeys(data, r.data);
  if (unknown.length > 0) {
    return {
      problem: `malformed job: unknown field${unknown.length > 1 ? 's' : ''} ${unknown.slice(0, 4).join(', ')}`,
    };
  }
  return r.data as EvaluationJob;
}

/** Paths of the object keys in `input` that the parsed `output` lacks (what zod stripped). */
function unknownKeys(input: unknown, output: unknown, path = ''): string[] {
  if (Array.isArray(input) && Array.isArray(output)) {
    return input.flatMap((v, i) => unknownKeys(v, output[i], `${path}[${i}]`));
  }
  if (
    input === null ||
    typeof input !== 'object' ||
    output === null ||
    typeof output !== 'object'
  ) {
    return [];
  }
  const out = output as Record<string, unknown>;
  return Object.entries(input as Record<string, unknown>).flatMap(([k, v]) => {
    const at = path ? `${path}.${k}` : k;
    if (!(k in out)) return v === undefined ? [] : [at];
    return unknownKeys(v, out[k], at);
  });
}

const accuracySchema = z.object({
  accuracy: z.number().min(0).max(1),
  stderr: z.number().min(0),
  n: z.number().int().min(0),
});

const scoresSchema = z
  .object({
    clean: accuracySchema,
    adversarial: z.array(
      accuracySchema.extend({
        attack: z.enum(ATTACKS),
        eps: z.number(),
        steps: z.number().optional(),
        targets: z.number().optional(),
        queries: z.number().optional(),
      }),
    ),
    hrs: z.number(),
    curve: z.array(z.object({ eps: z.number(), accuracy: z.number() })).optional(),
    curveMean: z.number().optional(),
    worstCase: accuracySchema
      .extend({
        eps: z.number(),
        attacks: z
          .array(z.object({ attack: z.enum(ATTACKS), robustAfter: z.number().min(0).max(1) }))
          .max(16),
        autoAttack: z.boolean(),
        description: z.string().max(2000),
      })
      .optional(),
    params: z.number(),
    macs: z.number(),
    seconds: z.object({ train: z.number(), attack: z.number(), total: z.number() }),
    backend: z.string(),
    surrogate: z.boolean().optional(),
  })
  .loose();

/**
 * What a job returns: the scores (and the weights, base64), or the candidate's own failure (NaN
 * loss, out of memory), which is as much the evaluation's result as scores are. Errors of the
 * environment are not results: they fail the job (BullMQ retries it) instead.
 */
export const jobResultSchema = z.discriminatedUnion('outcome', [
  z.object({
    formatVersion: z.literal(JOB_FORMAT_VERSION),
    outcome: z.literal('scores'),
    scores: scoresSchema,
    weights: z.base64().optional(),
    /** Which worker computed it (for logs; never part of the run). */
    worker: z.string().optional(),
  }),
  z.object({
    formatVersion: z.literal(JOB_FORMAT_VERSION),
    outcome: z.literal('failure'),
    message: z.string(),
    worker: z.string().optional(),
  }),
]);
export type JobResult = z.infer<typeof jobResultSchema>;

/** The job's result for an evaluation that gave scores. */
export function encodeResult(result: EvaluationResult, worker?: string): JobResult {
  if (result.weights && result.weights.byteLength > MAX_RESULT_WEIGHTS_BYTES) {
    throw new Error(
      `the trained weights (${(result.weights.byteLength / 2 ** 20).toFixed(1)} MiB) exceed what a job may return through Redis (${MAX_RESULT_WEIGHTS_BYTES / 2 ** 20} MiB)`,
    );
  }
  return {
    formatVersion: JOB_FORMAT_VERSION,
    outcome: 'scores',
    scores: result.scores as unknown as z.infer<typeof scoresSchema>,
    ...(result.weights
      ? {
          weights: Buffer.from(
            result.weights.buffer,
            result.weights.byteOffset,
            result.weights.byteLength,
          ).toString('base64'),
        }
      : {}),
    ...(worker !== undefined ? { worker } : {}),
  };
}

/** The job's result for a candidate that failed by its own fault. */
export function encodeFailure(error: EvaluationFailure, worker?: string): JobResult {
  return {
    formatVersion: JOB_FORMAT_VERSION,
    outcome: 'failure',
    message: error.message,
    ...(worker !== undefined ? { worker } : {}),
  };
}

/**
 * A job's return value as the evaluator's answer: the result, or an EvaluationFailure for the
 * candidate's own failure. Throws (an error of the environment) when the value cannot be read.
 */
export function decodeResult(jobId: string, value: unknown): EvaluationResult {
  const r = jobResultSchema.safeParse(value);
  if (!r.success) {
    const version = (value as { formatVersion?: unknown } | null)?.formatVersion;
    const why =
      typeof version === 'number' && version !== JOB_FORMAT_VERSION
        ? `it has format version ${version}, this process reads ${JOB_FORMAT_VERSION}`
        : (r.error.issues[0]?.message ?? 'unreadable');
    throw new Error(`the result of job ${jobId} cannot be read: ${why}`);
  }
  const result = r.data;
  if (result.outcome === 'failure') throw new EvaluationFailure(result.message);
  // The scores as the worker wrote them (zod's copy orders keys as its schema does): checked,
  // then stored exactly as an evaluation in this process would store them.
  const scores = (value as { scores: unknown }).scores as Scores;
  if (result.weights === undefined) return { scores };
  // A copy of its own (a small Buffer is a view into Node's shared pool).
  return { scores, weights: new Uint8Array(Buffer.from(result.weights, 'base64')) };
}
