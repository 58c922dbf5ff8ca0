#!/usr/bin/env bash
# `make bench`: every benchmark, side by side with the tool it replaces where
# there is one. Not a test: it prints figures (markdown tables) to paste into
# docs/benchmarks.md. Each part is bench/<part>_bench.sh; BENCH_ONLY=node
# runs one part.
set -u
cd "$(dirname "$0")/.."
export BIN=${BIN:-$PWD/bin} BUILD=${BUILD:-$PWD/build} REPO=$PWD
echo "# Vigil benchmarks — $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, $(uname -r)"
rc=0
for part in node pods gpu kubesim operator; do
  s=bench/${part}_bench.sh
  [ -n "${BENCH_ONLY:-}" ] && [ "$BENCH_ONLY" != "$part" ] && continue
  if [ -x "$s" ] || [ -f "$s" ]; then
    echo; echo "## $part"; bash "$s" || { echo "bench $part failed"; rc=1; }
  fi
done
exit $rc
