// Puts robust-nas's step profiles (scripts/train-profile.ts --json) and PyTorch's
// (bench/torch_profile.py --json) side by side as markdown: per category, the median kernel time
// over the files given and its share of that step's total. PyTorch does not split a convolution's
// backward into input and filter gradients, so robust-nas's two are summed for the comparison and
// also shown apart.
//
//   node bench/profile-table.mjs --nas a.json [--nas b.json ...] --torch c.json [--torch d.json ...]
import { readFileSync } from 'node:fs';

function files(flag) {
  const out = [];
  for (let i = 2; i < process.argv.length; i++)
    if (process.argv[i] === flag) {
      const path = process.argv[++i];
      if (!path) throw new Error(`${flag} needs a file`);
      out.push(JSON.parse(readFileSync(path, 'utf8')));
    }
  if (out.length === 0) throw new Error(`give at least one ${flag} file`);
  return out;
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

function merged(reports, step, combine) {
  const keys = new Set(reports.flatMap((r) => Object.keys(r[step].categories)));
  const cats = {};
  for (const k of keys) {
    const name = combine ? k.replace(/ backward (input|filter)$/, ' backward (input+filter)') : k;
    cats[name] = (cats[name] ?? 0) + median(reports.map((r) => r[step].categories[k] ?? 0));
  }
  return cats;
}

const nas = files('--nas');
const torch = files('--torch');
const f = (x) => (x === undefined ? '—' : x.toFixed(0));
const pct = (x, t) => (x === undefined ? '—' : `${((100 * x) / t).toFixed(1)}%`);
for (const step of ['train', 'pgd']) {
  const a = merged(nas, step, true);
  const split = merged(nas, step, false);
  const b = merged(torch, step, false);
  const ta = Object.values(a).reduce((s, x) => s + x, 0);
  const tb = Object.values(b).reduce((s, x) => s + x, 0);
  const bestA = median(nas.map((r) => r[step].best_ms));
  const bestB = median(torch.map((r) => r[step].best_ms));
  console.log(`\n### ${step === 'train' ? 'Training step' : 'PGD step'} (batch ${nas[0].batch})\n`);
  console.log(
    `Unprofiled step, median over runs of the best of each: robust-nas ${bestA.toFixed(0)} ms, ` +
      `PyTorch ${bestB.toFixed(0)} ms (robust-nas at ${(bestB / bestA).toFixed(2)}x PyTorch's speed). ` +
      `Kernel times summed: robust-nas ${ta.toFixed(0)} ms over ${nas.length} run(s), PyTorch ` +
      `${tb.toFixed(0)} ms over ${torch.length} run(s) (medians per category).\n`,
  );
  console.log('| category | robust-nas ms | share | PyTorch ms | share |');
  console.log('|---|---:|---:|---:|---:|');
  const names = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort(
    (x, y) => Math.max(a[y] ?? 0, b[y] ?? 0) - Math.max(a[x] ?? 0, b[x] ?? 0),
  );
  for (const n of names) {
    console.log(`| ${n} | ${f(a[n])} | ${pct(a[n], ta)} | ${f(b[n])} | ${pct(b[n], tb)} |`);
    if (n.endsWith('(input+filter)'))
      for (const part of ['input', 'filter']) {
        const k = n.replace('(input+filter)', part);
        if (split[k] !== undefined)
          console.log(
            `| &nbsp;&nbsp;of which ${part} | ${f(split[k])} | ${pct(split[k], ta)} | | |`,
          );
      }
  }
}
