#!/bin/sh
# robust-nas against PyTorch 1.13 (one thread) on the CIFAR bench workload, interleaved, from the
# repository root after `npm run build`:
#   sh bench/profiles/kernels-2026-12-07/run-torch-sitting.sh [REPS] [OUTDIR]
# Per repetition: robust-nas as built (relaxed-SIMD kernels if the engine takes them, max-pool
# argmax kept; the ReLU fusion is off by default), PyTorch, and robust-nas with the kernels of main
# before this branch (simd128 kernels, argmax searched, separate ReLU).
# TORCH_REF=path/to/torch_reference.py (default ../shared/bench/torch_reference.py, else
# /work/shared/bench/torch_reference.py); PYTHON=/usr/bin/python3 (Debian's, which sees python3-torch).
set -eu
reps=${1:-2}
out=${2:-bench/profiles/kernels-2026-12-07}
ref=${TORCH_REF:-../shared/bench/torch_reference.py}
[ -f "$ref" ] || ref=/work/shared/bench/torch_reference.py
py=${PYTHON:-/usr/bin/python3}
for rep in $(seq 1 "$reps"); do
  uptime | tee "$out/sitting-load-$rep.txt"
  node dist/cli.js bench --json --workload cifar > "$out/sitting-nas-new-$rep.json"
  uptime | tee -a "$out/sitting-load-$rep.txt"
  "$py" "$ref" --threads 1 > "$out/sitting-torch-$rep.json"
  uptime | tee -a "$out/sitting-load-$rep.txt"
  ROBUST_NAS_WASM_KERNELS=simd128 ROBUST_NAS_MAXPOOL_ARGMAX=0 ROBUST_NAS_RELU_FUSION=0 \
    node dist/cli.js bench --json --workload cifar > "$out/sitting-nas-old-$rep.json"
  uptime | tee -a "$out/sitting-load-$rep.txt"
done
node -e '
const fs = require("fs");
const [out, reps] = process.argv.slice(1);
const rd = (f) => JSON.parse(fs.readFileSync(`${out}/${f}`, "utf8"));
console.log("| images/s (CIFAR, batch 64) | robust-nas | robust-nas, main's kernels | PyTorch 1 thread | ratio new/torch | ratio old/torch | new/old |");
console.log("| --- | --- | --- | --- | --- | --- | --- |");
for (let r = 1; r <= Number(reps); r++) {
  const n = rd(`sitting-nas-new-${r}.json`).workloads[0], o = rd(`sitting-nas-old-${r}.json`).workloads[0], t = rd(`sitting-torch-${r}.json`);
  for (const [label, a, b, c] of [["train", n.trainImagesPerSecond, o.trainImagesPerSecond, t.train_img_s], ["PGD step", n.pgdStepImagesPerSecond, o.pgdStepImagesPerSecond, t.pgd_step_img_s]])
    console.log(`| rep ${r} ${label} | ${a.toFixed(1)} | ${b.toFixed(1)} | ${c.toFixed(1)} | ${(a / c).toFixed(2)} | ${(b / c).toFixed(2)} | ${(a / b).toFixed(2)} |`);
}' "$out" "$reps" | tee "$out/sitting-table.md"
