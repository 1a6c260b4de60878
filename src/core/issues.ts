/**
 * The one way zod issues become text: a dotted path and zod's message per issue. The CLI prints
 * them on one line, the server returns them field by field, the store names the broken field of a
 * run file. Pure; accepts any error shaped like a ZodError.
 */

/** What is read of a zod error (any ZodError fits). */
export interface IssueSource {
  readonly issues: readonly { readonly path: readonly PropertyKey[]; readonly message: string }[];
}

/** One field-level problem: a dotted path ('' for the whole value) and a message. */
export interface FieldIssue {
  readonly path: string;
  readonly message: string;
}

export interface FormatIssuesOptions {
  /** Prepended to every path, e.g. 'evaluation' for a nested config. */
  readonly prefix?: string;
  /** Issues shown at most (default 3); the rest are counted. */
  readonly max?: number;
}

/** Every issue with its dotted path (prefixed when `prefix` is given). */
export function fieldIssues(error: IssueSource, prefix = ''): FieldIssue[] {
  return error.issues.map((issue) => ({
    path: [prefix, ...issue.path.map(String)].filter((p) => p !== '').join('.'),
    message: issue.message,
  }));
}

/** One issue as text: `path: message`, or the message alone for the whole value. */
export function formatIssue(issue: FieldIssue): string {
  return issue.path === '' ? issue.message : `${issue.path}: ${issue.message}`;
}

/**
 * One line naming the problems: `population: Too small: ...; evaluation.dataset: Invalid option: ...`.
 * Past `max` issues it ends with `(and N more)`.
 */
export function formatIssues(
  error: IssueSource | readonly FieldIssue[],
  options: FormatIssuesOptions = {},
): string {
  const max = options.max ?? 3;
  const all = 'issues' in error ? fieldIssues(error, options.prefix) : error;
  const shown = all.slice(0, Math.max(1, max)).map(formatIssue).join('; ');
  const more = all.length - Math.max(1, max);
  return more > 0 ? `${shown} (and ${more} more)` : shown;
}
