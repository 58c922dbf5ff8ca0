#!/usr/bin/env bash
# kubesim load-mode benchmark: paginated list of all pods and watch event
# throughput to one client. Prints a markdown table for docs/benchmarks.md.
#   bench/kubesim_bench.sh [BIN_DIR]   (env: NODES PODS CHURN SECONDS)
set -u
REPO=$(cd "$(dirname "$0")/.." && pwd)
BIN=${1:-${BIN:-$REPO/bin}}
NODES=${NODES:-5000}; PODS=${PODS:-150000}; CHURN=${CHURN:-60000}; SECONDS_W=${SECONDS:-10}
KS="$BIN/kubesim"
[ -x "$KS" ] || { echo "kubesim not built at $KS" >&2; exit 1; }
TMP=$(mktemp -d /tmp/kubesim-bench.XXXXXX)
PORT=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
KPID=""
cleanup() { [ -n "$KPID" ] && kill "$KPID" 2>/dev/null; wait 2>/dev/null; rm -rf "$TMP"; }
trap cleanup EXIT

t0=$(date +%s.%N)
"$KS" --listen=127.0.0.1:$PORT --kubeconfig-out="$TMP/kc" --load=nodes=$NODES,pods=$PODS,churn=$CHURN >"$TMP/log" 2>&1 &
KPID=$!
for i in $(seq 1 1200); do
  [ -s "$TMP/kc" ] && curl -s -o /dev/null --cacert "$TMP/kc.ca.crt" "https://127.0.0.1:$PORT/healthz" && break
  sleep 0.1
done
t1=$(date +%s.%N)
startup=$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.1f", b-a}')

KS_URL="https://127.0.0.1:$PORT" KS_KUBECONFIG="$TMP/kc" KS_PID=$KPID SECS=$SECONDS_W PODS=$PODS CHURN=$CHURN STARTUP=$startup \
PYTHONPATH="$REPO/tests/fixtures/kubesim" python3 - <<'PY'
import os, re, time, json
from kslib import *

pods = int(os.environ["PODS"]); secs = float(os.environ["SECS"])
def rss_mib():
    for l in open("/proc/%s/status" % os.environ["KS_PID"]):
        if l.startswith("VmRSS"):
            return int(l.split()[1]) / 1024
# paginated list, limit=500: read each page fully, take the continue token
t0 = time.time(); n = 0; nbytes = 0; cont = ""; pages = 0
s = connect()
tok = token()
while True:
    path = "/api/v1/pods?limit=500" + ("&continue=" + cont if cont else "")
    s.sendall(("GET %s HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n\r\n" % (path, tok)).encode())
    st, h, rest = __import__("kslib")._read_head(s)
    ln = int(h["content-length"]); body = bytearray(rest)
    while len(body) < ln:
        body += s.recv(1 << 20)
    body = bytes(body)
    pages += 1; nbytes += len(body)
    n += body.count(b'"kind":"Pod"')
    m = re.search(rb'"continue":"([^"]+)"', body[:2000])
    if not m: break
    cont = m.group(1).decode()
list_s = time.time() - t0
# watch throughput to one client: curl decodes TLS + chunking in C, wc counts lines
import subprocess
rv = re.search(rb'"resourceVersion":"(\d+)"', get("/api/v1/pods?limit=1").body).group(1).decode()
cmd = "timeout %d curl -sN --cacert %s.ca.crt -H 'Authorization: Bearer %s' '%s/api/v1/pods?watch=1&resourceVersion=%s' | wc -lc; echo ${PIPESTATUS[0]}" % (
    secs, os.environ["KS_KUBECONFIG"], tok, os.environ["KS_URL"], rv)
t0 = time.time()
out = subprocess.run(["bash", "-c", cmd], capture_output=True, text=True).stdout.split()
el = time.time() - t0
events, wbytes, rc = int(out[0]), int(out[1]), int(out[2])
if rc != 124:
    print("note: the watch ended before the %d s were up (curl rc %d): the client fell behind the history window" % (secs, rc))
print("| figure | value |")
print("|---|---|")
print("| objects | %d pods, %s nodes |" % (pods, os.environ.get("NODES", "5000")))
print("| start-up (populate + TLS keys) | %s s |" % os.environ["STARTUP"])
print("| RSS after start | %.0f MiB |" % rss_mib())
print("| paginated list (limit=500) | %d pods in %d pages, %.2f s (%.0f pods/s, %.1f MiB/s) |" % (n, pages, list_s, n / list_s, nbytes / list_s / 1048576))
print("| watch, churn=%s/s, one client | %.0f events/s (%.1f MiB/s) over %.0f s |" % (os.environ["CHURN"], events / el, wbytes / el / 1048576, el))
print("| RSS after the watch | %.0f MiB |" % rss_mib())
PY
