/**
 * The dashboard's calls to the REST API. A server with an access token wants it on every call (and
 * on the live feed, see live.ts): the dashboard asks for it once, keeps it for the tab's session
 * (sessionStorage) and sends it as `Authorization: Bearer`; a 401 asks again. Changing calls say
 * `Content-Type: application/json` even without a body (the server answers 415 otherwise).
 */
import type { FieldIssue } from '../../src/core/issues.js';
import type { RunOverview } from '../../src/core/run-view.js';
import type { SearchConfig } from '../../src/core/search-config.js';
import type { WorkersReport } from '../../src/core/workers.js';
import type { StudyOverview } from '../../src/core/study-overview.js';

export type { FieldIssue };

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

/** The access token the user gave in this tab, if any. */
export function getToken(): string | undefined {
  return sessionStorage.getItem(TOKEN_KEY) || undefined;
}

function authHeaders(): Record<string, string> {
  const token = getToken();
  return token ? { authorization: `Bearer ${token}` } : {};
}

async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json', ...authHeaders() };
  if (method !== 'GET') headers['content-type'] = 'application/json';
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

/**
 * Downloads a run's CSV export. With a token a plain link cannot authenticate, so the file is
 * fetched with the token and saved from memory.
 */
export async function downloadCsv(id: string): Promise<void> {
  const path = `/api/runs/${encodeURIComponent(id)}/export.csv`;
  const res = await fetch(path, { headers: authHeaders() });
  if (!res.ok) {
    const data = (await res.json().catch(() => ({}))) as { error?: string };
    throw new ApiError(res.status, data.error ?? res.statusText);
  }
  const url = URL.createObjectURL(await res.blob());
  const a = document.createElement('a');
  a.href = url;
  a.download = `${id}.csv`;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** The server's workers and the evaluations waiting for one (GET /api/workers). */
export async function getWorkers(): Promise<WorkersReport> {
  return call<WorkersReport>('GET', '/api/workers');
}

/** GET /api/config: what the start form starts from (see src/server/routes-meta.ts). */
export interface ConfigDefaults {
  readonly defaults: SearchConfig;
  readonly schemaDefaults: SearchConfig;
  readonly realEvaluator: { readonly available: boolean; readonly problem?: string };
  readonly demo?: { readonly text: string; readonly evaluations: number; readonly seconds: number };
}

export async function getConfigDefaults(): Promise<ConfigDefaults> {
  return call<ConfigDefaults>('GET', '/api/config');
}

/** Deletes a run (DELETE) or moves it out of the list (archive); refused (409) while it runs. */
export async function retireRun(id: string, how: 'delete' | 'archive'): Promise<void> {
  const path = `/api/runs/${encodeURIComponent(id)}`;
  await call<unknown>(
    how === 'delete' ? 'DELETE' : 'POST',
    how === 'delete' ? path : `${path}/archive`,
  );
}

/** A front member as GET /api/runs/:id/front gives it. */
export interface FrontRow {
  readonly index: number;
  readonly mean: readonly number[];
  readonly stderr: readonly number[];
  readonly seeds: number;
}

export async function getFront(id: string): Promise<FrontRow[]> {
  return (await call<{ front: FrontRow[] }>('GET', `/api/runs/${encodeURIComponent(id)}/front`))
    .front;
}

export type { StudyOverview };

export async function listStudies(): Promise<StudyOverview[]> {
  return (await call<{ studies: StudyOverview[] }>('GET', '/api/studies')).studies;
}

/** A study's report.html, opened in a new tab (fetched with the token when there is one). */
export async function openStudyReport(name: string): Promise<void> {
  const path = `/api/studies/${encodeURIComponent(name)}/report.html`;
  if (!getToken()) {
    window.open(path, '_blank', 'noopener');
    return;
  }
  const res = await fetch(path, { headers: authHeaders() });
  if (!res.ok) {
    const data = (await res.json().catch(() => ({}))) as { error?: string };
    throw new ApiError(res.status, data.error ?? res.statusText);
  }
  const url = URL.createObjectURL(new Blob([await res.text()], { type: 'text/html' }));
  window.open(url, '_blank', 'noopener');
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}
