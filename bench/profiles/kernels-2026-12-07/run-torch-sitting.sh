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
node "$(dirname "$0")/sitting-table.mjs" "$reps" "$out" | tee "$out/sitting-table.md"
