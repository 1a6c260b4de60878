/**
 * The form that starts a run. It sends what the user typed to POST /api/runs and shows the API's
 * field-level errors next to the fields, so the validation is exactly the server's.
 */
import { ApiError, startRun } from './api.js';
import type { RunOverview } from '../../src/core/run-view.js';
import { SMALL_NETWORK } from '../../src/core/small-network.js';
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

/** Which form field shows an issue at the given config path. */
export function fieldForPath(path: string): string {
  if (path.startsWith('evaluation.dataset')) return 'dataset';
  if (/^evaluation\.attacks\.\d+\.name/.test(path)) return 'attack';
  if (/^evaluation\.attacks\.\d+\.eps/.test(path)) return 'eps';
  if (/^objectives\.\d+\.eps/.test(path)) return 'eps';
  if (/^objectives\.\d+\.attack/.test(path)) return 'attack';
  if (path.startsWith('objectives')) return 'objectives';
  const top = path.split('.')[0] ?? '';
  return ['population', 'generations', 'seed', 'evaluator'].includes(top) ? top : 'form';
}

export class RunForm {
  private readonly form: HTMLFormElement;

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
  }

  /** The config the form describes. */
  config(): Record<string, unknown> {
    const f = this.form.elements;
    const get = (name: string) => f.namedItem(name) as HTMLInputElement | HTMLSelectElement;
    const attack = get('attack').value;
    const eps = numberOrText(get('eps') as HTMLInputElement);
    const config: Record<string, unknown> = {
      strategy: 'nsga2',
      population: numberOrText(get('population') as HTMLInputElement),
      generations: numberOrText(get('generations') as HTMLInputElement),
      seed: numberOrText(get('seed') as HTMLInputElement),
      evaluator: get('evaluator').value,
      objectives: presetObjectives(get('objectives').value, attack, eps),
      evaluation: { dataset: get('dataset').value, attacks: [{ name: attack, eps }] },
    };
    if (get('evaluator').value === 'surrogate') config.surrogateDelayMs = 150;
    if (get('evaluator').value === 'real') {
      config.evaluation = { ...SMALL_NETWORK, ...(config.evaluation as object) };
    }
    for (const k of Object.keys(config)) if (config[k] === undefined) delete config[k];
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
