#!/usr/bin/env bash
# The test suite: unit tests (models, checkers, parsers) and integration tests against real
# containers (they build the images they need on first use). Packages run one at a time so the
# container tests do not compete for the two cores of a small machine.
set -euo pipefail
cd "$(dirname "$0")/.."
exec go test -p 1 -count=1 -timeout 45m "$@" ./...
