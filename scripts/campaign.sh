#!/usr/bin/env bash
# Runs the same test with several seeds and prints one line per run plus a summary: how often the
# run was invalid, and how long the schedule took to break the lock. For measuring how reliably a
# fault schedule or a scenario finds a violation.
#
# Usage: scripts/campaign.sh RUNS -- LOCKTEST-TEST-ARGS...
#   scripts/campaign.sh 10 -- --backend redlock --nemesis pause-client,clock --time-limit 60s
#   scripts/campaign.sh 5 -- --scenario scenarios/k1-pause-holder.yaml
# FIRST_SEED=N starts the seeds at N instead of 1 (to resume a long campaign).
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:?usage: $0 RUNS -- ARGS...}; shift
[ "${1:-}" = "--" ] && shift
# LOCKTEST_BIN: a binary built beforehand (so edits made while a long campaign runs do not leak in).
bin=${LOCKTEST_BIN:-}
if [ -z "$bin" ]; then
  go build -o bin/locktest ./cmd/locktest
  bin=bin/locktest
fi
results=$(mktemp -d /tmp/locktest-campaign.XXXXXX)
invalid=0; met=0; in_validity=0; overlapping=0; fenced=0; firsts=()
first=${FIRST_SEED:-1}
for seed in $(seq "$first" $((first + runs - 1))); do
  # A run that fails before it writes results leaves latest pointing at the run before it: remove
  # the link first, so such a run can never be counted with an earlier run's outcome.
  rm -f "$results/latest"
  set +e
  "$bin" test --seed "$seed" --results-dir "$results" "$@" >/dev/null 2>"$results/seed-$seed.err"
  code=$?
  set -e
  if [ "$code" -ge 254 ] || [ "$code" -eq 130 ] || [ ! -s "$results/latest/results.json" ]; then
    # The harness could not run it (254 bad input, 255 an error, 130 interrupted): a miss, with why.
    echo "seed=$seed exit=$code verdict=error error=\"$(tail -n 1 "$results/seed-$seed.err" | tr -d '"')\""
    continue
  fi
  line=$(python3 - "$results/latest/results.json" "$seed" "$code" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
sc = r.get("scenario") or {}
v = r["valid"]
verdict = "valid" if v is True else "invalid" if v is False else "unknown"
a = r["anomalies"]
print(f"seed={sys.argv[2]} exit={sys.argv[3]} verdict={verdict} first_anomaly_s={r.get('first_anomaly_s', 0)} "
      f"lost={a['lost_updates']} overlaps={a['overlaps']} in_validity={a['overlaps_within_validity']} "
      f"stale={a['stale_writes']} fenced={(r.get('ops') or {}).get('fenced', 0)} faults={len(r.get('faults') or [])} "
      f"ops/s={r['throughput_ops_per_s']:.0f} longest_stall_s={(r.get('liveness') or {}).get('longest_stall_s', 0):.1f}"
      + (f" scenario_met={sc.get('met')}" if sc else ""))
PY
)
  echo "$line"
  case "$line" in *verdict=invalid*) invalid=$((invalid+1)); firsts+=("$(sed -E 's/.*first_anomaly_s=([0-9.]+).*/\1/' <<<"$line")");; esac
  case "$line" in *scenario_met=True*) met=$((met+1));; esac
  # Overlaps within validity: both holders inside their leases, so the lock service itself failed
  # (not a client that outlived its lease). What an exploration campaign on Redlock is after.
  case "$line" in *in_validity=[1-9]*) in_validity=$((in_validity+1));; esac
  # A fenced run is VALID whether or not its fence had anything to stop: count the runs with two
  # believed holders and the stale accesses the storage rejected, which say it had.
  case "$line" in *" overlaps=0 "*) ;; *) overlapping=$((overlapping+1));; esac
  fenced=$((fenced + $(sed -E 's/.* fenced=([0-9]+).*/\1/' <<<"$line")))
done
echo "summary: $invalid/$runs invalid; overlaps in $overlapping/$runs, within validity in $in_validity/$runs; stale accesses fenced: $fenced; scenario expectation met $met/$runs; first anomaly at (s): ${firsts[*]:-none}"
echo "results kept in $results"
