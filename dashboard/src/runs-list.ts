/** The list of runs with status and progress; a click shows the run. */
import type { RunOverview } from '../../src/core/run-view.js';
import { clear, html } from './dom.js';
import { generationLabel } from '../../src/core/generation-label.js';

export class RunsList {
  constructor(
    private readonly root: HTMLElement,
    private readonly onSelect: (id: string) => void,
  ) {}

  update(runs: readonly RunOverview[], current: string | undefined): void {
    clear(this.root);
    if (runs.length === 0) {
      this.root.append(html('li', { class: 'empty' }, ['No runs yet: start one below.']));
      return;
    }
    for (const run of runs) {
      const planned = Math.max(1, run.plannedEvaluations);
      const fraction = Math.min(1, run.evaluations / planned);
      const li = html(
        'li',
        {
          class: `run${run.id === current ? ' current' : ''}`,
          'data-run-id': run.id,
          'data-status': run.status,
          tabindex: 0,
        },
        [
          html('div', { class: 'run-head' }, [
            html('span', { class: 'run-name' }, [run.name ?? '(no name)']),
            html('span', { class: `badge status-${run.status}` }, [run.status]),
          ]),
          // The whole id, wrapped where it must be (ids are not words: never cut off).
          html('div', { class: 'run-id' }, [run.id]),
          html('div', { class: 'run-meta' }, [
            `${run.strategy} · ${run.evaluator}${run.evaluator === 'surrogate' ? ' (not accuracy)' : ''} · ${generationLabel(Math.min(run.generation, run.generations - 1), run.generations)} · ${run.evaluations}/${run.plannedEvaluations} evaluations`,
          ]),
          html('div', { class: 'bar' }, [
            html('div', { style: `width: ${(fraction * 100).toFixed(1)}%` }),
          ]),
        ],
      );
      li.addEventListener('click', () => this.onSelect(run.id));
      li.addEventListener('keydown', (ev) => {
        if (ev.key === 'Enter') this.onSelect(run.id);
      });
      this.root.append(li);
    }
  }
}
