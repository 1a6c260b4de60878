/**
 * A run's evaluations as CSV (RFC 4180: comma-separated, CRLF line ends, fields with commas, quotes
 * or line breaks quoted), one row per evaluation, with the genotype in DARTS notation.
 */
import { formatGenotype } from '../search/genotype-format.js';
import type { EvaluationRecord } from '../search/events.js';

export function csvField(value: string | number | boolean | undefined): string {
  if (value === undefined) return '';
  const s = String(value);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

interface ObjectiveLabel {
  readonly metric: string;
  readonly attack?: string;
  readonly eps?: number;
}

/** Column name of an objective, e.g. `objective_adversarial_pgd_0.1`. */
function objectiveColumn(o: ObjectiveLabel): string {
  return ['objective', o.metric, o.attack, o.eps].filter((p) => p !== undefined).join('_');
}

export function evaluationsCsv(
  records: readonly EvaluationRecord[],
  objectives: readonly ObjectiveLabel[] = [],
): string {
  const attackColumns = new Map<string, number>();
  for (const r of records) {
    r.scores?.adversarial.forEach((a, i) => {
      const key = `adversarial_${a.attack}_${a.eps}`;
      if (!attackColumns.has(key)) attackColumns.set(key, i);
    });
  }
  const header = [
    'index',
    'generation',
    'status',
    'hash',
    'surrogate',
    'clean',
    ...attackColumns.keys(),
    'hrs',
    'params',
    'macs',
    'seconds',
    ...objectives.map(objectiveColumn),
    'cached',
    'started_at',
    'finished_at',
    'failure',
    'genotype',
  ];
  const rows = records.map((r) => {
    const s = r.scores;
    const adversarial = [...attackColumns.keys()].map((key) => {
      const a = s?.adversarial.find((x) => `adversarial_${x.attack}_${x.eps}` === key);
      return a?.accuracy;
    });
    return [
      r.index,
      r.generation,
      r.status,
      r.hash,
      s ? Boolean(s.surrogate) : undefined,
      s?.clean.accuracy,
      ...adversarial,
      s?.hrs,
      s?.params,
      s?.macs,
      s?.seconds.total,
      ...objectives.map((_, i) => r.objectives?.[i]),
      r.cached,
      r.startedAt,
      r.finishedAt,
      r.failure,
      formatGenotype(r.genotype, 'python'),
    ]
      .map(csvField)
      .join(',');
  });
  return [header.map(csvField).join(','), ...rows].join('\r\n') + '\r\n';
}
