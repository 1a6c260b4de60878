// Prints the README's noise table (markdown) from the raw reports in this folder: for each
// NAME.json (`robust-nas noise --json`), its NAME.config.json settings and NAME.meta.json (wall
// time, load average). Run after `npm run build`: node bench/noise/table.mjs [NAME ...]
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { seedsForReliability } from '../../dist/core/noise-stats.js';

const here = dirname(fileURLToPath(import.meta.url));
const names =
  process.argv.length > 2
    ? process.argv.slice(2)
    : readdirSync(here)
        .filter((f) => f.endsWith('.config.json'))
        .map((f) => f.replace(/\.config\.json$/, ''))
        .filter((n) => existsSync(join(here, `${n}.json`)));

const read = (file) => JSON.parse(readFileSync(join(here, file), 'utf8'));
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const f = (v, d = 2) => (v === null || v === undefined ? '-' : v.toFixed(d));
const seeds07 = (icc) => (icc === null ? '-' : (seedsForReliability(icc, 0.7) ?? 'none'));

console.log(
  '| training settings | attack | K x S | clean: mean, ICC, seeds for 0.7 | attack: mean, within sd, ICC, seeds for 0.7 | s/evaluation (median) | load average |',
);
console.log('| --- | --- | --- | --- | --- | --- | --- |');
for (const name of names) {
  const report = read(`${name}.json`);
  const meta = existsSync(join(here, `${name}.meta.json`)) ? read(`${name}.meta.json`) : {};
  const e = report.config.evaluation;
  const settings = `C${e.channels}, ${e.layers} cells, ${e.epochs} ep x ${e.trainSize} img, val ${e.valSize}, lr ${e.learningRate}, batch ${e.batchSize}`;
  const clean = report.objectives.find((o) => o.name === 'clean');
  const ok = report.rows.filter((r) => r.failure === undefined);
  const k = new Set(report.rows.map((r) => r.hash)).size;
  const s = report.seeds.length;
  const failed = report.rows.length - ok.length;
  for (const adv of report.objectives.filter((o) => o.name !== 'clean')) {
    const steps = e.attacks.find((a) => adv.name === `${a.name}@${+a.eps.toFixed(6)}`)?.steps;
    console.log(
      `| ${settings} | ${adv.name}${steps ? ` x ${steps}` : ''} | ${k} x ${s}${failed ? ` (${failed} failed)` : ''} | ${f(clean.mean)}, ${f(clean.icc)}, ${seeds07(clean.icc)} | ${f(adv.mean)}, ${f(adv.withinSd)}, ${f(adv.icc)}, ${seeds07(adv.icc)} | ${f(median(ok.map((r) => r.seconds)), 1)} | ${meta.loadBefore ?? '?'} -> ${meta.loadAfter ?? '?'} |`,
    );
  }
}
