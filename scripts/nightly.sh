#!/usr/bin/env bash
# The nightly job: the comparison matrix checked against expected.yaml, every scenario with its
# expectation, a long random schedule, and a results archive to keep. Exits non-zero when a cell
# or a scenario differs from what is expected.
#
# Usage: scripts/nightly.sh [OUT.tar.gz]     (NIGHTLY_QUICK=1 for the quick matrix)
set -uo pipefail
cd "$(dirname "$0")/.."
archive=${1:-nightly-$(date -u +%Y%m%dT%H%M%SZ).tar.gz}
results=results/nightly
mkdir -p "$results"
go build -o bin/locktest ./cmd/locktest || exit 255
status=0

quick=()
[ "${NIGHTLY_QUICK:-}" = 1 ] && quick=(--quick)
bin/locktest compare "${quick[@]}" --expect expected.yaml --results-dir "$results" \
  --junit "$results/compare-junit.xml" || status=1

for f in scenarios/*.yaml; do
  name=$(basename "$f" .yaml)
  bin/locktest test --scenario "$f" --results-dir "$results" --junit "$results/scenario-$name-junit.xml" \
    > "$results/scenario-$name.txt" 2>&1 || status=1
done

# A long random schedule with every fault: its verdict is evidence, not a pass/fail criterion,
# but the harness must not fail (exit 255) or leave anything behind.
bin/locktest test --backend redlock --nemesis all --ttl 2s --time-limit 10m --results-dir "$results" \
  --junit "$results/random-junit.xml" > "$results/random.txt" 2>&1
[ $? -ge 254 ] && status=1
bin/locktest clean > /dev/null

tar -czf "$archive" "$results"
echo "nightly: archive $archive, status $status"
exit $status
