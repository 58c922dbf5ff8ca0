#!/usr/bin/env bash
# 053_collect_ahead.sh - answering a steady scraper from a collection made
# ahead (agent/agent_ahead.h, agent/agent_render.h).
#
# A small generated pod tree (so the collection goes to the collection
# thread, as on a real node); a python scraper at a fixed 1 s cadence,
# as Prometheus scrapes. Checks: answers made ahead appear once the cadence
# is steady; every answer (gzip compressed ahead, gzip and plain encoded
# then) decodes, passes promtool when installed, and carries the same
# series as an answer collected on scrape; the data is at most
# --collection.ahead-max-age old; a scraper that goes quiet gets a fresh
# collection (the one made ahead is counted stale); 0 turns it off.
. "$(dirname "$0")/lib/common.sh"
need python3
need_bin "$BIN/vigil-agent"
REPO=${REPO:-$(cd "$(dirname "$0")/../.." && pwd)}
python3 "$REPO/tests/fixtures/gen_pod_tree.py" --layout v2-systemd-containerd --pods 12 \
    --containers 2 --out "$TMP/tree" >/dev/null || fail "cannot generate the pod tree"

run_agent() { # run_agent LOG [args...]: sets PORT, APID; TREE: the node tree
    local log=$1 tree=${TREE:-$TMP/tree}
    shift
    PORT=$(free_port)
    start "$log" "$BIN/vigil-agent" --web.listen-address=127.0.0.1:$PORT \
        --collector.disable-defaults --collector.pods --path.sysfs="$tree/sys" \
        --path.procfs="$tree/proc" --path.rootfs="$tree/root" "$@"
    APID=$LAST_PID
    wait_http "http://127.0.0.1:$PORT/readyz" || fail "agent did not start: $(cat "$log")"
}

# cadence PORT N DIR [curl args...]: N scrapes every second, each answer
# saved raw as DIR/N.body with its headers in DIR/N.head
cadence() {
    local port=$1 n=$2 dir=$3
    shift 3
    mkdir -p "$dir"
    python3 - "$port" "$n" "$dir" "$@" <<'EOF'
import subprocess, sys, time
port, n, d, extra = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4:]
t0 = time.monotonic()
for i in range(n):
    delay = t0 + i - time.monotonic()
    if delay > 0:
        time.sleep(delay)
    subprocess.run(["curl", "-s", "-D", "%s/%d.head" % (d, i), "-o", "%s/%d.body" % (d, i)]
                   + extra + ["http://127.0.0.1:%s/metrics" % port], check=True)
EOF
}

value() { # value FILE METRIC
    awk -v m="$2" '$1 == m { print $2 }' "$1"
}

# the collector's series (names and labels), without values or self metrics
series() {
    grep '^container_\|^pod_' "$1" | sed 's/ [^ ]*$//' | sort
}

run_agent "$TMP/agent.log"
curl -s "http://127.0.0.1:$PORT/metrics" >"$TMP/on-scrape.txt"
series "$TMP/on-scrape.txt" >"$TMP/want"
[ "$(wc -l <"$TMP/want")" -gt 300 ] || fail "too few pod series: $(wc -l <"$TMP/want")"

cadence "$PORT" 11 "$TMP/gz" -H 'Accept-Encoding: gzip'
ahead=0
for i in $(seq 0 10); do
    grep -qi '^content-encoding: gzip' "$TMP/gz/$i.head" || fail "answer $i not gzip"
    gzip -dc "$TMP/gz/$i.body" >"$TMP/gz/$i.txt" || fail "answer $i does not decode"
    series "$TMP/gz/$i.txt" | cmp -s - "$TMP/want" || fail "answer $i: other series than on scrape"
    age=$(value "$TMP/gz/$i.txt" vigil_agent_collection_age_seconds)
    awk -v a="$age" 'BEGIN { exit !(a != "" && a <= 1) }' || fail "answer $i: data $age s old"
    n=$(value "$TMP/gz/$i.txt" vigil_agent_scrapes_answered_ahead_total)
    [ "${n:-0}" -gt "$ahead" ] && ahead=$n
done
# 5 scrapes to learn the cadence; on a busy machine a slow collection may
# still put one off (the plan needs it well inside half the interval)
[ "$ahead" -ge 2 ] || fail "only $ahead of 11 steady scrapes answered ahead"
if command -v promtool >/dev/null; then
    # exit 3 is lint only (cAdvisor's unit-less names); anything else is a parse error
    rc=0
    promtool check metrics <"$TMP/gz/10.txt" >"$TMP/promtool.out" 2>&1 || rc=$?
    [ "$rc" = 0 ] || [ "$rc" = 3 ] || fail "promtool: $(head -5 "$TMP/promtool.out")"
fi
ok "steady gzip scraper: $ahead of 11 answered ahead, same series, data <= 1 s old"

# the same cadence without gzip: encoded when asked, from the collection made ahead
cadence "$PORT" 7 "$TMP/plain"
before=$ahead
for i in $(seq 0 6); do
    grep -qi '^content-encoding' "$TMP/plain/$i.head" && fail "plain answer $i compressed"
    series "$TMP/plain/$i.body" | cmp -s - "$TMP/want" || fail "plain answer $i: other series"
    n=$(value "$TMP/plain/$i.body" vigil_agent_scrapes_answered_ahead_total)
    [ "${n:-0}" -gt "$ahead" ] && ahead=$n
done
[ "$ahead" -gt "$before" ] || fail "no plain scrape answered ahead"
ok "steady plain scraper answered ahead"

# a scraper that goes quiet: the collection made ahead goes stale, the
# late scrape gets a fresh one
sleep 2.5
curl -s "http://127.0.0.1:$PORT/metrics" >"$TMP/late.txt"
stale=$(value "$TMP/late.txt" vigil_agent_collections_ahead_stale_total)
[ "${stale:-0}" -ge 1 ] || fail "late scrape: no stale collection counted"
age=$(value "$TMP/late.txt" vigil_agent_collection_age_seconds)
awk -v a="$age" 'BEGIN { exit !(a != "" && a < 1) }' || fail "late scrape got data $age s old"
ok "a late scrape is collected for ($stale stale)"
kill "$APID"

run_agent "$TMP/agent0.log" --collection.ahead-max-age=0
cadence "$PORT" 8 "$TMP/off" -H 'Accept-Encoding: gzip'
gzip -dc "$TMP/off/7.body" >"$TMP/off.txt"
n=$(value "$TMP/off.txt" vigil_agent_collections_ahead_total)
[ "$n" = 0 ] || fail "collected ahead $n times with --collection.ahead-max-age=0"
ok "--collection.ahead-max-age=0 collects on scrape only"

# Slow readers: an answer pauses while its client has 256 KiB unread, and
# still reads its scrape model; the next collection goes into a second
# model. Two stalled readers hold both: a scrape then gets 503 at its
# deadline (saying why), and collects again once a reader is gone.
# The answer must outgrow what the kernel's socket buffers take (MBs on
# loopback): the 110-pod tree (4.8 MB), on tmpfs when there is one.
BIG=$TMP/tree110
if [ -d /dev/shm ] && [ -w /dev/shm ]; then
    BIG=$(mktemp -d /dev/shm/vigil-it-053.XXXXXX)
    trap 'rm -rf "$BIG"; cleanup' EXIT
fi
python3 "$REPO/tests/fixtures/gen_pod_tree.py" --layout v2-systemd-containerd --pods 110 \
    --containers 3 --out "$BIG/t" >/dev/null || fail "cannot generate the pod tree"
TREE=$BIG/t run_agent "$TMP/agent-slow.log"
python3 - "$PORT" "$TMP" <<'EOF2' || fail "slow readers: see above"
import socket, subprocess, sys, time
port, tmp = sys.argv[1], sys.argv[2]
def stalled():
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.connect(("127.0.0.1", int(port)))
    s.sendall(b"GET /metrics HTTP/1.1\r\nHost: t\r\n\r\n")
    time.sleep(0.5)
    return s
def scrape(name, *hdr):
    args = ["curl", "-s", "-o", "%s/%s" % (tmp, name), "-w", "%{http_code}"]
    for h in hdr:
        args += ["-H", h]
    t = time.monotonic()
    code = subprocess.run(args + ["http://127.0.0.1:%s/metrics" % port], capture_output=True,
                          text=True).stdout
    return code, time.monotonic() - t
a = stalled()
code, secs = scrape("s1.txt")
if code != "200" or secs > 3:
    sys.exit("FAIL: with one stalled reader a scrape got %s in %.1f s" % (code, secs))
b = stalled()
code, secs = scrape("s2.txt", "X-Prometheus-Scrape-Timeout-Seconds: 1")
if code != "503" or "slow readers" not in open(tmp + "/s2.txt").read():
    sys.exit("FAIL: with both models read a scrape got %s: %s" % (code, open(tmp + "/s2.txt").read()))
a.close()
time.sleep(0.3)
code, secs = scrape("s3.txt")
if code != "200" or secs > 3:
    sys.exit("FAIL: after a stalled reader left a scrape got %s in %.1f s" % (code, secs))
b.close()
EOF2
series "$TMP/s1.txt" >"$TMP/want-slow"
series "$TMP/s3.txt" | cmp -s - "$TMP/want-slow" || fail "answers next to slow readers differ"
ok "a stalled reader does not hold up scrapes; two hold both models: 503 saying why"
