#!/usr/bin/env bash
# Runs every scenario (or those given) RUNS times with seeds 1..RUNS and prints, per scenario, how
# often its expectation was met, and the seeds that missed. A scenario that is not met on every run
# relies on luck somewhere.
#
# Usage: scripts/scenario-hit-rate.sh [--busy] [RUNS] [scenarios/FILE.yaml ...]
#   --busy   keep every core busy with a CPU hog beside the runs (a loaded CI machine); the hog is
#            stopped when the script ends, however it ends.
# FIRST_SEED=N uses seeds N..N+RUNS-1 (to resume a long campaign).
# Each run's one-line outcome goes to stderr as it finishes, so a long job shows progress.
set -euo pipefail
cd "$(dirname "$0")/.."
busy=0
if [ "${1:-}" = "--busy" ]; then busy=1; shift; fi
runs=${1:-5}; shift || true
files=("$@")
[ ${#files[@]} -gt 0 ] || files=(scenarios/*.yaml)
# One binary for the whole job: the tree may change while it runs.
export LOCKTEST_BIN
LOCKTEST_BIN=$(mktemp /tmp/locktest-bin.XXXXXX)
hogs=()
cleanup() {
  for pid in "${hogs[@]}"; do kill "$pid" 2>/dev/null || true; done
  rm -f "$LOCKTEST_BIN"
}
trap cleanup EXIT
go build -o "$LOCKTEST_BIN" ./cmd/locktest
if [ "$busy" -eq 1 ]; then
  for _ in $(seq "$(nproc)"); do
    # A busy loop per core, at normal priority: the runs compete for every core.
    bash -c 'while :; do :; done' &
    hogs+=($!)
  done
  echo "CPU hog: ${#hogs[@]} busy loop(s), pids ${hogs[*]}"
fi
printf '%-40s %s\n' scenario "met/runs (first anomaly at, s) missed seeds"
total=0; met_total=0
for f in "${files[@]}"; do
  out=$(scripts/campaign.sh "$runs" -- --scenario "$f" | tee >(cat >&2))
  met=$(sed -nE 's/.*expectation met ([0-9]+)\/.*/\1/p' <<<"$out")
  firsts=$(sed -nE 's/.*first anomaly at \(s\): (.*)/\1/p' <<<"$out")
  missed=$(grep -E '^seed=' <<<"$out" | grep -v 'scenario_met=True' | sed -E 's/^seed=([0-9]+).*/\1/' | tr '\n' ' ' || true)
  printf '%-40s %s/%s (%s) %s\n' "$(basename "$f")" "$met" "$runs" "$firsts" "${missed:+missed: $missed}"
  total=$((total+runs)); met_total=$((met_total+met))
  kept=$(sed -nE 's/^results kept in (.*)/\1/p' <<<"$out")
  # Keep the runs of a scenario that missed, for reading its history; drop the rest.
  if [ "$met" -eq "$runs" ]; then rm -rf "$kept"; else echo "  runs kept in $kept" ; fi
done
echo "all: $met_total/$total met"
[ "$met_total" -eq "$total" ]
