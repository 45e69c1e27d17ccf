#!/usr/bin/env bash
# Runs the scenario suite: simulate each scenario, replay it through the detector, score it with eval.
# usage: scripts/scenario-suite.sh [OUTDIR] [SCENARIO...]   (default: every scenario in test/scenarios but demo)
# Prints one eval table per scenario and writes OUTDIR/summary.json (one eval JSON per scenario).
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-.stack/scenarios}
shift || true
mkdir -p "$out"
[ -f dist/src/cli/main.js ] || npm run build --silent
if [ $# -gt 0 ]; then names=("$@"); else
  names=(); for f in test/scenarios/*.json; do n=$(basename "$f" .json); [ "$n" = demo ] || names+=("$n"); done
fi
echo "[" > "$out/summary.json"
first=1
for n in "${names[@]}"; do
  node dist/src/cli/main.js simulate --scenario "$n" --out "$out/$n.ndjson" --labels "$out/$n.labels.json"
  start=$(date +%s%N)
  node dist/src/cli/main.js replay --quiet "$out/$n.ndjson" > "$out/$n.alerts.ndjson"
  ms=$(( ($(date +%s%N) - start) / 1000000 ))
  events=$(wc -l < "$out/$n.ndjson")
  echo "== $n: $events events replayed in ${ms} ms ($(( events * 1000 / (ms + 1) )) events/s)"
  node dist/src/cli/main.js eval --labels "$out/$n.labels.json" --alerts "$out/$n.alerts.ndjson" || true
  [ $first = 1 ] || echo "," >> "$out/summary.json"
  first=0
  node dist/src/cli/main.js eval --json --labels "$out/$n.labels.json" --alerts "$out/$n.alerts.ndjson" >> "$out/summary.json" || true
  rm -f "$out/$n.ndjson"
done
echo "]" >> "$out/summary.json"
