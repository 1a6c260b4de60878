/**
 * The form that starts a run. Its fields are what a search config holds (name, data set, network
 * size, training, attack and its steps, seeds and resampling, population, generations), filled from
 * GET /api/config: the demo's settings through the same zod schema as the command line, so nothing
 * is silently different (the demo's 5 PGD steps, not the schema's 10). The evaluator defaults to the
 * real one, the surrogate only where the server cannot load tfjs (and the form says why). It sends
 * the config to POST /api/runs and shows the API's field-level errors next to the fields, so the
 * validation is exactly the server's.
 */
import { ApiError, getConfigDefaults, startRun, type ConfigDefaults } from './api.js';
import type { RunOverview } from '../../src/core/run-view.js';
import { byId, clear, html } from './dom.js';

type Preset = 'clean-adv' | 'clean-adv-params' | 'hrs-params' | 'adv-macs';

/** The objectives of a preset, with the attack and eps of the form. */
export function presetObjectives(preset: string, attack: string, eps: unknown): unknown[] {
  const adversarial = { metric: 'adversarial', attack, eps, direction: 'max' };
  switch (preset as Preset) {
    case 'clean-adv':
      return [{ metric: 'clean', direction: 'max' }, adversarial];
    case 'clean-adv-params':
      return [
        { metric: 'clean', direction: 'max' },
        adversarial,
        { metric: 'params', direction: 'min' },
      ];
    case 'hrs-params':
      return [
        { metric: 'hrs', direction: 'max' },
        { metric: 'params', direction: 'min' },
      ];
    case 'adv-macs':
      return [adversarial, { metric: 'macs', direction: 'min' }];
    default:
      return [{ metric: preset, direction: 'max' }];
  }
}

/** A number field's value: a number when it parses, the raw text otherwise (the API names the problem). */
function numberOrText(input: HTMLInputElement): unknown {
  const raw = input.value.trim();
  if (raw === '') return undefined;
  const n = Number(raw);
  return Number.isFinite(n) ? n : raw;
}

const EVALUATION_FIELDS = ['channels', 'layers', 'epochs', 'trainSize', 'valSize'] as const;

/** Which form field shows an issue at the given config path. */
export function fieldForPath(path: string): string {
  if (path.startsWith('evaluation.dataset')) return 'dataset';
  if (/^evaluation\.attacks\.\d+\.name/.test(path)) return 'attack';
  if (/^evaluation\.attacks\.\d+\.eps/.test(path)) return 'eps';
  if (/^evaluation\.attacks\.\d+\.steps/.test(path)) return 'steps';
  if (/^objectives\.\d+\.eps/.test(path)) return 'eps';
  if (/^objectives\.\d+\.attack/.test(path)) return 'attack';
  if (path.startsWith('objectives')) return 'objectives';
  const evaluation = /^evaluation\.(\w+)/.exec(path)?.[1];
  if (evaluation && (EVALUATION_FIELDS as readonly string[]).includes(evaluation)) {
    return evaluation;
  }
  const resampling = /^resampling\.(initialSeeds|maxSeeds)/.exec(path)?.[1];
  if (resampling) return resampling;
  const top = path.split('.')[0] ?? '';
  return ['population', 'generations', 'seed', 'evaluator', 'name'].includes(top) ? top : 'form';
}

export class RunForm {
  private readonly form: HTMLFormElement;
  private defaults: ConfigDefaults | undefined;

  constructor(private readonly onStarted: (run: RunOverview) => void) {
    this.form = byId<HTMLFormElement>('run-form');
    this.form.addEventListener('input', (ev) => {
      // Editing a field clears its error (and the form-wide one).
      const name = (ev.target as HTMLInputElement).name;
      for (const field of [name, 'form']) {
        const slot = this.form.querySelector(`.field-error[data-for="${field}"]`);
        if (slot) clear(slot);
      }
      (ev.target as HTMLElement).classList.remove('invalid');
    });
    this.form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      void this.submit();
    });
    this.get('evaluator').addEventListener('change', () => this.describeEvaluator());
  }

  private get(name: string): HTMLInputElement | HTMLSelectElement {
    return this.form.elements.namedItem(name) as HTMLInputElement | HTMLSelectElement;
  }

  private set(name: string, value: unknown): void {
    this.get(name).value = value === undefined ? '' : String(value);
  }

  /** Fills the fields from the server's defaults (GET /api/config). */
  async load(): Promise<void> {
    try {
      this.defaults = await getConfigDefaults();
    } catch (err) {
      const message =
        err instanceof ApiError && err.status === 401
          ? 'The access token is needed to read the defaults: enter it at the top.'
          : `cannot read the defaults: ${err instanceof Error ? err.message : String(err)}`;
      byId('form-note').textContent = message;
      return;
    }
    const d = this.defaults.defaults;
    const e = d.evaluation;
    const attack = e.attacks[0]!;
    this.set('name', '');
    this.set('dataset', e.dataset);
    this.set('evaluator', this.defaults.realEvaluator.available ? 'real' : 'surrogate');
    for (const k of EVALUATION_FIELDS) this.set(k, e[k]);
    this.set('attack', attack.name);
    this.set('steps', attack.steps);
    this.set('eps', attack.eps);
    this.set('population', d.population);
    this.set('generations', d.generations);
    this.set('initialSeeds', d.resampling.initialSeeds);
    this.set('maxSeeds', d.resampling.maxSeeds);
    this.set('seed', d.seed);
    const s = this.defaults.schemaDefaults;
    byId('form-note').textContent =
      `Defaults: the demo's settings (${e.channels} channels, ${e.layers} cells, ${e.epochs} epochs on ` +
      `${e.trainSize} images, ${attack.name.toUpperCase()} ${attack.steps} steps at ε=${attack.eps}), through the ` +
      `same schema as the command line (whose own defaults are ${s.evaluation.channels} channels, ` +
      `${s.evaluation.layers} cells, ${s.evaluation.attacks[0]!.steps} PGD steps). Other settings: the schema's defaults.`;
    this.describeEvaluator();
    // (form.dataset would be the select named "dataset": a form exposes its fields by name.)
    this.form.setAttribute('data-loaded', 'true');
  }

  private describeEvaluator(): void {
    const note = byId('evaluator-note');
    const real = this.defaults?.realEvaluator;
    if (this.get('evaluator').value === 'surrogate') {
      note.textContent =
        real && !real.available
          ? `Surrogate: a stand-in computed from the genotype, not accuracies. The real evaluator cannot load on this server: ${real.problem}`
          : 'Surrogate: a stand-in computed from the genotype, not accuracies (instant; for trying the page).';
    } else {
      note.textContent = 'Real: each candidate is trained and attacked (minutes each).';
    }
  }

  /** The config the form describes. */
  config(): Record<string, unknown> {
    const num = (name: string) => numberOrText(this.get(name) as HTMLInputElement);
    const attack = this.get('attack').value;
    const eps = num('eps');
    const evaluator = this.get('evaluator').value;
    const base = this.defaults?.defaults.evaluation;
    const evaluation: Record<string, unknown> = {
      // The demo's other training settings (batch, learning rate...), as the form started from.
      ...(base
        ? {
            batchSize: base.batchSize,
            learningRate: base.learningRate,
            testSize: base.testSize,
          }
        : {}),
      dataset: this.get('dataset').value,
      attacks: [{ name: attack, eps, steps: num('steps'), restarts: 1 }],
    };
    for (const k of EVALUATION_FIELDS) evaluation[k] = num(k);
    const name = this.get('name').value.trim();
    const config: Record<string, unknown> = {
      ...(name ? { name } : {}),
      strategy: 'nsga2',
      population: num('population'),
      generations: num('generations'),
      seed: num('seed'),
      evaluator,
      resampling: { initialSeeds: num('initialSeeds'), maxSeeds: num('maxSeeds') },
      objectives: presetObjectives(this.get('objectives').value, attack, eps),
      evaluation,
    };
    if (evaluator === 'surrogate') config.surrogateDelayMs = 150;
    const drop = (o: Record<string, unknown>) => {
      for (const k of Object.keys(o)) if (o[k] === undefined) delete o[k];
    };
    drop(config);
    drop(evaluation);
    drop(config.resampling as Record<string, unknown>);
    return config;
  }

  private clearErrors(): void {
    this.form.querySelectorAll('.field-error').forEach((el) => clear(el));
    this.form.querySelectorAll('.invalid').forEach((el) => el.classList.remove('invalid'));
  }

  private showError(field: string, message: string): void {
    const slot = this.form.querySelector(`.field-error[data-for="${field}"]`) ?? byId('form-error');
    const shown = Array.from(slot.children).some((c) => c.textContent === message);
    if (!shown) slot.append(html('div', {}, [message]));
    this.form.querySelector(`[name="${field}"]`)?.classList.add('invalid');
  }

  private async submit(): Promise<void> {
    this.clearErrors();
    const button = this.form.querySelector('button[type="submit"]') as HTMLButtonElement;
    button.disabled = true;
    try {
      const run = await startRun(this.config());
      this.onStarted(run);
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) {
        byId('token-box').hidden = false;
        this.showError(
          'form',
          'This server needs an access token to start runs: enter it at the top.',
        );
      } else if (err instanceof ApiError && err.issues.length > 0) {
        for (const issue of err.issues) {
          const field = fieldForPath(issue.path);
          this.showError(
            field,
            field === 'form' && issue.path ? `${issue.path}: ${issue.message}` : issue.message,
          );
        }
      } else {
        this.showError('form', err instanceof Error ? err.message : String(err));
      }
    } finally {
      button.disabled = false;
    }
  }
}
