/** The current Pareto front as a table, sortable by any column; a click selects the candidate. */
import type { EvaluationRecord } from '../../src/core/events.js';
import { clear, html } from './dom.js';
import { compact, score } from './format.js';

type Key = 'index' | 'generation' | 'clean' | 'adversarial' | 'hrs' | 'params' | 'macs';

const COLUMNS: { key: Key; label: string; numeric: boolean }[] = [
  { key: 'index', label: '#', numeric: true },
  { key: 'generation', label: 'gen', numeric: true },
  { key: 'clean', label: 'clean', numeric: true },
  { key: 'adversarial', label: 'adversarial', numeric: true },
  { key: 'hrs', label: 'HRS', numeric: true },
  { key: 'params', label: 'params', numeric: true },
  { key: 'macs', label: 'MACs', numeric: true },
];

function value(r: EvaluationRecord, key: Key): number {
  const s = r.scores;
  switch (key) {
    case 'index':
      return r.index;
    case 'generation':
      return r.generation;
    case 'clean':
      return s?.clean.accuracy ?? NaN;
    case 'adversarial':
      return s?.adversarial[0]?.accuracy ?? NaN;
    case 'hrs':
      return s?.hrs ?? NaN;
    case 'params':
      return s?.params ?? NaN;
    case 'macs':
      return s?.macs ?? NaN;
  }
}

export class FrontTable {
  private sortKey: Key = 'adversarial';
  private descending = true;
  private rows: readonly EvaluationRecord[] = [];
  private selected: number | undefined;
  private surrogate = false;
  private readonly table: HTMLTableElement;

  constructor(
    container: HTMLElement,
    private readonly onSelect: (index: number) => void,
  ) {
    this.table = html('table', { class: 'front-table', id: 'front-table' });
    container.append(this.table);
  }

  update(
    rows: readonly EvaluationRecord[],
    selected: number | undefined,
    surrogate: boolean,
  ): void {
    this.rows = rows;
    this.selected = selected;
    this.surrogate = surrogate;
    this.render();
  }

  private render(): void {
    clear(this.table);
    const head = html('tr');
    for (const c of COLUMNS) {
      const active = c.key === this.sortKey;
      const th = html(
        'th',
        {
          class: `${c.numeric ? 'num' : ''}${active ? ' sorted' : ''}`,
          'data-key': c.key,
          'aria-sort': active ? (this.descending ? 'descending' : 'ascending') : 'none',
          tabindex: 0,
        },
        [c.label + (active ? (this.descending ? ' ▾' : ' ▴') : '')],
      );
      const sort = () => {
        if (this.sortKey === c.key) this.descending = !this.descending;
        else {
          this.sortKey = c.key;
          this.descending = !['index', 'generation', 'params', 'macs'].includes(c.key);
        }
        this.render();
      };
      th.addEventListener('click', sort);
      th.addEventListener('keydown', (ev) => {
        if (ev.key === 'Enter') sort();
      });
      head.append(th);
    }
    this.table.append(html('thead', {}, [head]));
    const body = html('tbody');
    const sign = this.descending ? -1 : 1;
    const sorted = [...this.rows].sort((a, b) => {
      const d = value(a, this.sortKey) - value(b, this.sortKey);
      return (Number.isNaN(d) ? 0 : sign * d) || a.index - b.index;
    });
    for (const r of sorted) {
      const s = r.scores;
      const tr = html(
        'tr',
        { 'data-index': r.index, class: r.index === this.selected ? 'selected' : '' },
        [
          html('td', { class: 'num' }, [String(r.index)]),
          html('td', { class: 'num' }, [String(r.generation)]),
          html('td', { class: 'num' }, [score(s?.clean.accuracy, this.surrogate)]),
          html('td', { class: 'num' }, [score(s?.adversarial[0]?.accuracy, this.surrogate)]),
          html('td', { class: 'num' }, [score(s?.hrs, this.surrogate)]),
          html('td', { class: 'num' }, [compact(s?.params)]),
          html('td', { class: 'num' }, [compact(s?.macs)]),
        ],
      );
      tr.addEventListener('click', () => this.onSelect(r.index));
      body.append(tr);
    }
    if (sorted.length === 0) {
      body.append(
        html('tr', {}, [html('td', { colspan: COLUMNS.length, class: 'empty' }, ['no front yet'])]),
      );
    }
    this.table.append(body);
  }
}
