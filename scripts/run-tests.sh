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

# Sanitizer reports from every instrumented process (also the daemons the
# integration scripts start and stop) go to files, so none is lost with a
# test's temporary directory; any report fails the run.
sandir="$BUILD/sanitizer-reports"
rm -rf "$sandir"; mkdir -p "$sandir"
export ASAN_OPTIONS="log_path=$sandir/asan:log_exe_name=1:detect_leaks=1${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
export UBSAN_OPTIONS="log_path=$sandir/ubsan:log_exe_name=1:print_stacktrace=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"

report() { # name, log, rc, seconds
  local name=$1 log=$2 rc=$3 dt=$4
  if [ "$rc" -eq 0 ]; then
    pass=$((pass+1)); printf '  PASS  %-55s %6ss\n' "$name" "$dt"
  elif [ "$rc" -eq 77 ]; then
    skip=$((skip+1)); printf '  SKIP  %-55s %s\n' "$name" "$(grep -m1 -i 'skip' "$log" | cut -c1-80)"
  else
    fail=$((fail+1)); failed+=("$name"); printf '  FAIL  %-55s %6ss (rc=%d)\n' "$name" "$dt" "$rc"
    sed 's/^/        | /' "$log" | tail -60
  fi
}
run_one() { # name, command...
  local name=$1; shift
  local log="$logdir/$(echo "$name" | tr '/' '_').log"
  local t0=$(date +%s.%N)
  "$@" >"$log" 2>&1
  local rc=$?
  report "$name" "$log" $rc "$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}')"
}

if [ "$mode" = unit ] || [ "$mode" = all ]; then
  echo "== unit tests ($BUILD/tests/unit)"
  while IFS= read -r t; do
    [ -n "$filter" ] && [[ "$t" != *"$filter"* ]] && continue
    run_one "unit/${t#$BUILD/tests/unit/}" "$t"
  done < <(find "$BUILD/tests/unit" -type f -perm -u+x -name 'test_*' 2>/dev/null | sort)
fi

# Integration scripts mostly wait on processes, so TEST_JOBS (default 2) of
# them run at once; a script with a "# test: serial" line runs alone
# (it measures timing or uses a machine-wide resource). Results print in order.
if [ "$mode" = integration ] || [ "$mode" = all ]; then
  echo "== integration tests (tests/integration)"
  jobs_max=${TEST_JOBS:-2}
  names=(); logs=(); serial=()
  for t in tests/integration/[0-9]*.sh; do
    [ -e "$t" ] || continue
    [ -n "$filter" ] && [[ "$t" != *"$filter"* ]] && continue
    names+=("$t")
    grep -q '^# test: serial' "$t" && serial+=(1) || serial+=(0)
  done
  n=${#names[@]}; next=0; shown=0; running=0
  declare -A pid_of
  while [ $shown -lt $n ]; do
    # start what may start
    while [ $next -lt $n ] && [ $running -lt "$jobs_max" ]; do
      if [ "${serial[$next]}" = 1 ] && [ $running -gt 0 ]; then break; fi
      t=${names[$next]}; name="integration/$(basename "$t")"
      log="$logdir/$(echo "$name" | tr '/' '_').log"; logs[$next]=$log
      rm -f "$log.rc"
      ( t0=$(date +%s.%N); timeout -k 5 300 bash "$t" >"$log" 2>&1; rc=$?
        awk -v a="$t0" -v b="$(date +%s.%N)" -v r=$rc 'BEGIN{printf "%d %.1f\n", r, b-a}' >"$log.rc.tmp"
        mv "$log.rc.tmp" "$log.rc" ) &
      pid_of[$next]=$!
      running=$((running+1)); next=$((next+1))
      [ "${serial[$((next-1))]}" = 1 ] && running=$jobs_max
    done
    # print finished results in order
    while [ $shown -lt $next ] && [ -f "${logs[$shown]}.rc" ]; do
      read -r rc dt <"${logs[$shown]}.rc"
      wait "${pid_of[$shown]}" 2>/dev/null
      report "integration/$(basename "${names[$shown]}")" "${logs[$shown]}" "$rc" "$dt"
      rm -f "${logs[$shown]}.rc"
      shown=$((shown+1))
    done
    running=0
    for ((i=shown; i<next; i++)); do
      [ -f "${logs[$i]}.rc" ] && continue
      running=$((running+1))
      [ "${serial[$i]}" = 1 ] && running=$jobs_max   # a serial test runs alone
    done
    [ $shown -lt $n ] && sleep 0.2
  done
fi

reports=$(find "$sandir" -type f 2>/dev/null | sort)
if [ -n "$reports" ]; then
  echo "== sanitizer reports"
  for r in $reports; do echo "  $r"; sed 's/^/        | /' "$r" | head -40; done
  fail=$((fail+1)); failed+=("sanitizer-reports")
fi

echo
if [ ${#failed[@]} -gt 0 ]; then
  echo "failed: ${failed[*]}"
  echo "logs: $logdir"
fi
echo "$pass passed, $fail failed, $skip skipped"
[ $fail -eq 0 ]
