#!/usr/bin/env bash
# 050_pods_golden.sh - the pods collector against generated node trees.
#
# tests/fixtures/gen_pod_tree.py builds synthetic nodes (cgroups + runtime
# state + fake /proc) under $BUILD; the agent runs once against each with
# only the pods collector and its output is compared with the committed
# golden files in tests/fixtures/pods/golden/:
#   - two small trees (every edge case of the generator) in full, to be
#     read by eye: v2 + systemd + containerd, v1 + cgroupfs + CRI-O;
#   - the 110-pod x 3-container v2 tree and the 500-pod v1 tree as a
#     summary (series per family) plus the sha256 of the whole output.
# UPDATE_GOLDEN=1 rewrites the golden files instead of comparing.
set -euo pipefail
: "${BIN:?BIN must name the directory holding vigil-agent}"
: "${BUILD:?BUILD must name the build directory}"
REPO=${REPO:-$(cd "$(dirname "$0")/../.." && pwd)}
GOLD=$REPO/tests/fixtures/pods/golden
GEN=$REPO/tests/fixtures/gen_pod_tree.py

command -v python3 >/dev/null || { echo "SKIP: python3 not found"; exit 77; }
[ -x "$BIN/vigil-agent" ] || { echo "FAIL: $BIN/vigil-agent not built"; exit 1; }

# The trees hold ~70k small files: build them on tmpfs when there is one
# (seconds instead of minutes on a busy disk), else under $BUILD.
if [ -d /dev/shm ] && [ -w /dev/shm ]; then
    WORK=$(mktemp -d /dev/shm/vigil-pods-golden.XXXXXX)
else
    WORK=$BUILD/pods-fixtures
    rm -rf "$WORK"
    mkdir -p "$WORK"
fi
cleanup() { if [ "${KEEP:-0}" != 1 ]; then rm -rf "$WORK"; else echo "kept $WORK"; fi; }
trap cleanup EXIT

# Only the collector's own families: drop timings (vary run to run).
scrape() {
    local tree=$1
    timeout 60 "$BIN/vigil-agent" --once --collector.disable-defaults --collector.pods \
        --path.sysfs="$tree/sys" --path.procfs="$tree/proc" --path.rootfs="$tree/root" \
        2>"$tree.stderr" | grep -v '^node_scrape_collector_duration_seconds' |
        grep -v '^# [A-Z]* node_scrape_collector_duration_seconds' || true
}

summary() {
    local out=$1
    echo "# sha256 $(sha256sum <"$out" | cut -d' ' -f1)"
    grep -v '^#' "$out" | sed 's/[{ ].*//' | sort | uniq -c | awk '{print $2, $1}'
}

fail=0
check() {
    local name=$1 got=$2 want=$GOLD/$1
    if [ "${UPDATE_GOLDEN:-0}" = 1 ]; then
        cp "$got" "$want"
        echo "updated $want"
        return
    fi
    if [ ! -f "$want" ]; then
        echo "FAIL: no golden file $want (run with UPDATE_GOLDEN=1 and review it)"
        fail=1
        return
    fi
    if ! diff -u "$want" "$got" >"$got.diff"; then
        echo "FAIL: $name differs from golden (first lines of the diff; all in $got.diff):"
        head -40 "$got.diff"
        fail=1
    else
        echo "ok: $name"
    fi
}

lint() {
    # Parse errors fail; lint findings (exit 3) are expected for cAdvisor's
    # unit-less names (container_memory_rss...) and are allowed.
    command -v promtool >/dev/null || return 0
    local rc=0
    promtool check metrics <"$1" >"$1.lint" 2>&1 || rc=$?
    if [ "$rc" != 0 ] && [ "$rc" != 3 ]; then
        echo "FAIL: promtool cannot parse $1:"
        head -20 "$1.lint"
        fail=1
    fi
}

python3 "$GEN" --layout v2-systemd-containerd --pods 5 --containers 2 --out "$WORK/v2-small"
scrape "$WORK/v2-small" >"$WORK/v2-small.prom"
check v2-systemd-containerd-5pods.prom "$WORK/v2-small.prom"
lint "$WORK/v2-small.prom"

python3 "$GEN" --layout v1-cgroupfs-crio --pods 5 --containers 1 --out "$WORK/v1-small"
scrape "$WORK/v1-small" >"$WORK/v1-small.prom"
check v1-cgroupfs-crio-5pods.prom "$WORK/v1-small.prom"
lint "$WORK/v1-small.prom"

python3 "$GEN" --layout v2-systemd-containerd --pods 110 --containers 3 --out "$WORK/v2-110"
scrape "$WORK/v2-110" >"$WORK/v2-110.prom"
summary "$WORK/v2-110.prom" >"$WORK/v2-110.summary"
check v2-systemd-containerd-110pods.summary "$WORK/v2-110.summary"

python3 "$GEN" --layout v1-cgroupfs-crio --pods 500 --containers 1 --out "$WORK/v1-500"
scrape "$WORK/v1-500" >"$WORK/v1-500.prom"
summary "$WORK/v1-500.prom" >"$WORK/v1-500.summary"
check v1-cgroupfs-crio-500pods.summary "$WORK/v1-500.summary"

# Sanity independent of the golden files: every pod and container present.
starts() { grep '^container_start_time_seconds{' "$1" | grep -cE "$2" || true; }
pods=$(starts "$WORK/v2-110.prom" 'id="[^"]*-pod[0-9a-f_]+\.slice"')
ctrs=$(starts "$WORK/v2-110.prom" 'id="[^"]*/cri-containerd-[0-9a-f]+\.scope"')
if [ "$pods" != 110 ] || [ "$ctrs" != 330 ]; then
    echo "FAIL: 110-pod tree: $pods pods and $ctrs containers reported (want 110 and 330)"
    fail=1
fi
pods=$(starts "$WORK/v1-500.prom" 'id="[^"]*/pod[0-9a-f-]+"')
ctrs=$(starts "$WORK/v1-500.prom" 'id="[^"]*/crio-[0-9a-f]+"')
if [ "$pods" != 500 ] || [ "$ctrs" != 500 ]; then
    echo "FAIL: 500-pod tree: $pods pods and $ctrs containers reported (want 500 and 500)"
    fail=1
fi

[ "$fail" = 0 ] || KEEP=1
exit "$fail"
