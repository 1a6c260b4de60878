/**
 * The Studies panel: the study folders the server lists (GET /api/studies), each with its status
 * (running while a process holds it), its progress (journal lines against the evaluations planned)
 * and, once written, a link to its report. Polls while the page is visible.
 */
import { ApiError, listStudies, openStudyReport, type StudyOverview } from './api.js';
import { clear, html } from './dom.js';

const POLL_MS = 10_000;

export class StudiesPanel {
  private timer: ReturnType<typeof setTimeout> | undefined;
  private last: StudyOverview[] = [];

  constructor(private readonly root: HTMLElement) {}

  start(): void {
    document.addEventListener('visibilitychange', () => {
      if (!document.hidden) void this.refresh();
    });
    void this.refresh();
  }

  async refresh(): Promise<void> {
    clearTimeout(this.timer);
    try {
      if (!document.hidden) {
        this.last = await listStudies();
        this.render(this.last);
      }
    } catch (err) {
      clear(this.root);
      this.root.append(
        html('p', { class: 'muted' }, [
          err instanceof ApiError && err.status === 401
            ? 'the access token is needed to list the studies'
            : `studies unavailable: ${err instanceof Error ? err.message : String(err)}`,
        ]),
      );
    } finally {
      this.timer = setTimeout(() => void this.refresh(), POLL_MS);
    }
  }

  private render(studies: readonly StudyOverview[]): void {
    clear(this.root);
    if (studies.length === 0) {
      this.root.append(
        html('p', { class: 'muted' }, [
          'No study folder found (robust-nas study --out DIR; serve --studies-dir names where to look).',
        ]),
      );
      return;
    }
    const list = html('ul', { class: 'studies' });
    for (const s of studies) {
      const planned = s.planned ?? 0;
      const fraction = planned > 0 ? Math.min(1, s.done / planned) : 0;
      const progress =
        s.status === 'unreadable'
          ? (s.error ?? 'unreadable')
          : `${s.budget ?? '?'} budget · ${(s.datasets ?? []).join(', ')} · ${s.seeds ?? '?'} seeds · ` +
            `${s.done}${planned > 0 ? `/${planned}` : ''} evaluations${s.failed > 0 ? ` (${s.failed} failed)` : ''}`;
      const item = html('li', { class: 'study', 'data-study': s.name, 'data-status': s.status }, [
        html('div', { class: 'run-head' }, [
          html('span', { class: 'run-id', title: s.dir }, [s.name]),
          html(
            'span',
            {
              class: `badge status-${s.status === 'finished' ? 'completed' : s.status === 'stopped' ? 'paused' : s.status}`,
            },
            [s.status],
          ),
        ]),
        html('div', { class: 'run-meta' }, [progress]),
        html('div', { class: 'bar' }, [
          html('div', { style: `width: ${(fraction * 100).toFixed(1)}%` }),
        ]),
      ]);
      if (s.error && s.status !== 'unreadable') {
        item.append(html('div', { class: 'field-error' }, [s.error]));
      }
      if (s.report) {
        const link = html(
          'a',
          {
            href: `/api/studies/${encodeURIComponent(s.name)}/report.html`,
            class: 'report-link',
            target: '_blank',
            rel: 'noopener',
          },
          [s.status === 'running' ? 'report (as far as it got)' : 'report'],
        );
        link.addEventListener('click', (ev) => {
          ev.preventDefault();
          openStudyReport(s.name).catch((err: unknown) => {
            item.append(
              html('div', { class: 'field-error' }, [
                err instanceof Error ? err.message : String(err),
              ]),
            );
          });
        });
        item.append(link);
      }
      list.append(item);
    }
    this.root.append(list);
  }
}
