#!/usr/bin/env bash
# 060_gpu_fake_nvml.sh - the gpu collector in the real agent against the
# fake libnvidia-ml.so.1 builds ($BUILD/fakenvml, tests/fakenvml/fake_nvml.c)
# found through LD_LIBRARY_PATH, as the real library would be:
#   - dcgm-exporter families, types and labels (Hostname from NODE_NAME,
#     driver version), values; promtool parses the exposition;
#   - NOT_SUPPORTED fields omitted, no sentinel values, a hostile model name
#     escaped into valid UTF-8;
#   - MIG instances (GPU_I_PROFILE, GPU_I_ID);
#   - per-pod attribution: two real sleep processes reported by the fake as
#     GPU processes, their <procfs>/<pid>/cgroup in a fake proc tree
#     (--path.procfs) pointing into a pod, names from a fake containerd
#     state (--path.rootfs);
#   - XID and ECC events injected through $FAKE_NVML_EVENTS, counted with cause;
#   - a GPU lost mid-run (the others keep reporting), the driver unloaded and
#     back (re-initialised with backoff, the agent serving throughout);
#   - an old driver (unversioned symbols only), an early-12.x driver
#     (32-byte process entries), NVML init failure and no driver at all:
#     success 0, logged once, the agent still serves.
. "$REPO/tests/integration/lib/common.sh"
need_bin "$BIN/vigil-agent"
BUILD=${BUILD:-$REPO/build}
FAKE=$BUILD/fakenvml
[ -f "$FAKE/libnvidia-ml.so.1" ] && [ -f "$FAKE/old/libnvidia-ml.so.1" ] ||
  fail "fake NVML not built under $FAKE (make fakenvml)"

CID1=$(printf 'c1%062d' 1)
CID2=$(printf 'c2%062d' 2)
UIDU=0a1b2c3d_4e5f_6789_abcd_ef0123456789
PODCG="0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod$UIDU.slice"
U0=GPU-fa000000-1111-2222-3333-000000000000
U3=GPU-fa000003-1111-2222-3333-000000000003

# Two real processes that the fake NVML reports as running on the GPUs.
sleep 300 & P1=$!; PIDS+=("$P1")
sleep 300 & P2=$!; PIDS+=("$P2")

NODE=$TMP/node
mkdir -p "$NODE/proc/$P1" "$NODE/proc/$P2" "$NODE/sys"
echo "$PODCG/cri-containerd-$CID1.scope" >"$NODE/proc/$P1/cgroup"
echo "$PODCG/cri-containerd-$CID2.scope" >"$NODE/proc/$P2/cgroup"
state=$NODE/root/run/containerd/io.containerd.runtime.v2.task/k8s.io
for c in "$CID1 train-0 trainer" "$CID2 infer-0 server"; do
  set -- $c
  mkdir -p "$state/$1"
  printf '{"annotations":{"io.kubernetes.cri.container-type":"container","io.kubernetes.cri.container-name":"%s","io.kubernetes.cri.sandbox-name":"%s","io.kubernetes.cri.sandbox-namespace":"ml"}}' \
    "$3" "$2" >"$state/$1/config.json"
done

CONF=$TMP/fake.conf
EVENTS=$TMP/events
: >"$EVENTS"
conf() { cat >"$CONF.tmp" && mv "$CONF.tmp" "$CONF"; } # atomic: the fake re-reads on change

BASE_CONF="device_count=4
driver_version=550.54.15
gpu.1.unsupported=mem_temp,enc_util
gpu.0.procs=$P1:1073741824
gpu.1.procs=$P1:1048576,$P2:2097152
gpu.2.mig=1
gpu.2.mig_count=2
gpu.2.mig.0.profile=3g.40gb
gpu.2.mig.0.gi=1
gpu.2.mig.0.fb_used_mib=700
gpu.2.mig.1.profile=1g.10gb
gpu.2.mig.1.gi=9
gpu.3.name=Evil \"GPU\"\\x01\\xff\\nx"
conf <<<"$BASE_CONF"

agent_env=(env FAKE_NVML_CONFIG="$CONF" FAKE_NVML_EVENTS="$EVENTS" NODE_NAME=node-a)
agent_args=(--collector.disable-defaults --collector.gpu --path.procfs="$NODE/proc"
            --path.sysfs="$NODE/sys" --path.rootfs="$NODE/root")

port=$(free_port)
start "$TMP/agent.log" "${agent_env[@]}" LD_LIBRARY_PATH="$FAKE" "$BIN/vigil-agent" \
  --web.listen-address=127.0.0.1:"$port" "${agent_args[@]}"
APID=$LAST_PID
wait_http "http://127.0.0.1:$port/metrics" 15 || fail "agent did not start: $(tail -5 "$TMP/agent.log")"

M=$TMP/metrics
scrape() { curl -s --max-time 5 "http://127.0.0.1:$port/metrics" >"$M" || fail "scrape failed"; }
has() { grep -qF -- "$1" "$M" || { echo "--- metrics:"; grep -v '^#' "$M" | head -30; fail "missing: $1"; }; }
hasnt() { ! grep -qF -- "$1" "$M" || fail "unexpected: $(grep -F -- "$1" "$M" | head -1)"; }
# wait_for LINE SECONDS: scrape until LINE shows up
wait_for() {
  local i
  for i in $(seq 1 $(($2 * 10))); do
    scrape
    grep -qF -- "$1" "$M" && return 0
    sleep 0.1
  done
  has "$1"
}

scrape
has 'node_scrape_collector_success{collector="gpu"} 1'
L0="gpu=\"0\",UUID=\"$U0\",pci_bus_id=\"00000000:10:00.0\",device=\"nvidia0\",modelName=\"NVIDIA A100-SXM4-80GB\",GPU_I_PROFILE=\"\",GPU_I_ID=\"\",Hostname=\"node-a\",DCGM_FI_DRIVER_VERSION=\"550.54.15\""
has "DCGM_FI_DEV_SM_CLOCK{$L0,container=\"trainer\",namespace=\"ml\",pod=\"train-0\"} 1410"
has "DCGM_FI_DEV_POWER_USAGE{$L0,container=\"trainer\",namespace=\"ml\",pod=\"train-0\"} 61.234"
has "DCGM_FI_DEV_FB_USED{$L0,container=\"trainer\",namespace=\"ml\",pod=\"train-0\"} 1024"
for f in SM_CLOCK MEM_CLOCK GPU_TEMP MEMORY_TEMP POWER_USAGE GPU_UTIL MEM_COPY_UTIL ENC_UTIL \
         DEC_UTIL FB_FREE FB_USED FB_RESERVED XID_ERRORS ROW_REMAP_FAILURE; do
  has "# TYPE DCGM_FI_DEV_$f gauge"
done
for f in TOTAL_ENERGY_CONSUMPTION PCIE_REPLAY_COUNTER CORRECTABLE_REMAPPED_ROWS \
         UNCORRECTABLE_REMAPPED_ROWS ECC_SBE_VOL_TOTAL ECC_DBE_AGG_TOTAL; do
  has "# TYPE DCGM_FI_DEV_$f counter"
done
ok "families, types and labels"

# NOT_SUPPORTED omitted for GPU 1 only; nothing looks like a sentinel.
[ "$(grep -c '^DCGM_FI_DEV_MEMORY_TEMP{' "$M")" = 3 ] || fail "want 3 memory temperatures"
hasnt 'DCGM_FI_DEV_MEMORY_TEMP{gpu="1"'
hasnt 'DCGM_FI_DEV_ENC_UTIL{gpu="1"'
has 'DCGM_FI_DEV_DEC_UTIL{gpu="1"'
! grep -Eq ' (-1|4294967295|18446744073709551615|1\.8446744073709552e\+19)$' "$M" ||
  fail "sentinel value: $(grep -E ' (-1|4294967295|18446744073709551615)$' "$M" | head -1)"
has 'modelName="Evil \"GPU\"?'
python3 -c 'import sys; open(sys.argv[1], "rb").read().decode("utf-8")' "$M" ||
  fail "exposition is not valid UTF-8"
ok "unsupported fields omitted, hostile strings escaped"

if command -v promtool >/dev/null; then
  rc=0; promtool check metrics <"$M" >"$TMP/lint" 2>&1 || rc=$?
  # exit 3 = lint only (dcgm-exporter's names break promtool's naming rules)
  [ $rc = 0 ] || [ $rc = 3 ] || fail "promtool cannot parse: $(head -5 "$TMP/lint")"
  ok "promtool parses the output"
fi

# MIG instances, and the parent GPU's own series.
has 'DCGM_FI_DEV_FB_USED{gpu="2",UUID="GPU-fa000002-1111-2222-3333-000000000002",pci_bus_id="00000000:12:00.0",device="nvidia2",modelName="NVIDIA A100-SXM4-80GB",GPU_I_PROFILE="3g.40gb",GPU_I_ID="1",'
has 'GPU_I_PROFILE="1g.10gb",GPU_I_ID="9",'
[ "$(grep -c '^DCGM_FI_DEV_FB_USED{gpu="2"' "$M")" = 3 ] || fail "want 3 FB_USED series for GPU 2"
ok "MIG instance series"

# Attribution: GPU 0 used by one container; GPU 1 shared by two.
has "vigil_gpu_container_memory_used_bytes{gpu=\"0\",UUID=\"$U0\",pod=\"train-0\",namespace=\"ml\",container=\"trainer\"} 1073741824"
has 'vigil_gpu_container_memory_used_bytes{gpu="1",UUID="GPU-fa000001-1111-2222-3333-000000000001",pod="train-0",namespace="ml",container="trainer"} 1048576'
has 'vigil_gpu_container_memory_used_bytes{gpu="1",UUID="GPU-fa000001-1111-2222-3333-000000000001",pod="infer-0",namespace="ml",container="server"} 2097152'
grep '^DCGM_FI_DEV_SM_CLOCK{gpu="1"' "$M" | grep -qF 'container="",namespace="",pod=""' ||
  fail "a shared GPU got pod labels"
ok "per-pod attribution"

# XID and ECC events.
echo "0 xid 13" >>"$EVENTS"
echo "3 xid 79" >>"$EVENTS"
echo "3 dbe" >>"$EVENTS"
wait_for "vigil_gpu_ecc_events_total{gpu=\"3\",UUID=\"$U3\",type=\"double_bit\"} 1" 10
has "vigil_gpu_xid_errors_total{gpu=\"0\",UUID=\"$U0\",xid=\"13\",cause=\"application\"} 1"
has "vigil_gpu_xid_errors_total{gpu=\"3\",UUID=\"$U3\",xid=\"79\",cause=\"hardware\"} 1"
grep '^DCGM_FI_DEV_XID_ERRORS{gpu="3"' "$M" | grep -q ' 79$' || fail "last XID of GPU 3 is not 79"
has '# TYPE vigil_gpu_xid_errors_total counter'
ok "XID events counted with cause"

# GPU 3 falls off the bus: reported, the others keep reporting.
conf <<<"$BASE_CONF
gpu.3.lost=1"
wait_for "vigil_gpu_lost{gpu=\"3\",UUID=\"$U3\"} 1" 5
has 'node_scrape_collector_success{collector="gpu"} 1'
hasnt 'DCGM_FI_DEV_SM_CLOCK{gpu="3"'
has 'DCGM_FI_DEV_SM_CLOCK{gpu="2"'
has "vigil_gpu_lost{gpu=\"0\",UUID=\"$U0\"} 0"
has "vigil_gpu_xid_errors_total{gpu=\"3\",UUID=\"$U3\",xid=\"79\",cause=\"hardware\"} 1"
ok "lost GPU reported, the rest keep going"

# The driver is unloaded, then comes back: re-initialised with backoff.
conf <<<"$BASE_CONF
driver=unloaded"
wait_for 'node_scrape_collector_success{collector="gpu"} 0' 5
hasnt 'DCGM_FI_DEV_SM_CLOCK'
curl -sf -o /dev/null --max-time 2 "http://127.0.0.1:$port/healthz" ||
  curl -s -o /dev/null --max-time 2 "http://127.0.0.1:$port/metrics" || fail "agent stopped serving"
conf <<<"$BASE_CONF"
wait_for 'node_scrape_collector_success{collector="gpu"} 1' 15
has 'DCGM_FI_DEV_SM_CLOCK{gpu="3"'
# the counters survive re-initialisation
has "vigil_gpu_xid_errors_total{gpu=\"0\",UUID=\"$U0\",xid=\"13\",cause=\"application\"} 1"
grep -q 'NVML stopped answering' "$TMP/agent.log" || fail "driver loss not logged"
ok "driver unloaded and back: re-initialised"
kill "$APID"; wait "$APID" 2>/dev/null || true

# --once runs with other libraries.
once() { # once LOG LD_LIBRARY_PATH [extra args]
  local log=$1 lib=$2; shift 2
  timeout 20 "${agent_env[@]}" LD_LIBRARY_PATH="$lib" "$BIN/vigil-agent" --once "${agent_args[@]}" "$@" \
    >"$M" 2>"$log" || fail "agent --once failed: $(tail -3 "$log")"
}

once "$TMP/old.log" "$FAKE/old"
has 'node_scrape_collector_success{collector="gpu"} 1'
has 'DCGM_FI_DEV_FB_USED{gpu="1",UUID="GPU-fa000001-1111-2222-3333-000000000001",pci_bus_id="00000000:11:00.0",'
hasnt 'DCGM_FI_DEV_FB_RESERVED'
hasnt 'DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION{'
hasnt 'GPU_I_PROFILE="3g.40gb"'
has 'container="trainer",namespace="ml",pod="train-0"} 1410'
grep -q 'init=nvmlInit ' "$TMP/old.log" || fail "old driver: not initialised through nvmlInit"
ok "old driver: fallbacks, unsupported families omitted"

[ -f "$FAKE/cc/libnvidia-ml.so.1" ] && {
  once "$TMP/cc.log" "$FAKE/cc"
  has 'pod="infer-0",namespace="ml",container="server"} 2097152'
  ok "early 12.x driver: 32-byte process entries read right"
}

# NVML init fails: success 0, logged once, the agent serves.
conf <<<"init_error=9"
port=$(free_port)
start "$TMP/init.log" "${agent_env[@]}" LD_LIBRARY_PATH="$FAKE" "$BIN/vigil-agent" \
  --web.listen-address=127.0.0.1:"$port" "${agent_args[@]}"
wait_http "http://127.0.0.1:$port/metrics" 15 || fail "agent did not start: $(tail -5 "$TMP/init.log")"
for i in 1 2 3; do scrape; sleep 0.7; done
has 'node_scrape_collector_success{collector="gpu"} 0'
has 'process_resident_memory_bytes'
hasnt 'DCGM_FI_DEV'
[ "$(grep -c 'NVML initialisation failed' "$TMP/init.log")" = 1 ] ||
  fail "init failure not logged exactly once: $(grep -c 'NVML initialisation failed' "$TMP/init.log")"
ok "init failure: success 0, logged once, agent serving"
kill "$LAST_PID"

# No driver at all.
mkdir -p "$TMP/empty"
nolib=()
# On a host with the real driver the soname would resolve: name a missing file instead.
if ldconfig -p 2>/dev/null | grep -q 'libnvidia-ml\.so\.1'; then
  nolib=(--collector.gpu.library="$TMP/empty/libnvidia-ml.so.1")
fi
port=$(free_port)
start "$TMP/none.log" env LD_LIBRARY_PATH="$TMP/empty" "$BIN/vigil-agent" \
  --web.listen-address=127.0.0.1:"$port" --collector.disable-defaults --collector.gpu "${nolib[@]}"
wait_http "http://127.0.0.1:$port/metrics" 15 || fail "agent did not start: $(tail -5 "$TMP/none.log")"
for i in 1 2 3; do scrape; sleep 0.5; done
has 'node_scrape_collector_success{collector="gpu"} 0'
[ "$(grep -c 'NVML not available' "$TMP/none.log")" = 1 ] || fail "missing driver not logged exactly once"
ok "no driver: success 0, logged once"
