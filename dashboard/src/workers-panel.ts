/**
 * The Workers panel: where the server's evaluations run, each worker with what it evaluates (run,
 * evaluation index, genotype hash, for how long, its progress) and when it was last heard from,
 * and how many evaluations wait for a worker. Polls GET /api/workers every few seconds while the
 * page is visible (one request at a time).
 */
import { secondsSince, type WorkerStatus, type WorkersReport } from '../../src/core/workers.js';
import { ApiError, getWorkers } from './api.js';
import { clear, html } from './dom.js';
import { duration } from './format.js';

const POLL_MS = 3000;
/** A worker not heard from for this long is marked as silent. */
const SILENT_SECONDS = 20;

export class WorkersPanel {
  private timer: ReturnType<typeof setTimeout> | undefined;
  private last: WorkersReport | undefined;

  constructor(private readonly root: HTMLElement) {}

  /** Starts polling (and refreshes at once when the page becomes visible again). */
  start(): void {
    document.addEventListener('visibilitychange', () => {
      if (!document.hidden) void this.refresh();
    });
    void this.refresh();
  }

  /** The latest report shown (for tests). */
  report(): WorkersReport | undefined {
    return this.last;
  }

  async refresh(): Promise<void> {
    clearTimeout(this.timer);
    try {
      if (!document.hidden) {
        this.last = await getWorkers();
        this.render(this.last);
      }
    } catch (err) {
      const message =
        err instanceof ApiError && err.status === 401
          ? 'the access token is needed to list the workers'
          : `workers unavailable: ${err instanceof Error ? err.message : String(err)}`;
      clear(this.root);
      this.root.append(html('p', { class: 'muted' }, [message]));
    } finally {
      this.timer = setTimeout(() => void this.refresh(), POLL_MS);
    }
  }

  private render(report: WorkersReport): void {
    const now = Date.now();
    clear(this.root);
    const n = report.workers.length;
    // One statement of what exists now: the description says where evaluations go, the count
    // what is running (no "1 worker thread" beside "0 workers").
    const now_ =
      n === 0
        ? `No worker running yet${report.waiting > 0 ? `; ${report.waiting} evaluations waiting` : ''}.`
        : `${n} worker${n === 1 ? '' : 's'} running: ${report.active} evaluating, ${report.waiting} waiting.`;
    this.root.append(
      html('p', { class: 'muted', 'data-testid': 'workers-summary' }, [
        `${report.description.charAt(0).toUpperCase()}${report.description.slice(1)}. ${now_}`,
      ]),
    );
    if (n === 0) return;
    const list = html('ul', { class: 'workers' });
    for (const w of report.workers) list.append(this.workerItem(w, now));
    this.root.append(list);
  }

  private workerItem(w: WorkerStatus, now: number): HTMLElement {
    const seen = secondsSince(w.lastSeen, now);
    const where = [w.host, w.pid === undefined ? undefined : `pid ${w.pid}`]
      .filter((x) => x !== undefined)
      .join(', ');
    const item = html('li', { 'data-worker': w.id, class: seen > SILENT_SECONDS ? 'silent' : '' }, [
      html('strong', {}, [w.name ?? w.id]),
      ` ${where ? `(${where}) ` : ''}`,
      html('span', { class: 'muted' }, [
        `heard from ${duration(seen)} ago · ${w.finished} done${w.backend ? ` · ${w.backend}` : ''}`,
      ]),
    ]);
    if (w.busy.length === 0) {
      item.append(html('div', { class: 'muted' }, ['idle']));
    }
    for (const t of w.busy) {
      const what =
        t.runId !== undefined && t.index !== undefined
          ? `run ${t.runId}, evaluation ${t.index}`
          : 'an evaluation';
      const progress = t.progress
        ? ` · ${t.progress.phase} ${t.progress.done}/${t.progress.total}`
        : '';
      item.append(
        html('div', { class: 'task' }, [
          `${what}${t.hash ? ` (${t.hash.slice(0, 8)})` : ''} for ${duration(secondsSince(t.startedAt, now))}${progress}`,
        ]),
      );
    }
    return item;
  }
}
