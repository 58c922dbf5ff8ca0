# Shared helpers for integration scripts: ports, process lifecycle, waits.
# Source it: . "$REPO/tests/integration/lib/common.sh"
set -u
REPO=${REPO:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)}
BIN=${BIN:-$REPO/bin}
TMP=$(mktemp -d /tmp/vigil-it.XXXXXX)
PIDS=()

cleanup() {
  local rc=$?
  set +e
  for p in "${PIDS[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null; done
  sleep 0.2
  for p in "${PIDS[@]:-}"; do [ -n "$p" ] && kill -9 "$p" 2>/dev/null; done
  if [ $rc -ne 0 ] && [ $rc -ne 77 ]; then
    # a failed run shows the tail of every process log it kept (CI has nothing else)
    for f in "$TMP"/*.log; do
      [ -f "$f" ] || continue
      echo "--- tail of $(basename "$f")" >&2; tail -n 15 "$f" >&2
    done
  fi
  rm -rf "$TMP"
  exit $rc
}
trap cleanup EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }
skip() { echo "SKIP: $*"; exit 77; }
ok() { echo "ok: $*"; }

free_port() {
  python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'
}

# wait_http URL [seconds] - until the URL answers (any status)
wait_http() {
  local url=$1 t=${2:-10} i=0
  while [ $i -lt $((t * 20)) ]; do
    curl -s -o /dev/null --max-time 1 "$url" && return 0
    sleep 0.05; i=$((i + 1))
  done
  return 1
}

# start NAME LOGFILE CMD... - start in background, remember the pid in $LAST_PID
start() {
  local log=$1; shift
  "$@" >"$log" 2>&1 &
  LAST_PID=$!
  PIDS+=("$LAST_PID")
}

need() { command -v "$1" >/dev/null 2>&1 || skip "$1 not installed"; }
need_bin() { [ -x "$1" ] || skip "$1 not built"; }
