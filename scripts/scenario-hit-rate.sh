#!/usr/bin/env bash
# Runs every scenario (or those given) RUNS times with seeds 1..RUNS and prints, per scenario, how
# often its expectation was met. A scenario that is not met on every run relies on luck somewhere.
#
# Usage: scripts/scenario-hit-rate.sh [RUNS] [scenarios/FILE.yaml ...]
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-5}; shift || true
files=("$@")
[ ${#files[@]} -gt 0 ] || files=(scenarios/*.yaml)
# One binary for the whole job: the tree may change while it runs.
export LOCKTEST_BIN
LOCKTEST_BIN=$(mktemp /tmp/locktest-bin.XXXXXX)
go build -o "$LOCKTEST_BIN" ./cmd/locktest
trap 'rm -f "$LOCKTEST_BIN"' EXIT
printf '%-40s %s\n' scenario "met/runs (first anomaly at, s)"
total=0; met_total=0
for f in "${files[@]}"; do
  out=$(scripts/campaign.sh "$runs" -- --scenario "$f")
  met=$(sed -nE 's/.*expectation met ([0-9]+)\/.*/\1/p' <<<"$out")
  firsts=$(sed -nE 's/.*first anomaly at \(s\): (.*)/\1/p' <<<"$out")
  printf '%-40s %s/%s (%s)\n' "$(basename "$f")" "$met" "$runs" "$firsts"
  total=$((total+runs)); met_total=$((met_total+met))
  rm -rf "$(sed -nE 's/^results kept in (.*)/\1/p' <<<"$out")"
done
echo "all: $met_total/$total met"
[ "$met_total" -eq "$total" ]
