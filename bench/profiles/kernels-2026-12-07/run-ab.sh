#!/bin/sh
# One round of the three A/B runs (CIFAR workload, batch 64, 6 alternated steps per side), from the
# repository root: sh bench/profiles/kernels-2026-12-07/run-ab.sh ROUND [OUTDIR]
# Bundles scripts/kernels-ab.ts first (esbuild, a devDependency).
set -eu
round=${1:?round number}
out=${2:-bench/profiles/kernels-2026-12-07}
npx esbuild scripts/kernels-ab.ts --bundle --platform=node --format=esm --packages=external \
  --outfile=dist-bench/kernels-ab.mjs --log-level=warning
for ab in fma argmax relu; do
  uptime
  node dist-bench/kernels-ab.mjs --ab "$ab" --steps 6 --json "$out/ab-$ab-cifar-$round.json"
done
