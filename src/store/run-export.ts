/**
 * A run's evaluations as CSV: one row per evaluation, i.e. per (candidate, seed) (`seed_index`: which
 * seed of its genotype), the genotype as JSON in the last column.
 */
import { objectiveLabel } from '../core/objectives.js';
import type { RunData } from './run-catalogue.js';

function cell(v: unknown): string {
  if (v === undefined || v === null) return '';
  const s =
    typeof v === 'string'
      ? v
      : typeof v === 'number' || typeof v === 'boolean'
        ? String(v)
        : JSON.stringify(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function runToCsv(data: RunData): string {
  const attacks = data.config.evaluation.attacks.map((a) => `${a.name}@${a.eps}`);
  const objectives = data.config.objectives.map((o) => `objective:${objectiveLabel(o)}`);
  const header = [
    'index',
    'generation',
    'hash',
    'status',
    'cached',
    ...objectives,
    'clean',
    ...attacks,
    'hrs',
    'params',
    'macs',
    'seconds',
    'backend',
    'surrogate',
    'failure',
    'started_at',
    'finished_at',
    'seed_index',
    'genotype',
  ];
  const rows = data.evaluations.map((r) => {
    const s = r.scores;
    return [
      r.index,
      r.generation,
      r.hash,
      r.status,
      r.cached,
      ...data.config.objectives.map((_, k) => r.objectives?.[k]),
      s?.clean.accuracy,
      ...data.config.evaluation.attacks.map((_, k) => s?.adversarial[k]?.accuracy),
      s?.hrs,
      s?.params,
      s?.macs,
      s?.seconds.total,
      s?.backend,
      s ? s.surrogate === true : undefined,
      r.failure,
      r.startedAt,
      r.finishedAt,
      r.seedIndex ?? 0,
      r.genotype,
    ].map(cell);
  });
  return [header.map(cell), ...rows].map((row) => row.join(',')).join('\n') + '\n';
}
