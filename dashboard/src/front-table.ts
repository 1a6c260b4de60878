/**
 * The current Pareto front as a table: each member's seeds and, per objective of the run, its mean
 * ± one standard error over its seeds; sortable by any column; a click selects the candidate.
 */
import type { FrontMember } from '../../src/core/candidates.js';
import { clear, html } from './dom.js';
import { withError, type ObjectiveAxis } from './objective-axes.js';

interface Column {
  readonly key: string;
  readonly label: string;
  /** Larger first when first sorted by it. */
  readonly descending: boolean;
  readonly value: (m: FrontMember) => number;
  readonly text: (m: FrontMember) => string;
}

function columnsFor(axes: readonly ObjectiveAxis[]): Column[] {
  return [
    {
      key: 'index',
      label: '#',
      descending: false,
      value: (m) => m.index,
      text: (m) => String(m.index),
    },
    {
      key: 'generation',
      label: 'gen',
      descending: false,
      value: (m) => m.generation,
      text: (m) => String(m.generation),
    },
    {
      key: 'seeds',
      label: 'seeds',
      descending: true,
      value: (m) => m.seeds,
      text: (m) => String(m.seeds),
    },
    ...axes.map((a, k): Column => ({
      key: a.key,
      label: `${a.key} (${a.spec.direction})`,
      descending: a.spec.direction === 'max',
      value: (m) => m.mean[k] ?? NaN,
      text: (m) => withError(a, m.mean[k] ?? NaN, m.stderr[k] ?? NaN),
    })),
  ];
}

export class FrontTable {
  private sortKey: string | undefined;
  private descending = true;
  private rows: readonly FrontMember[] = [];
  private columns: Column[] = [];
  private selected: number | undefined;
  private readonly table: HTMLTableElement;

  constructor(
    container: HTMLElement,
    private readonly onSelect: (index: number) => void,
  ) {
    this.table = html('table', { class: 'front-table', id: 'front-table' });
    container.append(this.table);
  }

  update(
    rows: readonly FrontMember[],
    axes: readonly ObjectiveAxis[],
    selected: number | undefined,
  ): void {
    this.rows = rows;
    this.columns = columnsFor(axes);
    if (!this.columns.some((c) => c.key === this.sortKey)) {
      // By default: the last objective, best first.
      const last = this.columns[this.columns.length - 1]!;
      this.sortKey = last.key;
      this.descending = last.descending;
    }
    this.selected = selected;
    this.render();
  }

  private render(): void {
    clear(this.table);
    const head = html('tr');
    for (const c of this.columns) {
      const active = c.key === this.sortKey;
      const th = html(
        'th',
        {
          class: `num${active ? ' sorted' : ''}`,
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
          this.descending = c.descending;
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
    const by = this.columns.find((c) => c.key === this.sortKey);
    const sorted = [...this.rows].sort((a, b) => {
      const d = by ? by.value(a) - by.value(b) : 0;
      return (Number.isNaN(d) ? 0 : sign * d) || a.index - b.index;
    });
    for (const m of sorted) {
      const tr = html(
        'tr',
        { 'data-index': m.index, class: m.index === this.selected ? 'selected' : '' },
        this.columns.map((c) =>
          html('td', { class: 'num', 'data-key': c.key, 'data-value': c.value(m) }, [c.text(m)]),
        ),
      );
      tr.addEventListener('click', () => this.onSelect(m.index));
      body.append(tr);
    }
    if (sorted.length === 0) {
      body.append(
        html('tr', {}, [
          html('td', { colspan: Math.max(1, this.columns.length), class: 'empty' }, [
            'no front yet',
          ]),
        ]),
      );
    }
    this.table.append(body);
  }
}
