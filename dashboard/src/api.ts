/** The dashboard's calls to the REST API. */
import type { RunOverview } from '../../src/core/run-view.js';

/** One field-level problem of a 400 answer: a dotted path ('' for the whole value) and a message. */
export interface FieldIssue {
  readonly path: string;
  readonly message: string;
}

const TOKEN_KEY = 'robust-nas-token';

/** An API answer other than 2xx, with the server's message and field-level issues. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly issues: readonly FieldIssue[] = [],
  ) {
    super(message);
  }
}

export function setToken(token: string): void {
  sessionStorage.setItem(TOKEN_KEY, token);
}

async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const token = sessionStorage.getItem(TOKEN_KEY);
  if (token && method !== 'GET') headers.authorization = `Bearer ${token}`;
  const res = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data = (await res.json().catch(() => ({}))) as {
    error?: string;
    issues?: FieldIssue[];
  } & T;
  if (!res.ok) throw new ApiError(res.status, data.error ?? res.statusText, data.issues ?? []);
  return data;
}

export async function listRuns(): Promise<RunOverview[]> {
  return (await call<{ runs: RunOverview[] }>('GET', '/api/runs')).runs;
}

export async function startRun(config: unknown): Promise<RunOverview> {
  return (await call<{ run: RunOverview }>('POST', '/api/runs', config)).run;
}

export async function controlRun(
  id: string,
  action: 'pause' | 'resume' | 'stop',
): Promise<RunOverview> {
  return (await call<{ run: RunOverview }>('POST', `/api/runs/${encodeURIComponent(id)}/${action}`))
    .run;
}
