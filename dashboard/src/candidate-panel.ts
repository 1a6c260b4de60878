/** The selected candidate: its scores, its normal and reduction cells as DAGs, and its genotype. */
import { formatGenotype } from '../../src/core/genotype-format.js';
import type { EvaluationRecord } from '../../src/core/events.js';
import type { ChanceCheck } from '../../src/core/run-facts.js';
import { drawCell } from './cell-diagram.js';
import { clear, html } from './dom.js';
import { compact, score } from './format.js';
import { generationLabel } from '../../src/core/generation-label.js';

export class CandidatePanel {
  private shown:
    | {
        r: EvaluationRecord | undefined;
        onFront: boolean;
        evidence: string | undefined;
        chance: ChanceCheck | undefined;
      }
    | undefined;

  constructor(private readonly root: HTMLElement) {
    this.show(undefined, false);
  }

  /**
   * Shows a candidate (nothing is redrawn when it is already shown the same way): the scores of its
   * first finished seed (`r`) and `evidence`, its means over its seeds as the front writes them.
   */
  show(
    r: EvaluationRecord | undefined,
    onFront: boolean,
    evidence?: string,
    chance?: ChanceCheck,
  ): void {
    const same = this.shown?.r === r && this.shown?.onFront === onFront;
    if (
      same &&
      this.shown?.evidence === evidence &&
      this.shown?.chance?.atChance === chance?.atChance
    )
      return;
    this.shown = { r, onFront, evidence, chance };
    clear(this.root);
    if (!r) {
      this.root.append(
        html('p', { class: 'hint' }, [
          'Click a point in the scatter or a row of the front to see its cells.',
        ]),
      );
      return;
    }
    const s = r.scores;
    const surrogate = Boolean(s?.surrogate);
    const title = html('h3', {}, [
      `Candidate #${r.index}`,
      html('span', { class: 'muted' }, [
        ` · ${generationLabel(r.generation)}${onFront ? ' · on the front' : ''}`,
      ]),
    ]);
    if (surrogate)
      title.append(html('span', { class: 'badge surrogate' }, ['surrogate scores, not accuracy']));
    if (chance?.atChance)
      title.append(html('span', { class: 'badge chance' }, ['at chance: learned nothing']));
    this.root.append(title);
    if (chance?.atChance) {
      this.root.append(
        html('p', { class: 'chance-note' }, [
          `Clean accuracy ${(chance.clean * 100).toFixed(1)}% ± ${(chance.stderr * 100).toFixed(1)}% ` +
            `(${chance.seeds} seed${chance.seeds === 1 ? '' : 's'}, n = ${chance.n}) is not above chance ` +
            `(${(chance.chance * 100).toFixed(0)}%) by its standard error: its robustness figures mean nothing.`,
        ]),
      );
    }

    const facts: [string, string][] = [];
    if (evidence !== undefined) facts.push(['over its seeds', evidence]);
    if (r.status === 'failed') facts.push(['failed', r.failure ?? 'unknown reason']);
    if (s) {
      const firstSeed = evidence !== undefined ? ' (first seed)' : '';
      facts.push([
        `${surrogate ? 'clean score' : 'clean accuracy'}${firstSeed}`,
        score(s.clean.accuracy, surrogate),
      ]);
      for (const a of s.adversarial) {
        facts.push([
          `${a.attack.toUpperCase()} ε=${a.eps}${surrogate ? ' score' : ''}${firstSeed}`,
          score(a.accuracy, surrogate),
        ]);
      }
      facts.push(['HRS', score(s.hrs, surrogate)]);
      facts.push(['params', compact(s.params)]);
      facts.push(['MACs', compact(s.macs)]);
      facts.push([
        'time',
        `${s.seconds.total.toFixed(1)} s on ${s.backend}${r.cached ? ' (cached)' : ''}`,
      ]);
    }
    // Each label with its value in one grid cell, so the grid can never pair a value with the
    // next label.
    const dl = html('dl', { class: 'scores facts' });
    for (const [k, v] of facts) {
      dl.append(html('div', { class: 'fact' }, [html('dt', {}, [k]), html('dd', {}, [v])]));
    }
    this.root.append(dl);

    const cells = html('div', { class: 'cells' }, [
      html('figure', {}, [
        drawCell(r.genotype.normal, r.genotype.normal_concat, 'normal'),
        html('figcaption', {}, ['normal cell']),
      ]),
      html('figure', {}, [
        drawCell(r.genotype.reduce, r.genotype.reduce_concat, 'reduce'),
        html('figcaption', {}, ['reduction cell']),
      ]),
    ]);
    this.root.append(cells);

    const text = formatGenotype(r.genotype, 'python');
    const code = html('code', { id: 'genotype-text' }, [text]);
    const copy = html('button', { type: 'button', class: 'small', id: 'copy-genotype' }, ['Copy']);
    copy.addEventListener('click', () => {
      void copyText(text, code).then((ok) => {
        copy.textContent = ok ? 'Copied' : 'Select and copy';
        setTimeout(() => (copy.textContent = 'Copy'), 1500);
      });
    });
    this.root.append(
      html('div', { class: 'genotype' }, [
        html('div', { class: 'genotype-head' }, [
          html('span', {}, ['Genotype (DARTS notation)']),
          copy,
        ]),
        html('pre', {}, [code]),
      ]),
    );
  }
}

async function copyText(text: string, fallback: HTMLElement): Promise<boolean> {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    const range = document.createRange();
    range.selectNodeContents(fallback);
    const sel = window.getSelection();
    sel?.removeAllRanges();
    sel?.addRange(range);
    return false;
  }
}
