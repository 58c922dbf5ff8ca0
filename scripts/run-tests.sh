#!/usr/bin/env bash
# Run Vigil's tests: cmocka unit binaries and/or integration scripts.
#   scripts/run-tests.sh unit|integration|all
# Env: BUILD (build dir), BIN (binaries dir), TEST_FILTER (substring of test names).
# Integration scripts exit 0 (pass), 77 (skip, with a reason) or other (fail).
# Ends with the summary line "N passed, N failed, N skipped".
set -u
mode=${1:-all}
BUILD=${BUILD:-build}
BIN=${BIN:-bin}
REPO=$(cd "$(dirname "$0")/.." && pwd)
export BUILD BIN REPO
case "$BIN" in /*) ;; *) export BIN="$REPO/$BIN";; esac
case "$BUILD" in /*) ;; *) export BUILD="$REPO/$BUILD";; esac
cd "$REPO"

pass=0; fail=0; skip=0
failed=()
logdir="$BUILD/test-logs"
mkdir -p "$logdir"
filter=${TEST_FILTER:-}

run_one() { # name, command...
  local name=$1; shift
  local log="$logdir/$(echo "$name" | tr '/' '_').log"
  local t0=$(date +%s.%N)
  "$@" >"$log" 2>&1
  local rc=$?
  local dt=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}')
  if [ $rc -eq 0 ]; then
    pass=$((pass+1)); printf '  PASS  %-55s %6ss\n' "$name" "$dt"
  elif [ $rc -eq 77 ]; then
    skip=$((skip+1)); printf '  SKIP  %-55s %s\n' "$name" "$(grep -m1 -i 'skip' "$log" | cut -c1-80)"
  else
    fail=$((fail+1)); failed+=("$name"); printf '  FAIL  %-55s %6ss (rc=%d)\n' "$name" "$dt" "$rc"
    sed 's/^/        | /' "$log" | tail -40
  fi
}

if [ "$mode" = unit ] || [ "$mode" = all ]; then
  echo "== unit tests ($BUILD/tests/unit)"
  while IFS= read -r t; do
    [ -n "$filter" ] && [[ "$t" != *"$filter"* ]] && continue
    run_one "unit/${t#$BUILD/tests/unit/}" "$t"
  done < <(find "$BUILD/tests/unit" -type f -perm -u+x -name 'test_*' 2>/dev/null | sort)
fi

if [ "$mode" = integration ] || [ "$mode" = all ]; then
  echo "== integration tests (tests/integration)"
  for t in tests/integration/[0-9]*.sh; do
    [ -e "$t" ] || continue
    [ -n "$filter" ] && [[ "$t" != *"$filter"* ]] && continue
    run_one "integration/$(basename "$t")" timeout -k 5 300 bash "$t"
  done
fi

echo
if [ ${#failed[@]} -gt 0 ]; then
  echo "failed: ${failed[*]}"
  echo "logs: $logdir"
fi
echo "$pass passed, $fail failed, $skip skipped"
[ $fail -eq 0 ]
