#!/usr/bin/env bash
# The nightly job: the comparison matrix checked against expected.yaml, every scenario with its
# expectation, a long random schedule, and a results archive to keep. Exits non-zero when a cell
# or a scenario differs from what is expected.
#
# Usage: scripts/nightly.sh [--shard K/N] [OUT.tar.gz]     (NIGHTLY_QUICK=1 for the quick matrix)
#        scripts/nightly.sh --merge OUT.tar.gz SHARD.tar.gz...
#   --shard K/N   this job's part of the nightly, for N parallel jobs: compare --shard K/N, every
#                 Nth scenario file from the Kth, and the long random schedule on shard 1 only.
#                 Every shard must run the same plan: set NIGHTLY_SEED to the same value in each.
#   --merge       joins the shards' archives: their matrices into one (compare merge, checked
#                 against expected.yaml), into OUT.tar.gz with the shards' results beside it.
set -uo pipefail
cd "$(dirname "$0")/.."
go build -o bin/locktest ./cmd/locktest || exit 255

if [ "${1:-}" = "--merge" ]; then
  shift
  archive=${1:?usage: $0 --merge OUT.tar.gz SHARD.tar.gz...}; shift
  [ $# -gt 0 ] || { echo "nightly: --merge needs the shards' archives" >&2; exit 254; }
  merged=results/nightly-merged
  rm -rf "$merged"; mkdir -p "$merged"
  dirs=()
  for a in "$@"; do
    d="$merged/$(basename "$a" .tar.gz)"
    mkdir -p "$d" && tar -xzf "$a" -C "$d" || exit 255
    dirs+=("$d/results/nightly/compare/latest")
  done
  status=0
  bin/locktest compare merge --expect expected.yaml --results-dir "$merged" --junit "$merged/compare-junit.xml" \
    "${dirs[@]}" || status=$?
  tar -czf "$archive" "$merged"
  echo "nightly: merged archive $archive, status $status"
  exit $status
fi

shard=() k=1 n=1
if [ "${1:-}" = "--shard" ]; then
  [ -n "${NIGHTLY_SEED:-}" ] || { echo "nightly: --shard needs NIGHTLY_SEED, the same in every shard" >&2; exit 254; }
  shard=(--shard "$2"); k=${2%/*}; n=${2#*/}; shift 2
fi
seed=()
[ -n "${NIGHTLY_SEED:-}" ] && seed=(--seed "$NIGHTLY_SEED")
archive=${1:-nightly-$(date -u +%Y%m%dT%H%M%SZ).tar.gz}
results=results/nightly
mkdir -p "$results"
status=0

quick=()
[ "${NIGHTLY_QUICK:-}" = 1 ] && quick=(--quick)
bin/locktest compare "${quick[@]}" "${shard[@]}" "${seed[@]}" --expect expected.yaml --results-dir "$results" \
  --junit "$results/compare-junit.xml" || status=1

i=0
for f in scenarios/*.yaml; do
  i=$((i+1))
  [ $(( (i - 1) % n )) -eq $((k - 1)) ] || continue
  name=$(basename "$f" .yaml)
  bin/locktest test --scenario "$f" --results-dir "$results" --junit "$results/scenario-$name-junit.xml" \
    > "$results/scenario-$name.txt" 2>&1 || status=1
done

# A long random schedule with every fault: its verdict is evidence, not a pass/fail criterion,
# but the harness must not fail (exit 255) or leave anything behind.
if [ "$k" -eq 1 ]; then
  bin/locktest test --backend redlock --nemesis all --ttl 2s --time-limit 10m --results-dir "$results" \
    --junit "$results/random-junit.xml" > "$results/random.txt" 2>&1
  [ $? -ge 254 ] && status=1
fi
bin/locktest clean > /dev/null

tar -czf "$archive" "$results"
echo "nightly: archive $archive, status $status"
exit $status
