#!/usr/bin/env bash
# pods_bench.sh - the pods collector against generated Kubernetes nodes.
#
# Builds the 110-pod x 3-container cgroup v2 / systemd / containerd tree and
# the 500-pod cgroup v1 / cgroupfs / CRI-O tree with
# tests/fixtures/gen_pod_tree.py (on tmpfs when there is one), runs
# vigil-agent with only the pods collector against each, scrapes it
# $SCRAPES times over loopback and prints a markdown table:
#   - collector time: node_scrape_collector_duration_seconds{collector="pods"}
#     (reading the cgroups and runtime state, building the series);
#   - scrape time: the whole HTTP scrape as curl sees it (adds encoding
#     several MB of text and sending it);
#   - agent CPU per scrape (utime+stime over the run / scrapes): steadier
#     than wall times on a busy machine;
#   - series and bytes per scrape, agent peak RSS (VmHWM) after all scrapes;
#   - agent peak RSS once /readyz answers (the first collection done, no
#     scrape answered yet): the collector's and the scrape model's memory
#     without the HTTP side, whose share of the peak grows when curl reads
#     slower than the agent encodes (a busy machine).
# Part 1, collected on scrape (--collection.ahead-max-age=0, scrapes back
# to back): each tree runs default (every cgroup file opened, read, closed
# each scrape; two reading threads), with --collector.pods.threads=1, and
# with --collector.pods.max-open-files (files kept open and re-read in
# place); the 500-pod tree also with gzip asked for, as Prometheus does
# (the body column is then the inflated size).
# Part 2, a steady scraper (one scrape every $CADENCE s, as Prometheus
# scrapes; default settings, so the agent collects ahead of each scrape,
# see agent/agent_ahead.h): each tree with Accept-Encoding: gzip (as
# Prometheus asks; the time is the compressed answer's, the client's
# inflating not counted) and without. The scraper there is a python socket
# client that keeps the answer in memory, as Prometheus does; part 1's
# curl writes each 4.8-6.8 MB body to a file (2-4 ms of client time).
# STEADY_ONLY=1 runs part 2 only.
# Targets from issue 4: 110 pods <= 5 ms, 500 pods <= 20 ms median, peak
# RSS <= 8 MiB.
set -euo pipefail
REPO=${REPO:-$(cd "$(dirname "$0")/.." && pwd)}
BIN=${BIN:-$REPO/bin}
SCRAPES=${SCRAPES:-30}
CADENCE=${CADENCE:-1}
CURL_OPTS=   # the gzip row sets --compressed
EVERY=0      # part 2 sets the cadence (seconds between scrape starts)
AGENT=$BIN/vigil-agent
[ -x "$AGENT" ] || { echo "pods_bench: $AGENT not built (make first)"; exit 1; }
command -v curl >/dev/null || { echo "pods_bench: curl not found"; exit 1; }

if [ -d /dev/shm ] && [ -w /dev/shm ]; then
    WORK=$(mktemp -d /dev/shm/vigil-pods-bench.XXXXXX)
else
    WORK=$(mktemp -d "${BUILD:-/tmp}/vigil-pods-bench.XXXXXX")
fi
APID=
cleanup() {
    [ -n "$APID" ] && kill "$APID" 2>/dev/null && wait "$APID" 2>/dev/null
    rm -rf "$WORK"
}
trap cleanup EXIT

port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }

# stats FILE -> "median p90" of the numbers in FILE (seconds), in ms
stats() {
    sort -g "$1" | awk '{v[NR]=$1} END {m=v[int((NR+1)/2)]; p=v[int(NR*0.9+0.5)]; printf "%.2f %.2f\n", m*1000, p*1000}'
}

bench_tree() { # bench_tree LABEL TREE [extra agent args...]
    local label=$1 tree=$2
    shift 2
    local p
    p=$(port)
    "$AGENT" --web.listen-address=127.0.0.1:"$p" --collector.disable-defaults --collector.pods \
        --path.sysfs="$tree/sys" --path.procfs="$tree/proc" --path.rootfs="$tree/root" \
        --log.level=warn "$@" 2>"$WORK/agent.err" &
    APID=$!
    local up=0 hwm0=
    for _ in $(seq 1 100); do
        [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$p/readyz")" = 200 ] && {
            hwm0=$(awk '/VmHWM/ {printf "%.1f", $2/1024}' "/proc/$APID/status"); break; }
        sleep 0.1
    done
    for _ in $(seq 1 100); do
        curl -sf -o /dev/null "http://127.0.0.1:$p/metrics" && { up=1; break; }
        sleep 0.1
    done
    [ "$up" = 1 ] || { echo "pods_bench: agent did not come up"; cat "$WORK/agent.err"; exit 1; }
    local bytes=0 series=0 cpu0 cpu1
    cpu0=$(awk '{print $14 + $15}' "/proc/$APID/stat")
    # scrapes at absolute times EVERY s apart (0: back to back); each
    # answer's time, collector duration and whether it was answered ahead
    # With SOCK=gzip|plain the scraper is this script on a plain socket,
    # keeping the answer in memory as Prometheus does (curl -o writes
    # 4.8-6.8 MB to a file per scrape, 2-4 ms of the client's time).
    python3 - "$p" "$SCRAPES" "$EVERY" "$WORK" "${SOCK:-}" $CURL_OPTS <<'PY'
import gzip, socket, subprocess, sys, time
port, n, every, work, sock = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), sys.argv[4], sys.argv[5]
opts = sys.argv[6:]
wall, coll = open(work + "/wall", "w"), open(work + "/coll", "w")

def fetch(gz):
    """One GET on a fresh connection, read to EOF (Connection: close).
    Returns (seconds from connect to the last byte, decoded body)."""
    t = time.perf_counter()
    c = socket.create_connection(("127.0.0.1", int(port)))
    c.sendall(b"GET /metrics HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n" +
              (b"Accept-Encoding: gzip\r\n" if gz else b"") + b"\r\n")
    parts = []
    while True:
        d = c.recv(1 << 20)
        if not d:
            break
        parts.append(d)
    secs = time.perf_counter() - t
    c.close()
    raw = b"".join(parts)
    head, _, body = raw.partition(b"\r\n\r\n")
    if b"chunked" in head.lower():
        out, pos = bytearray(), 0
        while True:
            eol = body.index(b"\r\n", pos)
            size = int(body[pos:eol], 16)
            out += body[eol + 2:eol + 2 + size]
            pos = eol + 2 + size + 2
            if size == 0:
                break
        body = bytes(out)
    if not head.startswith(b"HTTP/1.1 200"):
        sys.exit("pods_bench: " + head.split(b"\r\n")[0].decode())
    return secs, body

ahead = 0
t0 = time.monotonic()
for i in range(n):
    delay = t0 + i * every - time.monotonic()
    if delay > 0:
        time.sleep(delay)
    if sock:
        secs, raw = fetch(sock == "gzip")
        wall.write("%.6f\n" % secs)
    else:
        r = subprocess.run(["curl", "-s"] + opts + ["-D", work + "/head", "-o", work + "/raw",
                            "-w", "%{time_total}", "http://127.0.0.1:%s/metrics" % port],
                           capture_output=True, text=True, check=True)
        wall.write(r.stdout + "\n")
        raw = open(work + "/raw", "rb").read()
    if raw[:2] == b"\x1f\x8b":  # not inflated by curl (no --compressed)
        raw = gzip.decompress(raw)
    open(work + "/out", "wb").write(raw)
    for line in raw.decode().splitlines():
        if line.startswith('node_scrape_collector_duration_seconds{collector="pods"}'):
            coll.write(line.split()[1] + "\n")
        if line.startswith("vigil_agent_scrapes_answered_ahead_total "):
            ahead = int(float(line.split()[1]))
open(work + "/ahead", "w").write("%d\n" % ahead)
PY
    cpu1=$(awk '{print $14 + $15}' "/proc/$APID/stat")
    local cpums
    cpums=$(awk -v a="$cpu0" -v b="$cpu1" -v n="$SCRAPES" -v hz="$(getconf CLK_TCK)" \
        'BEGIN{printf "%.1f", (b - a) * 1000 / hz / n}')
    bytes=$(wc -c <"$WORK/out")
    series=$(grep -c '^container_\|^pod_' "$WORK/out" || true)
    local hwm
    hwm=$(awk '/VmHWM/ {printf "%.1f", $2/1024}' "/proc/$APID/status")
    kill "$APID"
    wait "$APID" 2>/dev/null || true
    APID=
    read -r cmed cp90 < <(stats "$WORK/coll")
    read -r wmed wp90 < <(stats "$WORK/wall")
    if [ "$EVERY" = 0 ]; then
        printf '| %s | %s | %s / %s | %s / %s | %s | %s | %s | %s |\n' "$label" "$series" "$cmed" "$cp90" \
            "$wmed" "$wp90" "$cpums" "$(awk -v b="$bytes" 'BEGIN{printf "%.1f MB", b/1e6}')" "$hwm" "${hwm0:-?}"
    else
        printf '| %s | %s / %s | %s / %s | %s of %s | %s | %s | %s |\n' "$label" "$wmed" "$wp90" "$cmed" \
            "$cp90" "$(cat "$WORK/ahead")" "$SCRAPES" "$cpums" "$hwm" "${hwm0:-?}"
    fi
}

GEN=$REPO/tests/fixtures/gen_pod_tree.py
python3 "$GEN" --layout v2-systemd-containerd --pods 110 --containers 3 --out "$WORK/v2-110"
python3 "$GEN" --layout v1-cgroupfs-crio --pods 500 --containers 1 --out "$WORK/v1-500"

echo "Pods collector, $SCRAPES scrapes each over loopback, trees on $(df --output=fstype "$WORK" | tail -1)."
echo "Times in ms (median / p90). Targets: 110 pods <= 5 ms, 500 pods <= 20 ms, RSS <= 8 MiB."
echo
echo "Load average at start: $(cut -d' ' -f1-3 /proc/loadavg)."
echo
echo '| tree | series | collector ms | scrape ms | agent CPU ms/scrape | body | peak RSS MiB | RSS after 1st collection MiB |'
echo '|---|---|---|---|---|---|---|---|'
OFF=--collection.ahead-max-age=0
[ "${STEADY_ONLY:-0}" = 1 ] || {
bench_tree "110 pods x 3 ctrs, v2 systemd containerd" "$WORK/v2-110" $OFF
bench_tree "same, threads=1" "$WORK/v2-110" $OFF --collector.pods.threads=1
bench_tree "same, max-open-files=100000" "$WORK/v2-110" $OFF --collector.pods.max-open-files=100000
bench_tree "500 pods x 1 ctr, v1 cgroupfs CRI-O" "$WORK/v1-500" $OFF
bench_tree "same, threads=1" "$WORK/v1-500" $OFF --collector.pods.threads=1
bench_tree "same, max-open-files=100000" "$WORK/v1-500" $OFF --collector.pods.max-open-files=100000
CURL_OPTS=--compressed bench_tree "same, gzip (as Prometheus asks)" "$WORK/v1-500" $OFF
}

echo
echo "A steady scraper: one scrape every $CADENCE s, default settings (the agent collects ahead"
echo "of each expected scrape). Answer ms: from connecting to the answer's last byte, read into"
echo "memory by a python socket client (compressed when gzip is asked for; inflating it, and"
echo "the chunked decoding, are the client's work and not counted)."
echo "Load average now: $(cut -d' ' -f1-3 /proc/loadavg)."
echo
echo '| tree | answer ms | collector ms | answered ahead | agent CPU ms/scrape | peak RSS MiB | RSS after 1st collection MiB |'
echo '|---|---|---|---|---|---|---|'
EVERY=$CADENCE
SOCK=gzip bench_tree "110 pods x 3 ctrs, gzip" "$WORK/v2-110"
SOCK=plain bench_tree "110 pods x 3 ctrs, plain" "$WORK/v2-110"
SOCK=gzip bench_tree "500 pods x 1 ctr, gzip" "$WORK/v1-500"
SOCK=plain bench_tree "500 pods x 1 ctr, plain" "$WORK/v1-500"
