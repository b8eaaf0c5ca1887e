#!/usr/bin/env bash
# What the harness costs: a locktest redis-single run (worker processes, hooks, the history) and
# the bare loop (internal/bareloop: the same lock and storage code and commands as goroutines,
# nothing recorded) take turns on the same containers, the standing docker-compose.yml cluster,
# ROUNDS times. Prints each pair's throughput, their ratio harness/bare, and the median ratio.
# Issue 11's goal is a ratio of at least 0.9.
#
# Usage: scripts/bench-harness.sh [ROUNDS] [OTHER_LOCKTEST]   (DURATION=20s, CLIENTS=5)
# OTHER_LOCKTEST, a locktest binary built from another tree, takes its turn in every round too,
# for an A/B of a change to the hot path on the same cluster in the same minutes.
# Starts the compose cluster if it is not up (and takes it down again); needs the base image
# (scripts/make-base-image.sh). Nothing else should run on the machine meanwhile.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}
other=${2:-}
duration=${DURATION:-20s}
clients=${CLIENTS:-5}
work=$(mktemp -d /tmp/bench-harness.XXXXXX)
started=0
cleanup() {
  if [ "$started" -eq 1 ]; then docker-compose down >/dev/null 2>&1 || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
go build -o "$work/locktest" ./cmd/locktest
go build -o "$work/bareloop" ./internal/bareloop
if [ -z "$(docker ps -q --filter label=io.locktest.standing=true)" ]; then
  started=1
  docker-compose up -d --build >"$work/compose.log" 2>&1 || { tail -20 "$work/compose.log" >&2; exit 1; }
  sleep 2
fi
# harness BIN: one locktest run on the compose cluster; prints its acknowledged increments/s.
harness() {
  local code=0
  "$1" test --cluster compose --backend redis-single --clients "$clients" --time-limit "$duration" \
    --results-dir "$work/results" >"$work/run.log" 2>&1 || code=$?
  if [ "$code" -ne 0 ]; then
    echo "$1 test exited $code:" >&2
    tail -5 "$work/run.log" >&2
    exit 1
  fi
  python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["throughput_ops_per_s"])' "$work/results/latest/results.json"
}
ratio() { python3 -c 'import sys; print(f"{float(sys.argv[1])/float(sys.argv[2]):.3f}")' "$1" "$2"; }
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
ratios=(); others=()
printf '%-6s %12s %14s %8s' round "bare ops/s" "harness ops/s" ratio
[ -n "$other" ] && printf ' %14s %8s' "other ops/s" ratio
echo
for r in $(seq "$rounds"); do
  bare=$("$work/bareloop" -clients "$clients" -duration "$duration" | sed -nE 's/^ops\/s=([0-9.]+).*/\1/p')
  h=$(harness "$work/locktest")
  ratios+=("$(ratio "$h" "$bare")")
  printf '%-6s %12.0f %14.0f %8s' "$r" "$bare" "$h" "${ratios[-1]}"
  if [ -n "$other" ]; then
    o=$(harness "$other")
    others+=("$(ratio "$o" "$bare")")
    printf ' %14.0f %8s' "$o" "${others[-1]}"
  fi
  echo
done
echo "median ratio harness/bare: $(printf '%s\n' "${ratios[@]}" | median)"
[ -n "$other" ] && echo "median ratio other/bare: $(printf '%s\n' "${others[@]}" | median)"
exit 0
