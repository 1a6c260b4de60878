/**
 * The report's plots (SVG strings), from the report's rows: robust accuracy against eps per
 * architecture family (band: ± standard error across the family's architectures), PGD accuracy at
 * the reference eps per architecture (NAS cells against hand-crafted networks), the ensembles' gain
 * over their members against ensemble size, and HRS against parameters.
 */
import { meanAndStderr } from '../core/noise-stats.js';
import type { StudyReport } from './report.js';
import { FAMILIES } from './plan.js';
import { barChart, FAMILY_COLORS, lineChart, scatterChart, type Series } from './svg.js';

export interface Plot {
  /** File name under plots/ (and the figure's id in the HTML). */
  readonly name: string;
  readonly caption: string;
  readonly svg: string;
}

const ATTACK_TITLES: Readonly<Record<string, string>> = {
  fgsm: 'FGSM',
  rfgsm: 'R-FGSM',
  stepll: 'Step-LL',
  pgd: 'PGD',
};

const finite = (x: number) => Number.isFinite(x);

export function reportPlots(report: StudyReport): Plot[] {
  const plots: Plot[] = [];
  for (const p of report.protocol) {
    const rows = report.rows.filter((r) => r.dataset === p.dataset && r.seeds > 0);
    for (const attack of ['fgsm', 'rfgsm', 'stepll', 'pgd']) {
      const series: Series[] = FAMILIES.map((family) => ({
        label: family,
        color: FAMILY_COLORS[family] as string,
        points: p.eps.flatMap((eps) => {
          const values = rows
            .filter((r) => r.family === family)
            // The sweep's cell (the last one) when the budget runs the sweep apart: every eps of a
            // curve on the same test images.
            .map(
              (r) =>
                [...r.robust].reverse().find((c) => c.attack === attack && c.eps === eps)?.mean,
            )
            .filter((v): v is number => v !== undefined && finite(v));
          if (values.length === 0) return [];
          const s = meanAndStderr(values);
          return [{ x: eps, y: 100 * s.mean, err: 100 * s.stderr }];
        }),
      })).filter((s) => s.points.length > 0);
      plots.push({
        name: `eps-${p.dataset}-${attack}`,
        caption: `${p.dataset}, ${ATTACK_TITLES[attack]}: robust accuracy against eps, mean of each family's architectures (band: ± standard error across them)`,
        svg: lineChart(series, {
          title: `${p.dataset}: ${ATTACK_TITLES[attack]}`,
          xLabel: 'eps (pixel units, log)',
          logX: true,
          yLabel: 'robust accuracy (%)',
          yMin: 0,
          yMax: 100,
        }),
      });
    }
    const ref = p.referenceEps;
    const bars = rows.map((r) => {
      const c = r.robust.find((x) => x.attack === 'pgd' && x.eps === ref);
      return {
        label: r.architecture,
        value: 100 * (c?.mean ?? 0),
        err: 100 * (c?.stderr ?? 0),
        color: FAMILY_COLORS[r.family] as string,
      };
    });
    plots.push({
      name: `families-${p.dataset}`,
      caption: `${p.dataset}: PGD robust accuracy at eps ${+ref.toFixed(4)} per architecture, mean ± standard error over seeds (NAS cells blue, hand-crafted red)`,
      svg: barChart(
        bars,
        {
          title: `${p.dataset}: PGD at eps ${+ref.toFixed(4)}`,
          xLabel: '',
          yLabel: 'robust accuracy (%)',
        },
        FAMILIES.map((f) => ({ label: f, color: FAMILY_COLORS[f] as string })),
      ),
    });
    plots.push({
      name: `hrs-params-${p.dataset}`,
      caption: `${p.dataset}: HRS (clean and PGD at eps ${+ref.toFixed(4)}) against parameters, mean ± standard error over seeds`,
      svg: scatterChart(
        FAMILIES.map((family) => ({
          label: family,
          color: FAMILY_COLORS[family] as string,
          points: rows
            .filter((r) => r.family === family && finite(r.hrs.mean) && r.params > 0)
            .map((r) => ({ x: r.params, y: 100 * r.hrs.mean, err: 100 * r.hrs.stderr })),
        })).filter((s) => s.points.length > 0),
        {
          title: `${p.dataset}: HRS against parameters`,
          xLabel: 'parameters (log)',
          yLabel: 'HRS (%)',
          logX: true,
        },
      ),
    });
  }
  plots.push({
    name: 'ensemble-gain',
    caption:
      'Gain of each ensemble over the mean of its members (PGD at the reference eps), per seed, mean ± standard error over seeds; size 1 is the members themselves',
    svg: lineChart(ensembleGainSeries(report), {
      title: 'Ensemble gain against size',
      xLabel: 'ensemble size',
      yLabel: 'gain (points)',
    }),
  });
  return plots;
}

const DATASET_COLORS = ['#9467bd', '#ff7f0e', '#17becf'];

function ensembleGainSeries(report: StudyReport): Series[] {
  return report.protocol.map((p, di) => {
    const per = new Map(
      report.perSeed.filter((s) => s.dataset === p.dataset).map((s) => [s.architecture, s.seeds]),
    );
    const row = (name: string) =>
      report.rows.find((r) => r.dataset === p.dataset && r.architecture === name);
    const points = [{ x: 1, y: 0, err: 0 }];
    for (const r of report.rows.filter((x) => x.dataset === p.dataset && x.family === 'ensemble')) {
      const size = Number(r.architecture.replace('ensemble-', ''));
      const members = Array.from({ length: size }, (_, i) => `random-${i + 1}`);
      const k = r.robust.findIndex((c) => c.attack === 'pgd' && c.eps === p.referenceEps);
      const gains: number[] = [];
      for (const s of per.get(r.architecture) ?? []) {
        const values = members.map((m) => {
          const mr = row(m);
          const seed = per.get(m)?.find((x) => x.seed === s.seed);
          const j = mr
            ? mr.robust.findIndex((c) => c.attack === 'pgd' && c.eps === p.referenceEps)
            : -1;
          return seed && j >= 0 ? seed.robust[j] : undefined;
        });
        if (k < 0 || values.some((v) => v === undefined)) continue;
        const mean = (values as number[]).reduce((a, b) => a + b, 0) / values.length;
        gains.push((s.robust[k] as number) - mean);
      }
      if (gains.length === 0) continue;
      const g = meanAndStderr(gains);
      points.push({ x: size, y: 100 * g.mean, err: 100 * g.stderr });
    }
    return {
      label: p.dataset,
      color: DATASET_COLORS[di % DATASET_COLORS.length] as string,
      points,
    };
  });
}
