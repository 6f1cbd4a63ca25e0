#!/usr/bin/env bash
# herald's whole test suite: what CI runs, and what to run before a change
# lands. PostgreSQL is started by the tests themselves (initdb and postgres
# on PATH; as root they run as the postgres user).
#
# Every test build carries the heraldtestclock tag, so that setting
# HERALD_TEST_CLOCK_SHIFT (a Go duration, e.g. 8760h) runs the whole suite,
# and the herald binaries it builds, as if the clock read that much later.
# Release builds have no such tag and never read the variable.
set -euo pipefail
cd "$(dirname "$0")/.."
tags=-tags=heraldtestclock
if [ -n "${HERALD_TEST_CLOCK_SHIFT:-}" ]; then
  echo "== the default clock is shifted by $HERALD_TEST_CLOCK_SHIFT"
  # The shift is read before any test starts, so go test's cache cannot
  # see it: results cached from an unshifted run must not stand in.
  tags="$tags -count=1"
fi

echo "== go vet"
go vet -tags=heraldtestclock ./...

echo "== unit and end-to-end tests (race detector on)"
go test $tags -race $(go list ./... | grep -v '/reliability$')

# The reliability suite drives the real binary and measures rate limits
# from the fake server's arrival times, so it runs on its own rather than
# beside the race-instrumented packages. Its table of figures is printed.
# The frozen-replica scenario alone waits out two 3-minute settle times,
# so the suite gets more than go test's default 10 minutes.
echo "== reliability suite"
log=$(mktemp)
set +e
go test -tags=heraldtestclock -v -count=1 -timeout=30m ./reliability/ >"$log" 2>&1
rc=$?
set -e
grep -E '^(--- |FAIL|ok|PASS)|^\|' "$log" || true
if [ "$rc" -ne 0 ]; then
  echo "reliability suite failed; the end of its log:"
  tail -n 150 "$log"
  exit "$rc"
fi

echo "== every benchmark once, so none rots"
go test $tags -run='^$' -bench=. -benchtime=1x ./... >/dev/null
echo "ok"
