#!/usr/bin/env bash
# herald's whole test suite: what CI runs, and what to run before a change
# lands. PostgreSQL is started by the tests themselves (initdb and postgres
# on PATH; as root they run as the postgres user).
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== go vet"
go vet ./...

echo "== unit and end-to-end tests (race detector on)"
go test -race $(go list ./... | grep -v '/reliability$')

# The reliability suite drives the real binary and measures rate limits
# from the fake server's arrival times, so it runs on its own rather than
# beside the race-instrumented packages. Its table of figures is printed.
echo "== reliability suite"
log=$(mktemp)
set +e
go test -v -count=1 ./reliability/ >"$log" 2>&1
rc=$?
set -e
grep -E '^(--- |FAIL|ok|PASS)|^\|' "$log" || true
if [ "$rc" -ne 0 ]; then
  echo "reliability suite failed; the end of its log:"
  tail -n 150 "$log"
  exit "$rc"
fi

echo "== every benchmark once, so none rots"
go test -run='^$' -bench=. -benchtime=1x ./... >/dev/null
echo "ok"
