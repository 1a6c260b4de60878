/**
 * zod schemas for everything a client sends the server (route parameters, query strings, bodies)
 * and the one way the server reports a bad request: 400 with field-level messages.
 */
import { z } from 'zod';
import { fieldIssues, formatIssues, type FieldIssue } from '../core/issues.js';
import { checkRunId } from '../store/errors.js';

/**
 * A run id is a single folder name inside the runs folder, checked by the store's own checkRunId
 * (letters, digits, '_' and '-', at most 64, starting with a letter or digit): anything that could
 * name a path outside the runs folder ('/', '\\', '.', '..', NUL, an empty string) is rejected.
 */
export const runIdSchema = z.string().superRefine((value, ctx) => {
  try {
    checkRunId(value);
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: err instanceof Error ? err.message : String(err) });
  }
});

export const runParamsSchema = z.object({ id: runIdSchema });

/** `?generation=N`: a non-negative integer given as a decimal string. */
export const frontQuerySchema = z.object({
  generation: z
    .string()
    .regex(/^\d{1,9}$/, 'generation must be a non-negative integer')
    .transform(Number)
    .optional(),
});

/** `?from=N&limit=M` on the evaluation list. */
export const evaluationsQuerySchema = z.object({
  from: z
    .string()
    .regex(/^\d{1,9}$/, 'from must be a non-negative integer')
    .transform(Number)
    .optional(),
  limit: z
    .string()
    .regex(/^\d{1,9}$/, 'limit must be a non-negative integer')
    .transform(Number)
    .refine((n) => n >= 1 && n <= 100_000, 'limit must be between 1 and 100000')
    .optional(),
});

/** socket.io `subscribe` message: which run, and the last sequence number already seen (to resume). */
export const subscribeMessageSchema = z.object({
  runId: runIdSchema,
  /** The epoch and sequence number of the last snapshot or event the client applied. */
  epoch: z.string().max(100).optional(),
  lastSeq: z.number().int().min(0).optional(),
});

export const unsubscribeMessageSchema = z.object({ runId: runIdSchema });

export { fieldIssues, type FieldIssue };

/** The JSON body of every 400 response. */
export interface ValidationErrorBody {
  readonly error: string;
  readonly issues: readonly FieldIssue[];
}

/** Thrown by {@link parseOrThrow}; the app's error handler turns it into a 400. */
export class RequestValidationError extends Error {
  override name = 'RequestValidationError';
  constructor(
    readonly what: string,
    readonly issues: readonly FieldIssue[],
  ) {
    super(`invalid ${what}: ${formatIssues(issues, { max: Infinity })}`);
  }

  body(): ValidationErrorBody {
    return { error: `invalid ${this.what}`, issues: this.issues };
  }
}

/** Parses `value` with `schema`, or throws a {@link RequestValidationError} naming `what` was wrong. */
export function parseOrThrow<S extends z.ZodType>(
  schema: S,
  value: unknown,
  what: string,
): z.output<S> {
  const result = schema.safeParse(value);
  if (!result.success) throw new RequestValidationError(what, fieldIssues(result.error));
  return result.data;
}
