#!/usr/bin/env bash
# The test suite: unit tests (models, checkers, parsers) and integration tests against real
# containers (they build the images they need on first use). Packages run one at a time so the
# container tests do not compete for the two cores of a small machine.
set -euo pipefail
cd "$(dirname "$0")/.."
# Backend redis-py's tests run the Python client (clients/python) under Debian's python3 with its
# redis module; a fresh machine gets that package here.
if ! /usr/bin/python3 -c 'import redis' 2>/dev/null; then
  echo "test.sh: installing Debian's python3-redis for the redis-py client's tests" >&2
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-redis >/dev/null
fi
exec go test -p 1 -count=1 -timeout 45m "$@" ./...
