/**
 * The validation report as pages: report.md and a self-contained report.html (inline CSS and SVG, no
 * script, no external reference), from the report validate.ts computes.
 */
import { scatterChart, escapeXml, type Series } from './svg.js';
import type { ValidationReport } from './validate.js';

const pct = (x: number) => (100 * x).toFixed(1);
const signed = (x: number) => `${x >= 0 ? '+' : ''}${(100 * x).toFixed(1)}`;
const isFraction = (label: string) => label !== 'params' && label !== 'macs' && label !== 'seconds';

function value(label: string, mean: number, stderr?: number): string {
  if (!isFraction(label)) return Number.isInteger(mean) ? String(mean) : mean.toFixed(3);
  return stderr === undefined ? pct(mean) : `${pct(mean)} ± ${pct(stderr)}`;
}

/** The summary lines: one per objective, in words. */
export function validationSummary(r: ValidationReport): string[] {
  const lines = [
    `run ${r.runId}: ${r.members.filter((m) => m.role !== 'control').length} member(s) and ${r.members.filter((m) => m.role === 'control').length} control(s) re-trained with ${r.seeds.length} fresh seed(s) each, scored on the ${r.split} split (${r.training.scoredImages} images; ${r.training.epochs} epoch(s) on ${r.training.trainSize} images, ${r.training.channels} channels, ${r.training.layers} cells)`,
    `attacks: ${r.attacks.map((a) => `${a.name} eps ${+a.eps.toFixed(6)}${a.steps ? `, ${a.steps} steps` : ''}`).join('; ')}`,
    ...(r.suite === 'strong'
      ? [
          `strong suite (${r.autoAttack ? "AutoAttack's standard version" : 'not AutoAttack: budgets below its standard ones'}): ${r.attacks[0]?.name ?? 'pgd'}, then ${r.suiteAttacks.map((a) => `${a.name}${a.steps ? ` ${a.steps} steps` : ''}${a.targets ? ` ${a.targets} targets` : ''}${a.queries ? ` ${a.queries} queries` : ''}`).join(', ')}, each on the images still robust: an image counts as robust only if it survives every attack`,
        ]
      : []),
  ];
  for (const o of r.objectives) {
    const parts = [
      `spearman ${o.spearman === null ? 'n/a' : o.spearman.toFixed(2)} over ${o.spearmanMembers}`,
      o.optimism
        ? `front optimism ${isFraction(o.label) ? `${signed(o.optimism.mean)} ± ${pct(o.optimism.stderr)} points` : o.optimism.mean.toFixed(3)} (n ${o.optimism.n})`
        : 'front optimism n/a',
      o.coverage
        ? `coverage ${o.coverage.inside}/${o.coverage.total} inside their 95% interval`
        : 'coverage n/a',
      o.frontMinusControls
        ? `front minus controls ${isFraction(o.label) ? `${signed(o.frontMinusControls.mean)} ± ${pct(o.frontMinusControls.stderr)} points` : o.frontMinusControls.mean.toFixed(3)} over ${o.frontMinusControls.n} paired seed(s)${o.frontMinusControls.better ? ' (better at 95%)' : ''}`
        : 'no controls',
    ];
    lines.push(`${o.label}: ${parts.join('; ')}`);
  }
  lines.push(
    `dominance relations kept: ${r.dominanceKept.kept} of ${r.dominanceKept.total}; validated front: ${r.validatedFront.map((h) => h.slice(0, 8)).join(', ') || 'none'}${r.complete ? '' : ' (INCOMPLETE: some evaluations are missing)'}`,
  );
  return lines;
}

function memberRows(r: ValidationReport): string[][] {
  return r.members.map((m) => [
    m.hash.slice(0, 12),
    m.role,
    ...r.objectives.flatMap((o, k) => [
      m.search
        ? `${value(o.label, m.search.mean[k]!, m.search.stderr[k])} (${m.search.seeds})`
        : '',
      m.validated.seeds > 0
        ? `${value(o.label, m.validated.mean[k]!, m.validated.stderr[k])} (${m.validated.seeds})`
        : 'none',
    ]),
    ...(r.suite === 'strong'
      ? [
          m.strong ? `${pct(m.strong.mean)} ± ${pct(m.strong.stderr)}` : '',
          m.strongDrop === null ? '' : signed(-m.strongDrop),
        ]
      : []),
    m.validatedFront ? 'yes' : '',
    m.failedSeeds > 0 ? String(m.failedSeeds) : '',
  ]);
}

function memberHeader(r: ValidationReport): string[] {
  return [
    'hash',
    'role',
    ...r.objectives.flatMap((o) => [`${o.label} search (seeds)`, `${o.label} validated (seeds)`]),
    ...(r.suite === 'strong' ? ['strong suite', 'strong minus PGD'] : []),
    'validated front',
    'failed seeds',
  ];
}

function objectiveRows(r: ValidationReport): string[][] {
  return r.objectives.map((o) => [
    o.label,
    o.spearman === null ? 'n/a' : o.spearman.toFixed(2),
    o.optimism ? `${signed(o.optimism.mean)} ± ${pct(o.optimism.stderr)}` : 'n/a',
    o.coverage ? `${o.coverage.inside}/${o.coverage.total}` : 'n/a',
    o.frontMinusControls
      ? `${signed(o.frontMinusControls.mean)} ± ${pct(o.frontMinusControls.stderr)} (${o.frontMinusControls.n} seeds)`
      : 'n/a',
    `${o.orderKept.kept}/${o.orderKept.total}`,
  ]);
}

const OBJECTIVE_HEADER = [
  'objective',
  'Spearman (search vs validated)',
  'front optimism (points)',
  'coverage of 95% intervals',
  'front minus controls (points, paired)',
  'orderings kept',
];

function mdTable(header: string[], rows: string[][]): string {
  return [
    `| ${header.join(' | ')} |`,
    `| ${header.map(() => '---').join(' | ')} |`,
    ...rows.map((r) => `| ${r.join(' | ')} |`),
  ].join('\n');
}

function htmlTable(header: string[], rows: string[][]): string {
  return `<table><thead><tr>${header.map((h) => `<th>${escapeXml(h)}</th>`).join('')}</tr></thead><tbody>${rows
    .map((r) => `<tr>${r.map((c) => `<td>${escapeXml(c)}</td>`).join('')}</tr>`)
    .join('')}</tbody></table>`;
}

const METHOD =
  'Each network was trained anew with the same fresh seeds (seed k is the same training seed for every network, so differences are paired by seed) and scored as the search scores, on the split named. Search: the mean ± standard error the search reported, with its seeds. Optimism: search minus validated mean over the front members (positive: the search promised more). Coverage: members whose validated mean lies inside their search-time mean ± 1.96 standard errors. Front minus controls: per seed, the mean of the front members minus the mean of random genotypes of the same space, then mean ± standard error over seeds ("better at 95%" when the t interval excludes 0). Accuracies in percent.';

export function validationMarkdown(r: ValidationReport): string {
  return `# Validation of run ${r.runId}

${validationSummary(r)
  .map((l) => `- ${l}`)
  .join('\n')}

${METHOD}

## Per objective

${mdTable(OBJECTIVE_HEADER, objectiveRows(r))}

Dominance relations of the search kept when validated: ${r.dominanceKept.kept} of ${r.dominanceKept.total}.

## Per network

${mdTable(memberHeader(r), memberRows(r))}

Fresh seeds: ${r.seeds.join(', ')}; controls sampled with seed ${r.controlSeed}.
`;
}

const CSS = `body{font-family:system-ui,sans-serif;margin:24px;color:#222;max-width:1400px}
h1{font-size:22px}h2{font-size:18px;margin-top:28px}table{border-collapse:collapse;font-size:12px;margin:8px 0}
th,td{border:1px solid #ccc;padding:3px 6px;text-align:right}th{background:#f3f3f3}
td:first-child,th:first-child{text-align:left}figure{display:inline-block;margin:8px}li{margin:2px 0}`;

/** Search-time mean (x) against validated mean (y) per member, one chart per objective. */
function charts(r: ValidationReport): string[] {
  return r.objectives.map((o, k) => {
    const points = (role: string) =>
      r.members
        .filter((m) => m.role === role && m.search && m.validated.seeds > 0)
        .map((m) => ({
          x: m.search!.mean[k]!,
          y: m.validated.mean[k]!,
          err: m.validated.stderr[k]!,
        }));
    const series: Series[] = [
      { label: 'front', color: '#1f77b4', points: points('front') },
      { label: 'other member', color: '#7f7f7f', points: points('member') },
    ];
    return `<figure>${scatterChart(series, {
      title: `${o.label}: search-time vs validated mean`,
      xLabel: 'search-time mean',
      yLabel: 'validated mean (± stderr)',
    })}</figure>`;
  });
}

export function validationHtml(r: ValidationReport): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>robust-nas validation of ${escapeXml(r.runId)}</title><style>${CSS}</style></head>
<body><h1>Validation of run ${escapeXml(r.runId)}</h1>
<ul>${validationSummary(r)
    .map((l) => `<li>${escapeXml(l)}</li>`)
    .join('')}</ul>
<p>${escapeXml(METHOD)}</p>
<h2>Per objective</h2>${htmlTable(OBJECTIVE_HEADER, objectiveRows(r))}
<p>Dominance relations of the search kept when validated: ${r.dominanceKept.kept} of ${r.dominanceKept.total}.</p>
${charts(r).join('')}
<h2>Per network</h2>${htmlTable(memberHeader(r), memberRows(r))}
<p>Fresh seeds: ${r.seeds.join(', ')}; controls sampled with seed ${r.controlSeed}.</p>
</body></html>
`;
}
