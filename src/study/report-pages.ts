/**
 * The study's report as Markdown (report.md) and as one self-contained HTML page (report.html:
 * inline CSS and SVG, no script, no external reference, opens offline). Both carry the same
 * tables: the claims' verdicts, the protocol, and per data set every architecture's parameters,
 * multiply-adds, clean accuracy and robust accuracy per attack and eps (mean ± standard error over
 * seeds, with the seeds and test images behind them) and HRS.
 */
import type { Plot } from './plots.js';
import type { ReportRow, StudyReport } from './report.js';
import { escapeXml } from './svg.js';

const ATTACK_NAMES: Readonly<Record<string, string>> = {
  fgsm: 'FGSM',
  rfgsm: 'R-FGSM',
  stepll: 'Step-LL',
  pgd: 'PGD',
  'apgd-ce': 'APGD-CE',
};

const pct = (m: number, se: number) =>
  !Number.isFinite(m)
    ? '—'
    : Number.isFinite(se)
      ? `${(100 * m).toFixed(1)} ± ${(100 * se).toFixed(1)}`
      : `${(100 * m).toFixed(1)}`;
const epsText = (eps: number) => {
  const k = eps * 255;
  return Math.abs(k - Math.round(k)) < 1e-9 && eps < 0.1
    ? `${Math.round(k)}/255`
    : `${+eps.toFixed(4)}`;
};
const count = (n: number) => (Number.isFinite(n) ? n.toLocaleString('en-US') : '—');

interface Table {
  readonly head: readonly string[];
  readonly body: readonly (readonly string[])[];
}

function claimsTable(report: StudyReport): Table {
  return {
    head: ['claim', 'verdict', 'statistic', 'all seeds', 'each seed left out'],
    body: report.claims.map((c) => [
      `${c.id}: ${c.claim}`,
      c.verdict,
      c.statistic,
      c.allSeeds,
      c.leaveOneSeedOut.map((l) => `without ${l.seed}: ${l.verdict}`).join('; ') || '—',
    ]),
  };
}

const points = (x: number) => (Number.isFinite(x) ? (100 * x).toFixed(1) : 'n/a');

/** The claims' smallest detectable differences, before the run (README's noise) and after. */
function powerTable(report: StudyReport): Table {
  const after = report.power.after;
  return {
    head: [
      'data set',
      'claim',
      'difference',
      'seeds',
      'test images',
      'detectable (points), README noise',
      'detectable (points), this study noise',
    ],
    body: report.power.before.detectable.map((b) => {
      const a = after?.detectable.find((x) => x.dataset === b.dataset && x.claim === b.claim);
      return [
        b.dataset,
        b.claim,
        b.comparison,
        `${b.seeds}`,
        count(b.testImages),
        points(b.difference),
        a ? points(a.difference) : '—',
      ];
    }),
  };
}

function powerNote(report: StudyReport): string {
  return `The smallest difference each claim detects (paired t over seeds, 95% two-sided, power 80%; counting error of the test images plus the architecture x seed noise; src/study/power.ts). Before the run: ${report.power.before.pilot}. After: ${report.power.after?.pilot ?? 'needs 2 seeds common to the networks'}.`;
}

function protocolTable(report: StudyReport): Table {
  return {
    head: [
      'data set',
      'training images',
      'epochs',
      'test images (claims)',
      'eps sweep: test images, seeds',
      'eps sweep',
      'reference eps',
      'data folder',
    ],
    body: report.protocol.map((p) => [
      p.dataset,
      count(p.trainSize),
      `${p.epochs}`,
      count(p.testSize) +
        (p.testSizeAsked !== undefined
          ? ` (asked ${count(p.testSizeAsked)}: the folder holds ${count(p.testSize)})`
          : ''),
      `${count(p.sweepTestSize)}, ${p.sweepSeeds}`,
      p.eps.map(epsText).join(', '),
      epsText(p.referenceEps),
      p.dataDir ?? (p.dataset === 'mnist' ? 'bundled copy or user cache' : 'user cache'),
    ]),
  };
}

/** Columns of a data set's table: every attack and eps in the rows' order. */
function resultsTable(rows: readonly ReportRow[]): Table {
  const cells = rows[0]?.robust ?? [];
  return {
    head: [
      'architecture',
      'family',
      'seeds',
      'params',
      'MACs',
      'clean %',
      ...cells.map(
        (c) =>
          `${ATTACK_NAMES[c.attack] ?? c.attack} ${epsText(c.eps)} % (${count(c.n)} img${c.seeds < (rows[0]?.seeds ?? 0) ? `, ${c.seeds} seed${c.seeds === 1 ? '' : 's'}` : ''})`,
      ),
      'HRS %',
    ],
    body: rows.map((r) => [
      r.architecture + (r.width !== undefined ? ` (width ${+r.width.toFixed(3)})` : ''),
      r.family,
      `${r.seeds}${r.failures.length ? ` (${r.failures.length} failed)` : ''}`,
      count(r.params),
      count(r.macs),
      pct(r.clean.mean, r.clean.stderr),
      ...cells.map((c) => {
        const x = r.robust.find((y) => y.attack === c.attack && y.eps === c.eps && y.n === c.n);
        return x ? pct(x.mean, x.stderr) : '—';
      }),
      pct(r.hrs.mean, r.hrs.stderr),
    ]),
  };
}

function apgdNote(report: StudyReport, dataset: string): string {
  const c = report.apgdCheck.find((x) => x.dataset === dataset);
  if (!c || c.architectures === 0) return '';
  const se = Number.isFinite(c.stderr) ? ` ± ${(100 * c.stderr).toFixed(1)}` : '';
  const mean = (100 * c.mean).toFixed(1).replace(/^-(0\.0)$/, '$1');
  return `APGD-CE check on PGD at eps ${epsText(c.eps)}: APGD-CE accuracy minus PGD accuracy = ${mean}${se} points over ${c.architectures} architectures (negative: APGD-CE finds adversarial examples PGD missed).`;
}

function sizeNote(report: StudyReport, dataset: string): string {
  const rows = report.rows.filter((r) => r.dataset === dataset);
  const nas = rows
    .filter((r) => r.family === 'nas')
    .map((r) => r.params)
    .filter(Number.isFinite);
  const hand = rows.filter((r) => r.family === 'handcrafted');
  if (nas.length === 0 || hand.length === 0) return '';
  const sorted = [...nas].sort((a, b) => a - b);
  return `Size matching: NAS cell networks have ${count(sorted[0] as number)} to ${count(sorted.at(-1) as number)} parameters; the hand-crafted networks are scaled to ${hand.map((r) => `${r.architecture} ${count(r.params)}`).join(', ')}.`;
}

function markdownTable(t: Table): string {
  const esc = (s: string) => s.replaceAll('|', '\\|');
  return [
    `| ${t.head.map(esc).join(' | ')} |`,
    `| ${t.head.map(() => '---').join(' | ')} |`,
    ...t.body.map((r) => `| ${r.map(esc).join(' | ')} |`),
  ].join('\n');
}

function rowsNote(report: StudyReport): string {
  const e = report.evaluations;
  return `${e.finished} of ${e.planned} evaluations finished${e.failed ? ` (${e.failed} failed)` : ''}${report.complete ? '' : ': the study is not complete, rerun the command to continue'}.`;
}

export function reportMarkdown(report: StudyReport, plots: readonly Plot[]): string {
  const parts = [
    '# robust-nas study: adversarial robustness from topology alone',
    '',
    `robust-nas ${report.robustNasVersion}, budget \`${report.settings.budgetName}\`, ${report.settings.seeds} seed(s). ${rowsNote(report)}`,
    '',
    'Accuracies are percentages, mean ± standard error over seeds (no ± with one seed); each seed is scored on the test images listed. Robust accuracy counts an image only when it is classified correctly both clean and attacked. HRS = 2CR/(C+R) of clean accuracy and PGD accuracy at the reference eps.',
    '',
    '## Claims',
    '',
    markdownTable(claimsTable(report)),
    '',
    'A claim is decided only when its decision holds with each seed left out in turn.',
    '',
    '## Power',
    '',
    powerNote(report),
    '',
    markdownTable(powerTable(report)),
    '',
    '## Protocol',
    '',
    report.method,
    '',
    markdownTable(protocolTable(report)),
    '',
  ];
  for (const p of report.protocol) {
    const rows = report.rows.filter((r) => r.dataset === p.dataset);
    parts.push(
      `## ${p.dataset}`,
      '',
      `${count(p.testSize)} test images per seed. ${sizeNote(report, p.dataset)} ${apgdNote(report, p.dataset)}`,
      '',
      markdownTable(resultsTable(rows)),
      '',
    );
  }
  parts.push(
    '## Plots',
    '',
    ...plots.map((p) => `- [${p.caption}](plots/${p.name}.svg)`),
    '',
    '## Settings',
    '',
    `Reproduce with \`${report.command}\`.`,
    '',
    '```json',
    JSON.stringify(report.settings, null, 2),
    '```',
    '',
  );
  return parts.join('\n');
}

function htmlTable(t: Table, cls = ''): string {
  return `<table${cls ? ` class="${cls}"` : ''}><thead><tr>${t.head.map((h) => `<th>${escapeXml(h)}</th>`).join('')}</tr></thead><tbody>${t.body
    .map((r) => `<tr>${r.map((c) => `<td>${escapeXml(c)}</td>`).join('')}</tr>`)
    .join('')}</tbody></table>`;
}

const CSS = `body{font-family:system-ui,sans-serif;margin:24px;color:#222;max-width:1400px}
h1{font-size:22px}h2{font-size:18px;margin-top:28px}table{border-collapse:collapse;font-size:12px;margin:8px 0}
th,td{border:1px solid #ccc;padding:3px 6px;text-align:right;vertical-align:top}th{background:#f3f3f3}
td:first-child,th:first-child{text-align:left}.claims td{text-align:left;max-width:700px}
.v-supported{color:#1a7f37;font-weight:bold}.v-not-supported{color:#b42318;font-weight:bold}.v-inconclusive{color:#9a6700;font-weight:bold}
figure{display:inline-block;margin:8px;vertical-align:top}figcaption{font-size:11px;max-width:480px}
pre{background:#f6f6f6;padding:8px;font-size:11px;overflow:auto}.scroll{overflow-x:auto}`;

export function reportHtml(report: StudyReport, plots: readonly Plot[]): string {
  const claims = claimsTable(report);
  const claimRows = report.claims
    .map(
      (c, i) =>
        `<tr><td>${escapeXml(claims.body[i]?.[0] ?? '')}</td><td class="v-${c.verdict.replace(' ', '-')}">${escapeXml(c.verdict)}</td><td>${escapeXml(c.statistic)}</td><td>${escapeXml(c.allSeeds)}</td><td>${escapeXml(claims.body[i]?.[4] ?? '')}</td></tr>`,
    )
    .join('');
  const figure = (p: Plot) =>
    `<figure id="${escapeXml(p.name)}">${p.svg}<figcaption>${escapeXml(p.caption)}</figcaption></figure>`;
  const sections = report.protocol.map((p) => {
    const rows = report.rows.filter((r) => r.dataset === p.dataset);
    return `<h2>${escapeXml(p.dataset)}</h2><p>${count(p.testSize)} test images per seed. ${escapeXml(sizeNote(report, p.dataset))} ${escapeXml(apgdNote(report, p.dataset))}</p><div class="scroll">${htmlTable(resultsTable(rows))}</div>${plots
      .filter((x) => x.name.endsWith(`-${p.dataset}`) || x.name.includes(`-${p.dataset}-`))
      .map(figure)
      .join('')}`;
  });
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>robust-nas study report</title><style>${CSS}</style></head>
<body><h1>robust-nas study: adversarial robustness from topology alone</h1>
<p>robust-nas ${escapeXml(report.robustNasVersion)}, budget <code>${escapeXml(report.settings.budgetName)}</code>, ${report.settings.seeds} seed(s). ${escapeXml(rowsNote(report))}</p>
<p>Accuracies are percentages, mean ± standard error over seeds (no ± with one seed); each seed is scored on the test images listed. Robust accuracy counts an image only when it is classified correctly both clean and attacked. HRS = 2CR/(C+R) of clean accuracy and PGD accuracy at the reference eps.</p>
<h2>Claims</h2><table class="claims"><thead><tr><th>claim</th><th>verdict</th><th>statistic</th><th>all seeds</th><th>each seed left out</th></tr></thead><tbody>${claimRows}</tbody></table>
<p>A claim is decided only when its decision holds with each seed left out in turn.</p>
<h2>Power</h2><p>${escapeXml(powerNote(report))}</p>${htmlTable(powerTable(report))}
<h2>Protocol</h2><p>${escapeXml(report.method)}</p>${htmlTable(protocolTable(report))}
${sections.join('\n')}
<h2>Ensembles</h2>${plots
    .filter((p) => p.name === 'ensemble-gain')
    .map(figure)
    .join('')}
<h2>Settings</h2><p>Reproduce with <code>${escapeXml(report.command)}</code>.</p><pre>${escapeXml(JSON.stringify(report.settings, null, 2))}</pre>
</body></html>
`;
}
