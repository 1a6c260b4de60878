#!/bin/sh
# Runs `robust-nas noise` on each named config (bench/noise/NAME.config.json), writing NAME.json
# (the --json report) and NAME.meta.json (wall seconds, load average before and after).
cd "$(dirname "$0")/../.."
K=${K:-6}; S=${S:-3}; W=${W:-2}
for name in "$@"; do
  before=$(cut -d' ' -f1-3 /proc/loadavg)
  start=$(date +%s)
  node dist/cli.js noise --config bench/noise/$name.config.json --genotypes $K --seeds $S --workers $W --json \
    > bench/noise/$name.json 2> bench/noise/$name.stderr.log
  rc=$?
  end=$(date +%s)
  after=$(cut -d' ' -f1-3 /proc/loadavg)
  printf '{"name":"%s","genotypes":%s,"seeds":%s,"workers":%s,"exit":%s,"wallSeconds":%s,"loadBefore":"%s","loadAfter":"%s","finished":"%s"}\n' \
    "$name" $K $S $W $rc $((end-start)) "$before" "$after" "$(date -u +%FT%TZ)" > bench/noise/$name.meta.json
done
