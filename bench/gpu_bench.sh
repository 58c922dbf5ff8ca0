#!/usr/bin/env bash
# gpu_bench.sh - what the gpu collector costs, against the fake NVML
# ($BUILD/fakenvml/libnvidia-ml.so.1, tests/fakenvml/fake_nvml.c) with 8
# GPUs, each running two compute processes of a pod (names resolved through
# a fake proc tree and containerd state, as in
# tests/integration/060_gpu_fake_nvml.sh), one GPU with 3 MIG instances.
#
# Scrapes the agent $SCRAPES times over loopback per configuration and
# prints a markdown table:
#   - gpu collector time: node_scrape_collector_duration_seconds{collector="gpu"};
#   - scrape time as curl sees it, and the agent's CPU per scrape
#     (utime+stime over the run / scrapes);
#   - the same agent with --no-collector.gpu: the difference is what the
#     collector adds to a scrape (collecting, encoding, sending its series);
#   - peak RSS (VmHWM) after all scrapes, also for the agent with every
#     default collector on (the real /proc and /sys) plus the gpu collector.
# The fake answers from memory under a mutex, so the times are the
# collector's own cost (plus the fake's small bookkeeping): a real driver
# adds its ioctl time per NVML call, which only a real GPU can measure.
# Targets (issue 5): <= 1 ms added per scrape with 8 GPUs, peak RSS <= 16 MiB.
set -euo pipefail
REPO=${REPO:-$(cd "$(dirname "$0")/.." && pwd)}
BIN=${BIN:-$REPO/bin}
BUILD=${BUILD:-$REPO/build}
SCRAPES=${SCRAPES:-200}
AGENT=$BIN/vigil-agent
FAKE=$BUILD/fakenvml
[ -x "$AGENT" ] || { echo "gpu_bench: $AGENT not built (make first)"; exit 1; }
[ -f "$FAKE/libnvidia-ml.so.1" ] || { echo "gpu_bench: $FAKE not built (make fakenvml)"; exit 1; }
command -v curl >/dev/null || { echo "gpu_bench: curl not found"; exit 1; }

WORK=$(mktemp -d /tmp/vigil-gpu-bench.XXXXXX)
APID=
SPIDS=()
cleanup() {
    [ -n "$APID" ] && kill "$APID" 2>/dev/null && wait "$APID" 2>/dev/null
    for p in "${SPIDS[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null; done
    rm -rf "$WORK"
}
trap cleanup EXIT

port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }

# stats FILE -> "median p90" of the numbers in FILE (seconds), in ms
stats() {
    sort -g "$1" | awk '{v[NR]=$1} END {m=v[int((NR+1)/2)]; p=v[int(NR*0.9+0.5)]; printf "%.3f %.3f\n", m*1000, p*1000}'
}

# A node: 8 GPUs, 16 sleeping processes in 8 pods (one container each).
NODE=$WORK/node
UIDU=0a1b2c3d_4e5f_6789_abcd_ef0123456789
state=$NODE/root/run/containerd/io.containerd.runtime.v2.task/k8s.io
mkdir -p "$NODE/sys" "$state"
conf="device_count=8
driver_version=550.54.15
gpu.0.mig=1
gpu.0.mig_count=3"
for g in 0 1 2 3 4 5 6 7; do
    cid=$(printf 'b%063d' "$g")
    mkdir -p "$state/$cid"
    printf '{"annotations":{"io.kubernetes.cri.container-type":"container","io.kubernetes.cri.container-name":"worker","io.kubernetes.cri.sandbox-name":"job-%d","io.kubernetes.cri.sandbox-namespace":"ml"}}' \
        "$g" >"$state/$cid/config.json"
    procs=
    for _ in 1 2; do
        sleep 600 &
        p=$!
        SPIDS+=("$p")
        mkdir -p "$NODE/proc/$p"
        echo "0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod$UIDU.slice/cri-containerd-$cid.scope" \
            >"$NODE/proc/$p/cgroup"
        procs="$procs${procs:+,}$p:1073741824"
    done
    conf="$conf
gpu.$g.procs=$procs"
done
echo "$conf" >"$WORK/fake.conf"

run() { # run LABEL FAMILY_PREFIX agent args...
    local label=$1
    shift
    local p
    p=$(port)
    env FAKE_NVML_CONFIG="$WORK/fake.conf" LD_LIBRARY_PATH="$FAKE" NODE_NAME=bench-node \
        "$AGENT" --web.listen-address=127.0.0.1:"$p" --log.level=warn "$@" 2>"$WORK/agent.err" &
    APID=$!
    local up=0
    for _ in $(seq 1 100); do
        curl -sf -o /dev/null "http://127.0.0.1:$p/metrics" && { up=1; break; }
        sleep 0.1
    done
    [ "$up" = 1 ] || { echo "gpu_bench: agent did not come up"; cat "$WORK/agent.err"; exit 1; }
    : >"$WORK/wall" && : >"$WORK/coll"
    local cpu0 cpu1
    cpu0=$(awk '{print $14 + $15}' "/proc/$APID/stat")
    for _ in $(seq 1 "$SCRAPES"); do
        curl -s -o "$WORK/out" -w '%{time_total}\n' "http://127.0.0.1:$p/metrics" >>"$WORK/wall"
        grep '^node_scrape_collector_duration_seconds{collector="gpu"}' "$WORK/out" |
            awk '{print $2}' >>"$WORK/coll" || true
    done
    cpu1=$(awk '{print $14 + $15}' "/proc/$APID/stat")
    local cpums series hwm cmed cp90 wmed wp90 coll
    cpums=$(awk -v a="$cpu0" -v b="$cpu1" -v n="$SCRAPES" -v hz="$(getconf CLK_TCK)" \
        'BEGIN{printf "%.2f", (b - a) * 1000 / hz / n}')
    series=$(grep -c '^DCGM_\|^vigil_gpu_' "$WORK/out" || true)
    grep -q 'node_scrape_collector_success{collector="gpu"} 0' "$WORK/out" &&
        { echo "gpu_bench: the gpu collector failed"; cat "$WORK/agent.err"; exit 1; }
    hwm=$(awk '/VmHWM/ {printf "%.1f", $2/1024}' "/proc/$APID/status")
    kill "$APID"
    wait "$APID" 2>/dev/null || true
    APID=
    coll="-"
    if [ -s "$WORK/coll" ]; then
        read -r cmed cp90 < <(stats "$WORK/coll")
        coll="$cmed / $cp90"
    fi
    read -r wmed wp90 < <(stats "$WORK/wall")
    echo "$wmed" >"$WORK/last_wall_med"
    echo "$cpums" >"$WORK/last_cpu"
    printf '| %s | %s | %s | %s / %s | %s | %s |\n' "$label" "$series" "$coll" "$wmed" "$wp90" \
        "$cpums" "$hwm"
}

tree=(--path.procfs="$NODE/proc" --path.sysfs="$NODE/sys" --path.rootfs="$NODE/root")
echo "gpu collector, 8 fake GPUs (one with 3 MIG instances), 16 GPU processes in 8 pods,"
echo "$SCRAPES scrapes per row over loopback. Times in ms (median / p90)."
echo "Load average at start: $(cut -d' ' -f1-3 /proc/loadavg)."
echo
echo '| agent | GPU series | gpu collector ms | scrape ms | agent CPU ms/scrape | peak RSS MiB |'
echo '|---|---|---|---|---|---|'
run "only the gpu collector" --collector.disable-defaults --collector.gpu "${tree[@]}"
with_wall=$(cat "$WORK/last_wall_med"); with_cpu=$(cat "$WORK/last_cpu")
run "no collector (baseline)" --collector.disable-defaults "${tree[@]}"
base_wall=$(cat "$WORK/last_wall_med"); base_cpu=$(cat "$WORK/last_cpu")
run "gpu, attribution off" --collector.disable-defaults --collector.gpu \
    --no-collector.gpu.attribution "${tree[@]}"
run "every default collector + gpu (real /proc, /sys)" --path.rootfs="$NODE/root"
echo
awk -v a="$with_wall" -v b="$base_wall" -v c="$with_cpu" -v d="$base_cpu" \
    'BEGIN{printf "Added by the gpu collector per scrape: %.3f ms of scrape time (median), %.2f ms of agent CPU.\n", a-b, c-d}'
