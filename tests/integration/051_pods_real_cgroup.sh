#!/usr/bin/env bash
# test: serial
# 051_pods_real_cgroup.sh - the pods collector on real kernel cgroups.
#
# Builds kubepods-like hierarchies in the host's real cgroup filesystems,
# runs a process in them that burns CPU and allocates memory, and checks
# that the agent reports that CPU time and memory:
#   - cgroup v2 (the unified hierarchy, at /sys/fs/cgroup or, on hybrid
#     hosts, /sys/fs/cgroup/unified): systemd-style
#     kubepods.slice/.../cri-containerd-<id>.scope, names from a fake
#     containerd state directory. CPU (cpu.stat usage_usec, present in every
#     v2 cgroup) and processes are always checked; memory only when the
#     memory controller can be enabled in the v2 tree (on hybrid hosts it
#     belongs to v1 and the test says so).
#   - cgroup v1 (when cpu/cpuacct/memory hierarchies are mounted):
#     cgroupfs-style kubepods/burstable/pod<uid>/crio-<id> in every
#     controller, names from a fake CRI-O state directory; CPU and memory
#     both checked.
# The hierarchies live below a private vigil-test-<pid>/root directory and
# the agent is pointed at them with --collector.pods.cgroup-root, so a real
# kubelet's pods (if any) are not touched or read, and (three levels down)
# other agents running on this host with default discovery never see them. Needs root and writable
# cgroup filesystems; skips (77) with the reason otherwise.
set -euo pipefail
: "${BIN:?BIN must name the directory holding vigil-agent}"
AGENT=$BIN/vigil-agent
[ -x "$AGENT" ] || { echo "FAIL: $AGENT not built"; exit 1; }
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root to create cgroups"; exit 77; }
command -v python3 >/dev/null || { echo "SKIP: python3 not found"; exit 77; }

TAG=vigil-test-$$
SUB=$TAG/root
UID_=7f3a2b1c-0d4e-4f5a-8b6c-9d0e1f2a3b4c
CID=$(printf 'c%063d' $$)
TMP=$(mktemp -d /tmp/vigil-051.XXXXXX)
BURNER_PID=
CREATED=()   # cgroup directories to remove, deepest last

cleanup() {
    if [ -n "$BURNER_PID" ]; then
        # TERM, KILL after 5 s, and reap it so its cgroups are empty for rmdir
        kill "$BURNER_PID" 2>/dev/null || true
        (sleep 5; kill -9 "$BURNER_PID" 2>/dev/null) &
        local watchdog=$!
        wait "$BURNER_PID" 2>/dev/null || true
        kill "$watchdog" 2>/dev/null || true
    fi
    local i
    for ((i = ${#CREATED[@]} - 1; i >= 0; i--)); do
        rmdir "${CREATED[$i]}" 2>/dev/null || true
    done
    rm -rf "$TMP"
}
trap cleanup EXIT

mkcg() { # mkdir -p that remembers what it created, for cleanup
    local d=$1 parts=() p
    while [ ! -d "$d" ]; do parts=("$d" "${parts[@]}"); d=$(dirname "$d"); done
    for p in "${parts[@]}"; do mkdir "$p" && CREATED+=("$p"); done
}

# ---- where are the hierarchies ----
V2=
if [ -f /sys/fs/cgroup/cgroup.controllers ]; then
    V2=/sys/fs/cgroup
elif [ -f /sys/fs/cgroup/unified/cgroup.controllers ]; then
    V2=/sys/fs/cgroup/unified
fi
V1_OK=1
for c in cpu cpuacct memory; do
    [ -d /sys/fs/cgroup/$c ] && [ -f /sys/fs/cgroup/$c/cgroup.procs ] || V1_OK=0
done
if [ -z "$V2" ] && [ "$V1_OK" = 0 ]; then
    echo "SKIP: no cgroup v2 hierarchy and no cgroup v1 cpu/cpuacct/memory hierarchies"
    exit 77
fi
if [ -n "$V2" ] && ! mkdir "$V2/$TAG" 2>/dev/null; then
    echo "SKIP: cannot create cgroups in $V2 (read-only or delegated elsewhere)"
    exit 77
fi
[ -n "$V2" ] && CREATED+=("$V2/$TAG")

# ---- cgroup v2: systemd driver + containerd ----
V2_POD=
V2_CTR=
V2_MEM=0
if [ -n "$V2" ]; then
    V2_POD=/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${UID_//-/_}.slice
    V2_CTR=$V2_POD/cri-containerd-$CID.scope
    # memory accounting needs the controller enabled down the tree
    if grep -qw memory "$V2/cgroup.controllers"; then
        V2_MEM=1
        for d in "" /kubepods.slice /kubepods.slice/kubepods-burstable.slice "$V2_POD"; do
            mkcg "$V2/$SUB$d"
            echo "+memory" >"$V2/$SUB$d/cgroup.subtree_control" 2>/dev/null || V2_MEM=0
        done
    fi
    mkcg "$V2/$SUB$V2_CTR"
    mkdir -p "$TMP/root/state/containerd/$CID"
    cat >"$TMP/root/state/containerd/$CID/config.json" <<EOF
{"ociVersion":"1.1.0","annotations":{"io.kubernetes.cri.container-type":"container",
"io.kubernetes.cri.container-name":"burner","io.kubernetes.cri.image-name":"example.com/burner:1",
"io.kubernetes.cri.sandbox-name":"burner-pod","io.kubernetes.cri.sandbox-namespace":"vigil-test",
"io.kubernetes.cri.sandbox-uid":"$UID_"}}
EOF
fi

# ---- cgroup v1: cgroupfs driver + CRI-O, through a private root ----
V1_POD=/kubepods/burstable/pod$UID_
V1_CTR=$V1_POD/crio-$CID
if [ "$V1_OK" = 1 ]; then
    mkdir -p "$TMP/v1root"
    for c in cpu cpuacct memory blkio pids; do
        [ -d /sys/fs/cgroup/$c ] || continue
        if ! mkdir "/sys/fs/cgroup/$c/$TAG" 2>/dev/null; then
            [ "$c" = cpu ] || [ "$c" = cpuacct ] || [ "$c" = memory ] && V1_OK=0
            continue
        fi
        CREATED+=("/sys/fs/cgroup/$c/$TAG")
        mkcg "/sys/fs/cgroup/$c/$SUB$V1_CTR"
        ln -s "/sys/fs/cgroup/$c/$SUB" "$TMP/v1root/$c"
    done
    mkdir -p "$TMP/root/state/crio/$CID/userdata"
    cat >"$TMP/root/state/crio/$CID/userdata/config.json" <<EOF
{"annotations":{"io.kubernetes.cri-o.ContainerType":"container","io.kubernetes.cri-o.ImageName":"example.com/burner:1",
"io.kubernetes.cri-o.Name":"k8s_burner_burner-pod_vigil-test_${UID_}_0",
"io.kubernetes.cri-o.Labels":"{\"io.kubernetes.container.name\":\"burner\",\"io.kubernetes.pod.name\":\"burner-pod\",\"io.kubernetes.pod.namespace\":\"vigil-test\"}"}}
EOF
fi

# ---- the workload: join the cgroups first, then allocate and burn ----
PROCS=()
[ -n "$V2" ] && PROCS+=("$V2/$SUB$V2_CTR/cgroup.procs")
if [ "$V1_OK" = 1 ]; then
    for c in cpu cpuacct memory blkio pids; do
        [ -e "$TMP/v1root/$c" ] && PROCS+=("/sys/fs/cgroup/$c/$SUB$V1_CTR/cgroup.procs")
    done
fi
MIB=96
cat >"$TMP/burner.py" <<'EOF'
import os, sys, time
for f in sys.argv[3:]:
    with open(f, "w") as fh:
        fh.write(str(os.getpid()))
mem = bytearray(int(sys.argv[1]) << 20)
for i in range(0, len(mem), 4096):
    mem[i] = 1
t0 = time.process_time()
x = 0
while time.process_time() - t0 < 1.5:
    x += 1
open(sys.argv[2], "w").write("ready\n")
time.sleep(120)
EOF
python3 "$TMP/burner.py" "$MIB" "$TMP/ready" "${PROCS[@]}" </dev/null >"$TMP/burner.log" 2>&1 &
BURNER_PID=$!
for _ in $(seq 1 200); do [ -f "$TMP/ready" ] && break; sleep 0.1; done
[ -f "$TMP/ready" ] || { echo "FAIL: the burner did not start"; exit 1; }
read -r _ _ _ _ _ _ _ _ _ _ _ _ _ utime stime _ </proc/$BURNER_PID/stat
CPU_PROC=$(python3 -c "import os; print(($utime + $stime) / os.sysconf('SC_CLK_TCK'))")

fail=0
value() { # value FILE FAMILY ID-REGEX -> prints the value or nothing
    grep "^$2{" "$1" | grep -E "id=\"$3\"" | head -1 | awk '{print $NF}'
}
atleast() { # atleast WHAT GOT WANT
    if [ -z "$2" ] || ! python3 -c "import sys; sys.exit(0 if float('$2') >= float('$3') else 1)"; then
        echo "FAIL: $1 = '${2}' (want >= $3)"
        fail=1
    else
        echo "ok: $1 = $2 (>= $3)"
    fi
}
run_agent() { # run_agent OUT CGROUP-ROOT
    timeout 30 "$AGENT" --once --collector.disable-defaults --collector.pods \
        --collector.pods.cgroup-root="$2" --path.rootfs="$TMP/root" \
        --collector.pods.containerd-state=/state/containerd --collector.pods.crio-state=/state/crio \
        >"$1" 2>"$1.err" || { echo "FAIL: agent exited non-zero"; cat "$1.err"; fail=1; }
}

echo "burner: pid $BURNER_PID, ${CPU_PROC}s CPU, ${MIB} MiB touched"
if [ -n "$V2" ]; then
    run_agent "$TMP/v2.prom" "$V2/$SUB"
    ID=$(printf '%s' "$V2_CTR" | sed 's/\./\\./g')
    atleast "v2 container_cpu_usage_seconds_total" "$(value "$TMP/v2.prom" container_cpu_usage_seconds_total "$ID")" 1.0
    atleast "v2 pod container_cpu_usage_seconds_total" \
        "$(value "$TMP/v2.prom" container_cpu_usage_seconds_total "$(printf '%s' "$V2_POD" | sed 's/\./\\./g')")" 1.0
    atleast "v2 container_processes" "$(value "$TMP/v2.prom" container_processes "$ID")" 1
    if ! grep -q "^container_cpu_usage_seconds_total{container=\"burner\",cpu=\"total\",id=\"$V2_CTR\",image=\"example.com/burner:1\",name=\"$CID\",namespace=\"vigil-test\",pod=\"burner-pod\"}" "$TMP/v2.prom"; then
        echo "FAIL: v2: names from the containerd state missing"; grep "^container_cpu_usage" "$TMP/v2.prom" | head -3; fail=1
    else
        echo "ok: v2 container named burner/burner-pod/vigil-test from containerd state"
    fi
    if grep -q '^container_network_' "$TMP/v2.prom"; then
        echo "FAIL: v2: network series for a pod in the host network namespace"; fail=1
    else
        echo "ok: v2 no network series (the burner shares the host's network namespace)"
    fi
    if [ "$V2_MEM" = 1 ]; then
        atleast "v2 container_memory_usage_bytes" "$(value "$TMP/v2.prom" container_memory_usage_bytes "$ID")" $((MIB << 20))
        atleast "v2 container_memory_rss" "$(value "$TMP/v2.prom" container_memory_rss "$ID")" $(((MIB - 8) << 20))
        atleast "v2 container_memory_working_set_bytes" "$(value "$TMP/v2.prom" container_memory_working_set_bytes "$ID")" $(((MIB - 8) << 20))
    else
        echo "note: memory controller not available in the v2 hierarchy $V2 (controllers: $(cat "$V2/cgroup.controllers")); v2 memory not checked, v1 below"
    fi
else
    echo "note: no cgroup v2 hierarchy; v2 not checked"
fi

if [ "$V1_OK" = 1 ]; then
    run_agent "$TMP/v1.prom" "$TMP/v1root"
    ID=$V1_CTR
    atleast "v1 container_cpu_usage_seconds_total" "$(value "$TMP/v1.prom" container_cpu_usage_seconds_total "$ID")" 1.0
    atleast "v1 container_cpu_user_seconds_total + system" \
        "$(python3 -c "print(float('$(value "$TMP/v1.prom" container_cpu_user_seconds_total "$ID")' or 0) + float('$(value "$TMP/v1.prom" container_cpu_system_seconds_total "$ID")' or 0))")" 1.0
    atleast "v1 container_memory_usage_bytes" "$(value "$TMP/v1.prom" container_memory_usage_bytes "$ID")" $((MIB << 20))
    atleast "v1 container_memory_rss" "$(value "$TMP/v1.prom" container_memory_rss "$ID")" $(((MIB - 8) << 20))
    atleast "v1 container_memory_working_set_bytes" "$(value "$TMP/v1.prom" container_memory_working_set_bytes "$ID")" $(((MIB - 8) << 20))
    atleast "v1 pod container_memory_usage_bytes" "$(value "$TMP/v1.prom" container_memory_usage_bytes "$V1_POD")" $((MIB << 20))
    atleast "v1 container_processes" "$(value "$TMP/v1.prom" container_processes "$ID")" 1
    if ! grep -q "^container_memory_usage_bytes{container=\"burner\",id=\"$V1_CTR\",image=\"example.com/burner:1\",name=\"k8s_burner_burner-pod_vigil-test_${UID_}_0\",namespace=\"vigil-test\",pod=\"burner-pod\"}" "$TMP/v1.prom"; then
        echo "FAIL: v1: names from the CRI-O state missing"; grep "^container_memory_usage" "$TMP/v1.prom" | head -3; fail=1
    else
        echo "ok: v1 container named from CRI-O state"
    fi
else
    echo "note: no usable cgroup v1 cpu/cpuacct/memory hierarchies; v1 not checked"
fi

# CPU reported cannot exceed what the process had used by the end of the scrape
read -r _ _ _ _ _ _ _ _ _ _ _ _ _ utime stime _ </proc/$BURNER_PID/stat
CPU_AFTER=$(python3 -c "import os; print(($utime + $stime) / os.sysconf('SC_CLK_TCK') + 0.05)")
for f in "$TMP"/v2.prom "$TMP"/v1.prom; do
    [ -f "$f" ] || continue
    id=$([ "$f" = "$TMP/v2.prom" ] && printf '%s' "$V2_CTR" | sed 's/\./\\./g' || echo "$V1_CTR")
    got=$(value "$f" container_cpu_usage_seconds_total "$id")
    if [ -n "$got" ] && ! python3 -c "import sys; sys.exit(0 if float('$got') <= $CPU_AFTER else 1)"; then
        echo "FAIL: $(basename "$f"): CPU $got s is more than the process used ($CPU_AFTER s)"
        fail=1
    fi
done
exit "$fail"
