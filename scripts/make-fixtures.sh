#!/usr/bin/env bash
# Records the real histories the checker and analyze tests run on (checker/testdata): short runs of
# the shipped scenarios, each kept as gzipped JSON lines (the run's history.lkh exported with
# locktest export --jsonl, so the fixtures stay readable text) with its verdict and anomaly counts
# (the golden file). Run it after a change of the history format, then read each new history once
# to see that its story really happened before committing it.
#
# Usage: scripts/make-fixtures.sh [NAME...]     (default: every fixture below)
set -euo pipefail
cd "$(dirname "$0")/.."
out=checker/testdata
bin=$(mktemp /tmp/locktest-fixtures.XXXXXX)
work=$(mktemp -d /tmp/locktest-fixtures.XXXXXX)
trap 'rm -rf "$bin" "$work"' EXIT
go build -o "$bin" ./cmd/locktest

# name | locktest test arguments. Clients rest between iterations (--think) so that a history
# of the whole story stays small.
fixtures=(
  "n0|--scenario scenarios/n0-nolock.yaml --time-limit 2s --think 20ms --seed 1"
  "v0|--scenario scenarios/v0-no-faults.yaml --time-limit 4s --think 20ms --seed 1"
  "k1|--scenario scenarios/k1-pause-holder.yaml --think 20ms --seed 1"
  "k1f|--scenario scenarios/k1f-fenced-pause.yaml --think 20ms --seed 1"
  "e1|--scenario scenarios/e1-etcd-pause-holder.yaml --seed 1"
  "r1|--scenario scenarios/r1-sentinel-failover.yaml --think 50ms --seed 1"
)
want=("$@")
for entry in "${fixtures[@]}"; do
  name=${entry%%|*}; args=${entry#*|}
  if [ ${#want[@]} -gt 0 ] && [[ ! " ${want[*]} " =~ " $name " ]]; then continue; fi
  set +e
  # shellcheck disable=SC2086
  "$bin" test $args --results-dir "$work/$name" > "$work/$name.out" 2>&1
  code=$?
  set -e
  if [ "$code" -ne 0 ]; then
    echo "$name: the scenario's expectation was not met (exit $code); not kept" >&2
    tail -20 "$work/$name.out" >&2
    exit 1
  fi
  run=$(readlink -f "$work/$name/latest")
  "$bin" export --jsonl "$run" | gzip -9 -n > "$out/$name.jsonl.gz"
  python3 - "$run/results.json" "$out/$name.golden.json" "$args" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
golden = {"args": sys.argv[3], "valid": r["valid"], "anomalies": r["anomalies"], "fenced": r["ops"]["fenced"],
          "acknowledged": r["acknowledged"], "final_value": r["final_value"]}
json.dump(golden, open(sys.argv[2], "w"), indent=2)
open(sys.argv[2], "a").write("\n")
PY
  echo "$name: $(python3 -c "import json;g=json.load(open('$out/$name.golden.json'));print(g['valid'],g['anomalies'])") $(stat -c %s "$out/$name.jsonl.gz") bytes"
done
