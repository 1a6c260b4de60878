// Markdown table of run-torch-sitting.sh's files: robust-nas as built, robust-nas with main's
// kernels, PyTorch (one thread), images/s and ratios per repetition.
// Usage: node bench/profiles/kernels-2026-12-07/sitting-table.mjs [REPS] [DIR]
import { readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const reps = Number(process.argv[2] ?? 2);
const dir = process.argv[3] ?? dirname(fileURLToPath(import.meta.url));
const read = (f) => JSON.parse(readFileSync(`${dir}/${f}`, 'utf8'));
const cifar = (j) => (j.throughput ?? j).workloads.find((w) => w.workload === 'cifar');
console.log(
  "| images/s (CIFAR, batch 64) | robust-nas | robust-nas, main's kernels | PyTorch, 1 thread | robust-nas / PyTorch | main's kernels / PyTorch | robust-nas / main's kernels |",
);
console.log('| --- | --- | --- | --- | --- | --- | --- |');
for (let r = 1; r <= reps; r++) {
  const n = cifar(read(`sitting-nas-new-${r}.json`));
  const o = cifar(read(`sitting-nas-old-${r}.json`));
  const t = read(`sitting-torch-${r}.json`);
  for (const [label, a, b, c] of [
    ['train', n.trainImagesPerSecond, o.trainImagesPerSecond, t.train_img_s],
    ['PGD step', n.pgdStepImagesPerSecond, o.pgdStepImagesPerSecond, t.pgd_step_img_s],
  ])
    console.log(
      `| rep ${r} ${label} | ${a.toFixed(1)} | ${b.toFixed(1)} | ${c.toFixed(1)} | ${(a / c).toFixed(2)} | ${(b / c).toFixed(2)} | ${(a / b).toFixed(2)} |`,
    );
}
