#!/usr/bin/env bash
# Run each libFuzzer target for FUZZ_SECONDS (default 30) from its seed
# corpus (tests/fuzz/corpus/<name>/ when present), FUZZ_JOBS at a time
# (default 2). A crash, leak or sanitizer report fails the run.
set -u
secs=${FUZZ_SECONDS:-30}
jobs=${FUZZ_JOBS:-2}
out=$(mktemp -d)
run_one() {
  f=$1; secs=$2; out=$3
  name=$(basename "$f")
  work=$(mktemp -d)
  corpus_src="tests/fuzz/corpus/${name#fuzz_}"
  [ -d "$corpus_src" ] && cp -r "$corpus_src"/. "$work"/ 2>/dev/null
  if "$f" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 "$work" >"$out/$name.log" 2>&1; then
    echo "  PASS  $name ($(grep -o 'exec/s: [0-9]*' "$out/$name.log" | tail -1))"
  else
    echo "  FAIL  $name"; tail -30 "$out/$name.log"; touch "$out/$name.failed"
  fi
  rm -rf "$work"
}
export -f run_one
printf '%s\n' "$@" | xargs -P "$jobs" -I{} bash -c 'run_one "$@"' _ {} "$secs" "$out"
nfail=$(find "$out" -name '*.failed' | wc -l)
echo "fuzz: $(( $# - nfail )) passed, $nfail failed"
rm -rf "$out"
[ "$nfail" -eq 0 ]
