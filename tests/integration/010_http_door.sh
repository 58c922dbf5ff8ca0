#!/usr/bin/env bash
# 010_http_door.sh - the HTTP door of the real binaries holds its limits:
# 404 for unknown paths, 405 (with Allow) for POST, 400 for a garbage
# request line, 431 for a 16 KiB header, and clients trickling a request
# head one byte per second neither delay /healthz for others (< 0.5 s each)
# nor keep their slot past the header timeout (408). Runs against
# vigil-agent and vigil-operator (the operator with no Kubernetes API).
set -u
REPO=${REPO:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$REPO/tests/integration/lib/common.sh"

need curl
need python3
need_bin "$BIN/vigil-agent"
need_bin "$BIN/vigil-operator"

HEADER_TIMEOUT_S=3
NSLOW=4

# The trickler: connect, send a request head one byte per second, report
# what the server answered (its status code, "closed" or "junk") and after how long.
cat >"$TMP/trickle.py" <<'EOF'
import select, socket, sys, time
port, secs = int(sys.argv[1]), float(sys.argv[2])
s = socket.create_connection(("127.0.0.1", port), timeout=5)
head = b"GET /healthz HTTP/1.1\r\nHost: trickle\r\nX-Slow: " + b"a" * 200 + b"\r\n\r\n"
t0, got = time.time(), b""
for b in head:
    if time.time() - t0 > secs:
        break
    try:
        s.send(bytes([b]))
    except OSError:
        break
    if select.select([s], [], [], 1.0)[0]:
        break
try:
    s.settimeout(2.0)
    got = s.recv(4096)
except OSError:
    pass
line = got.split(b"\r\n", 1)[0].decode("latin-1")
res = line.split(" ")[1] if line.startswith("HTTP/1.1 ") else ("closed" if not got else "junk")
print(res, "%.1f" % (time.time() - t0))
EOF

# code URL [curl args...] -> prints the status code
code() {
  local url=$1; shift
  curl -s -o /dev/null --max-time 5 -w '%{http_code}' "$@" "$url"
}

# raw PORT BYTES -> first line of the answer to raw request bytes
raw_status() {
  python3 - "$1" "$2" <<'EOF'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
s.sendall(sys.argv[2].encode("latin-1").decode("unicode_escape").encode("latin-1"))
d = b""
try:
    while b"\r\n" not in d:
        c = s.recv(4096)
        if not c:
            break
        d += c
except OSError:
    pass
print(d.split(b"\r\n", 1)[0].decode("latin-1"))
EOF
}

check_door() { # NAME BINARY [extra args...]
  local name=$1 bin=$2; shift 2
  local port; port=$(free_port)
  local base="http://127.0.0.1:$port"
  local args=("--web.listen-address=127.0.0.1:$port")
  local help; help=$("$bin" --help 2>&1)
  local ht=0
  if grep -q -- 'web.header-timeout' <<<"$help"; then
    args+=("--web.header-timeout=${HEADER_TIMEOUT_S}s"); ht=1
  fi
  start "$TMP/$name.log" "$bin" "${args[@]}" "$@"
  local pid=$LAST_PID
  if ! wait_http "$base/healthz" 15; then
    tail -20 "$TMP/$name.log" >&2
    fail "$name did not come up on $base"
  fi

  local c
  c=$(code "$base/healthz"); [ "$c" = 200 ] || fail "$name: /healthz -> $c"
  c=$(code "$base/definitely-not-here"); [ "$c" = 404 ] || fail "$name: unknown path -> $c, want 404"
  c=$(code "$base/healthz" -X POST --data x -D "$TMP/$name.post.h")
  [ "$c" = 405 ] || fail "$name: POST -> $c, want 405"
  grep -qi '^Allow: GET, HEAD' "$TMP/$name.post.h" || fail "$name: 405 without 'Allow: GET, HEAD'"
  c=$(code "$base/healthz" -I); [ "$c" = 200 ] || fail "$name: HEAD /healthz -> $c"
  local big; big=$(head -c 16384 /dev/zero | tr '\0' a)
  c=$(code "$base/healthz" -H "X-Big: $big"); [ "$c" = 431 ] || fail "$name: 16 KiB header -> $c, want 431"
  local line; line=$(raw_status "$port" 'GARBAGE\r\n\r\n')
  [[ "$line" == "HTTP/1.1 400 "* ]] || fail "$name: garbage request line -> '$line', want 400"
  ok "$name: 404, 405+Allow, HEAD, 431, 400"

  # Slow clients trickle their heads; /healthz stays fast for everyone else.
  local spids=() i
  for i in $(seq 1 $NSLOW); do
    python3 "$TMP/trickle.py" "$port" $((HEADER_TIMEOUT_S + 4)) >"$TMP/$name.slow$i" 2>&1 &
    spids+=($!)
  done
  sleep 1.2
  local worst=0 t
  for i in 1 2 3 4 5; do
    read -r c t < <(curl -s -o /dev/null --max-time 5 -w '%{http_code} %{time_total}\n' "$base/healthz")
    [ "$c" = 200 ] || fail "$name: /healthz during slow clients -> $c"
    worst=$(awk -v a="$worst" -v b="$t" 'BEGIN{print (b > a) ? b : a}')
    sleep 0.3
  done
  awk -v w="$worst" 'BEGIN{exit !(w < 0.5)}' || fail "$name: /healthz took ${worst}s with slow clients (want < 0.5 s)"
  ok "$name: /healthz worst ${worst}s while $NSLOW clients send 1 byte/s"

  for p in "${spids[@]}"; do
    timeout 20 tail --pid="$p" -f /dev/null || fail "$name: trickling client did not finish"
  done
  if [ $ht = 1 ]; then
    for i in $(seq 1 $NSLOW); do
      read -r res secs <"$TMP/$name.slow$i" || true
      [ "${res:-}" = 408 ] || fail "$name: slow client $i got '${res:-nothing}', want 408"
      awk -v s="$secs" -v h=$HEADER_TIMEOUT_S 'BEGIN{exit !(s >= h - 0.5 && s < h + 2.5)}' ||
        fail "$name: slow client $i answered after ${secs}s, header timeout ${HEADER_TIMEOUT_S}s"
    done
    ok "$name: slow clients got 408 at the ${HEADER_TIMEOUT_S}s header timeout"
  else
    echo "note: $name has no --web.header-timeout; 408 timing not checked"
  fi

  kill -0 "$pid" 2>/dev/null || fail "$name died"
  kill "$pid"
  timeout 10 tail --pid="$pid" -f /dev/null || fail "$name did not stop on SIGTERM"
}

check_door agent "$BIN/vigil-agent"
op_args=()
if "$BIN/vigil-operator" --help 2>&1 | grep -q -- '--kubeconfig'; then
  op_args+=("--kubeconfig=/nonexistent")
fi
unset KUBERNETES_SERVICE_HOST KUBECONFIG
check_door operator "$BIN/vigil-operator" "${op_args[@]}"
echo "PASS"
