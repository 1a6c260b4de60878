// Markdown table of the A/B runs in this folder (ab-<change>-<workload>-<round>.json, written by
// scripts/kernels-ab.ts --json): per change and row, B/A of CPU time best-to-best and
// median-to-median per round, wall time in brackets (above 1: the change is faster). Usage: node bench/profiles/kernels-2026-12-07/table.mjs
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const dir = dirname(fileURLToPath(import.meta.url));
const runs = readdirSync(dir)
  .filter((f) => /^ab-.*\.json$/.test(f))
  .sort()
  .map((f) => ({ file: f, ...JSON.parse(readFileSync(join(dir, f), 'utf8')) }));
const byChange = new Map();
for (const r of runs) {
  const key = `${r.ab} (${r.sides[0]} / ${r.sides[1]}), ${r.workload}`;
  if (!byChange.has(key)) byChange.set(key, []);
  byChange.get(key).push(r);
}
for (const [key, rs] of byChange) {
  console.log(`\n#### ${key}\n`);
  console.log(`| | ${rs.map((r, i) => `round ${i + 1}: CPU best / median`).join(' | ')} |`);
  console.log(`| --- | ${rs.map(() => '---').join(' | ')} |`);
  for (const name of rs[0].rows.map((row) => row.name)) {
    const cells = rs.map((r) => {
      const row = r.rows.find((x) => x.name === name);
      if (!row) return '';
      const f = (m) => `${m.bestRatioBoverA.toFixed(2)} / ${m.medianRatioBoverA.toFixed(2)}`;
      return row.cpu ? `${f(row.cpu)} (wall ${f(row.wall)})` : `(wall ${f(row)})`;
    });
    console.log(`| ${name} | ${cells.join(' | ')} |`);
  }
  console.log(
    `| load average (1 min) at start, end | ${rs.map((r) => `${r.loadAverage.start[0].toFixed(0)}, ${r.loadAverage.end[0].toFixed(0)}`).join(' | ')} |`,
  );
}
