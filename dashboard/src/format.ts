/** Number formatting and labels shared by the dashboard's views. */

export function pct(x: number | undefined): string {
  return x === undefined || !Number.isFinite(x) ? '–' : `${(x * 100).toFixed(1)}%`;
}

/** A score in [0, 1]: a percentage for real accuracies, a plain number for surrogate scores. */
export function score(x: number | undefined, surrogate: boolean): string {
  if (x === undefined || !Number.isFinite(x)) return '–';
  return surrogate ? x.toFixed(3) : pct(x);
}

export function compact(n: number | undefined): string {
  if (n === undefined || !Number.isFinite(n)) return '–';
  const abs = Math.abs(n);
  if (abs >= 1e9) return `${(n / 1e9).toFixed(2)}G`;
  if (abs >= 1e6) return `${(n / 1e6).toFixed(2)}M`;
  if (abs >= 1e3) return `${(n / 1e3).toFixed(1)}k`;
  return String(Math.round(n));
}

export function duration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '–';
  if (seconds < 60) return `${Math.round(seconds)} s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ${Math.round(seconds % 60)} s`;
  return `${Math.floor(seconds / 3600)} h ${Math.round((seconds % 3600) / 60)} min`;
}

/** The first attack of a record or config, e.g. "PGD ε=0.1". */
export function attackLabel(attack: string | undefined, eps: number | undefined): string {
  if (!attack) return 'adversarial';
  return `${attack.toUpperCase()} ε=${eps ?? '?'}`;
}

/** Viridis-like colour for t in [0, 1] (perceptually ordered, readable on white). */
export function sequentialColor(t: number): string {
  const stops: [number, number, number][] = [
    [68, 1, 84],
    [59, 82, 139],
    [33, 145, 140],
    [94, 201, 98],
    [253, 231, 37],
  ];
  const x = Math.min(1, Math.max(0, t)) * (stops.length - 1);
  const i = Math.min(stops.length - 2, Math.floor(x));
  const f = x - i;
  const a = stops[i] as [number, number, number];
  const b = stops[i + 1] as [number, number, number];
  const c = a.map((v, k) => Math.round(v + ((b[k] as number) - v) * f));
  return `rgb(${c[0]}, ${c[1]}, ${c[2]})`;
}
