/**
 * Every evaluation of the shown run (one row per seed), with filters (status, generation, at chance,
 * a hash or index text) and sorting by any column; a click selects the candidate. At most ROW_LIMIT
 * rows are put in the page at once (the count says how many match).
 */
import type { EvaluationRecord } from '../../src/core/records.js';
import type { ChanceCheck } from '../../src/core/run-facts.js';
import { clear, html } from './dom.js';
import { compact, score } from './format.js';
import { generationLabel } from '../../src/core/generation-label.js';

const ROW_LIMIT = 300;

interface Column {
  readonly key: string;
  readonly label: string;
  readonly descending: boolean;
  readonly value: (r: EvaluationRecord) => number | string;
  readonly text: (r: EvaluationRecord) => string;
}

export interface EvaluationFilter {
  status: 'all' | 'finished' | 'failed';
  generation: 'all' | number;
  atChance: boolean;
  text: string;
}

export class EvaluationsTable {
  private sortKey = 'index';
  private descending = false;
  readonly filter: EvaluationFilter = {
    status: 'all',
    generation: 'all',
    atChance: false,
    text: '',
  };
  private records: readonly EvaluationRecord[] = [];
  private chance = new Map<string, ChanceCheck>();
  private surrogate = false;
  private attack = 'adversarial';
  private generations = 0;
  private readonly controls: HTMLElement;
  private readonly table: HTMLTableElement;
  private readonly wrap: HTMLElement;
  private lastKey = '';

  constructor(
    private readonly root: HTMLElement,
    private readonly count: HTMLElement,
    private readonly onSelect: (index: number) => void,
  ) {
    this.controls = html('div', { class: 'filters' });
    this.table = html('table', { class: 'front-table evaluations-table', id: 'evaluations-table' });
    this.wrap = html('div', { class: 'table-wrap tall' }, [this.table]);
    root.append(this.controls, this.wrap);
    this.buildControls();
  }

  private buildControls(): void {
    const status = html('select', { name: 'status', 'aria-label': 'status' }, [
      html('option', { value: 'all' }, ['all statuses']),
      html('option', { value: 'finished' }, ['finished']),
      html('option', { value: 'failed' }, ['failed']),
    ]);
    status.addEventListener('change', () => {
      this.filter.status = status.value as EvaluationFilter['status'];
      this.render(true);
    });
    const generation = html('select', { name: 'generation', 'aria-label': 'generation' });
    generation.addEventListener('change', () => {
      this.filter.generation = generation.value === 'all' ? 'all' : Number(generation.value);
      this.render(true);
    });
    const chance = html('input', { type: 'checkbox', name: 'at-chance' });
    chance.addEventListener('change', () => {
      this.filter.atChance = chance.checked;
      this.render(true);
    });
    const text = html('input', {
      type: 'search',
      name: 'text',
      placeholder: '# or hash',
      'aria-label': 'index or hash',
    });
    text.addEventListener('input', () => {
      this.filter.text = text.value.trim().toLowerCase();
      this.render(true);
    });
    this.controls.append(
      status,
      generation,
      html('label', { class: 'check' }, [chance, ' at chance only']),
      text,
    );
  }

  private updateGenerations(): void {
    const select = this.controls.querySelector<HTMLSelectElement>('select[name="generation"]')!;
    const n = Math.max(0, ...this.records.map((r) => r.generation + 1));
    if (n === this.generations && select.options.length > 0) return;
    this.generations = n;
    const value = select.value || 'all';
    clear(select);
    select.append(html('option', { value: 'all' }, ['all generations']));
    for (let g = 0; g < n; g++) select.append(html('option', { value: g }, [generationLabel(g)]));
    select.value = Array.from(select.options).some((o) => o.value === value) ? value : 'all';
  }

  update(
    records: readonly EvaluationRecord[],
    chance: readonly ChanceCheck[],
    surrogate: boolean,
    attack: string,
  ): void {
    const key = `${records.length}:${records.at(-1)?.index}:${surrogate}:${attack}`;
    if (key === this.lastKey && records === this.records) return;
    this.records = records;
    this.chance = new Map(chance.map((c) => [c.hash, c]));
    this.surrogate = surrogate;
    this.attack = attack;
    this.lastKey = key;
    this.updateGenerations();
    this.render(false);
  }

  private columns(): Column[] {
    const s = this.surrogate;
    const acc = (v: number | undefined) => (v === undefined ? NaN : v);
    return [
      {
        key: 'index',
        label: '#',
        descending: false,
        value: (r) => r.index,
        text: (r) => String(r.index),
      },
      {
        key: 'generation',
        label: 'gen',
        descending: false,
        value: (r) => r.generation,
        text: (r) => String(r.generation),
      },
      {
        key: 'seed',
        label: 'seed',
        descending: false,
        value: (r) => r.seedIndex ?? 0,
        text: (r) => String(r.seedIndex ?? 0),
      },
      {
        key: 'status',
        label: 'status',
        descending: false,
        value: (r) => (r.cached ? `${r.status} (cached)` : r.status),
        text: (r) => (r.cached ? `${r.status} (cached)` : r.status),
      },
      {
        key: 'clean',
        label: 'clean',
        descending: true,
        value: (r) => acc(r.scores?.clean.accuracy),
        text: (r) => score(r.scores?.clean.accuracy, s),
      },
      {
        key: 'adversarial',
        label: this.attack,
        descending: true,
        value: (r) => acc(r.scores?.adversarial[0]?.accuracy),
        text: (r) => score(r.scores?.adversarial[0]?.accuracy, s),
      },
      {
        key: 'params',
        label: 'params',
        descending: false,
        value: (r) => acc(r.scores?.params),
        text: (r) => compact(r.scores?.params),
      },
      {
        key: 'seconds',
        label: 's',
        descending: false,
        value: (r) => acc(r.scores?.seconds.total),
        text: (r) => (r.scores ? r.scores.seconds.total.toFixed(1) : '–'),
      },
      {
        key: 'chance',
        label: 'chance?',
        descending: true,
        value: (r) => (this.chance.get(r.hash)?.atChance ? 1 : 0),
        text: (r) => (this.chance.get(r.hash)?.atChance ? 'at chance' : ''),
      },
      {
        key: 'hash',
        label: 'hash',
        descending: false,
        value: (r) => r.hash,
        text: (r) => r.hash.slice(0, 10),
      },
    ];
  }

  private matches(r: EvaluationRecord): boolean {
    const f = this.filter;
    if (f.status !== 'all' && r.status !== f.status) return false;
    if (f.generation !== 'all' && r.generation !== f.generation) return false;
    if (f.atChance && !this.chance.get(r.hash)?.atChance) return false;
    // "#12": evaluation 12; otherwise an index or the start of a genotype hash.
    if (f.text) {
      const index = /^#?(\d+)$/.exec(f.text)?.[1];
      const byIndex = index !== undefined && String(r.index) === index;
      if (!byIndex && (f.text.startsWith('#') || !r.hash.toLowerCase().startsWith(f.text))) {
        return false;
      }
    }
    return true;
  }

  private render(force: boolean): void {
    void force;
    const columns = this.columns();
    clear(this.table);
    const head = html('tr');
    for (const c of columns) {
      const active = c.key === this.sortKey;
      const th = html(
        'th',
        {
          class: active ? 'sorted' : '',
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
        this.render(true);
      };
      th.addEventListener('click', sort);
      th.addEventListener('keydown', (ev) => {
        if (ev.key === 'Enter') sort();
      });
      head.append(th);
    }
    this.table.append(html('thead', {}, [head]));
    const by = columns.find((c) => c.key === this.sortKey) ?? columns[0]!;
    const sign = this.descending ? -1 : 1;
    const rows = this.records.filter((r) => this.matches(r));
    rows.sort((a, b) => {
      const va = by.value(a);
      const vb = by.value(b);
      let d: number;
      if (typeof va === 'number' && typeof vb === 'number') {
        // Missing figures (failed evaluations) last, whichever the direction.
        if (Number.isNaN(va) || Number.isNaN(vb))
          d = Number.isNaN(va) ? (Number.isNaN(vb) ? 0 : 1) : -1;
        else d = sign * (va - vb);
      } else d = sign * String(va).localeCompare(String(vb));
      return d || a.index - b.index;
    });
    const body = html('tbody');
    for (const r of rows.slice(0, ROW_LIMIT)) {
      const tr = html(
        'tr',
        {
          'data-index': r.index,
          class: `${r.status === 'failed' ? 'failed' : ''}${this.chance.get(r.hash)?.atChance ? ' at-chance' : ''}`,
        },
        columns.map((c) =>
          html(
            'td',
            {
              'data-key': c.key,
              'data-value': String(c.value(r)),
              title: c.key === 'hash' ? r.hash : undefined,
            },
            [c.text(r)],
          ),
        ),
      );
      tr.addEventListener('click', () => this.onSelect(r.index));
      body.append(tr);
    }
    if (rows.length === 0) {
      body.append(
        html('tr', {}, [
          html('td', { colspan: columns.length, class: 'empty' }, [
            this.records.length === 0 ? 'no evaluation yet' : 'no evaluation matches the filters',
          ]),
        ]),
      );
    }
    this.table.append(body);
    this.count.textContent =
      rows.length > ROW_LIMIT
        ? `(${rows.length} match of ${this.records.length}; the first ${ROW_LIMIT} shown)`
        : `(${rows.length} of ${this.records.length})`;
  }
}
