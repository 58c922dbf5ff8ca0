#!/usr/bin/env bash
# vigil-operator against kubesim's load mode: initial sync time and peak RSS
# for 10k / 50k / 150k pods, cache bytes per pod, and watch events decoded per
# second (and per CPU-second of the operator: the pods informer decodes on one
# thread, so this is the one-core rate). Prints markdown for docs/benchmarks.md.
#   bench/operator_bench.sh [BIN_DIR]   (env: SIZES="10000 50000 150000" CHURN=60000 WATCH_SECONDS=10 TRANSPORT=http)
set -u
REPO=$(cd "$(dirname "$0")/.." && pwd)
BIN=${1:-${BIN:-$REPO/bin}}
SIZES=${SIZES:-10000 50000 150000}; CHURN=${CHURN:-60000}; SECS=${WATCH_SECONDS:-10}; TRANSPORT=${TRANSPORT:-http}
for b in kubesim vigil-operator; do [ -x "$BIN/$b" ] || { echo "$b not built in $BIN" >&2; exit 1; }; done
TMP=$(mktemp -d /tmp/operator-bench.XXXXXX)
KPID="" OPID=""
stop() { for p in $OPID $KPID; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done; OPID="" KPID=""; }
trap 'stop; rm -rf "$TMP"' EXIT
port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
now() { date +%s.%N; }
status_kib() { awk -v k="$2:" '$1 == k {print $2}' "/proc/$1/status"; }
# utime+stime in seconds from a stat file (/proc/PID/stat or a task's);
# comm has no spaces here, so the fields are 14 and 15
stat_cpu_s() { awk -v hz="$(getconf CLK_TCK)" '{print ($14 + $15) / hz}' "$1"; }
cpu_s() { stat_cpu_s "/proc/$1/stat"; }
# CPU seconds of the operator's thread named $2 (the pods informer: "inf-pods")
thread_cpu_s() {
  local t
  for t in /proc/$1/task/*; do
    [ "$(cat "$t/comm" 2>/dev/null)" = "$2" ] && { stat_cpu_s "$t/stat"; return; }
  done
  echo 0
}
metric() { curl -s "http://127.0.0.1:$1/metrics" | awk -v m="$2" '$1 == m {print $2}'; }

start_kubesim() { # pods churn
  local nodes=$(( $1 / 30 > 10 ? $1 / 30 : 10 ))
  KPORT=$(port)
  "$BIN/kubesim" --listen=127.0.0.1:$KPORT --kubeconfig-out="$TMP/kc" --load=nodes=$nodes,pods=$1,churn=$2 \
    >"$TMP/ks.log" 2>&1 &
  KPID=$!
  for i in $(seq 1 1200); do
    [ -s "$TMP/kc" ] && curl -s -o /dev/null --cacert "$TMP/kc.ca.crt" "https://127.0.0.1:$KPORT/healthz" && return 0
    sleep 0.1
  done
  echo "kubesim did not start: $(tail -3 "$TMP/ks.log")" >&2; exit 1
}

start_operator() {
  OPORT=$(port)
  T0=$(now)
  "$BIN/vigil-operator" --kubeconfig="$TMP/kc" --web.listen-address=127.0.0.1:$OPORT --leader-elect=false \
    --kube.watch-transport=$TRANSPORT --log.level=warn >"$TMP/op.log" 2>&1 &
  OPID=$!
}

echo "transport: $TRANSPORT; kubesim load mode on the same $(nproc) cores"
echo
echo "| pods | nodes | initial sync | peak RSS (VmHWM) | RSS after sync | cache bytes per pod | RSS per pod |"
echo "|---|---|---|---|---|---|---|"
for n in $SIZES; do
  rm -f "$TMP/kc"
  start_kubesim "$n" 0
  # baseline: an operator against an empty API would not say much; the RSS per
  # pod below is (RSS after sync - RSS at start) / pods
  start_operator
  for i in $(seq 1 100); do curl -s -o /dev/null "http://127.0.0.1:$OPORT/healthz" && break; sleep 0.05; done
  rss0=$(status_kib $OPID VmRSS)
  ready=""
  for i in $(seq 1 2400); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$OPORT/readyz")" = 200 ] && { ready=$(now); break; }
    sleep 0.025
  done
  [ -n "$ready" ] || { echo "| $n | not synced within 60 s | | | | | |"; stop; continue; }
  sync=$(awk -v a="$T0" -v b="$ready" 'BEGIN{printf "%.2f", b-a}')
  objs=$(metric $OPORT 'vigil_operator_informer_objects{resource="pods"}')
  bytes=$(metric $OPORT 'vigil_operator_informer_bytes{resource="pods"}')
  hwm=$(status_kib $OPID VmHWM); rss=$(status_kib $OPID VmRSS)
  awk -v n="$n" -v nodes=$(( n / 30 > 10 ? n / 30 : 10 )) -v s="$sync" -v h="$hwm" -v r="$rss" -v r0="$rss0" \
      -v o="$objs" -v b="$bytes" 'BEGIN{printf "| %d (cached %d) | %d | %s s | %.1f MiB | %.1f MiB | %.0f B | %.0f B |\n",
      n, o, nodes, s, h/1024, r/1024, (o ? b/o : 0), (n ? (r-r0)*1024/n : 0)}'
  stop
done

# watch throughput: kubesim churns pods as fast as it can; count what the
# operator decodes and the CPU time it spends doing so
n=${SIZES%% *}
rm -f "$TMP/kc"
start_kubesim "$n" "$CHURN"
start_operator
for i in $(seq 1 2400); do
  [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$OPORT/readyz")" = 200 ] && break; sleep 0.025
done
e0=$(metric $OPORT 'vigil_operator_watch_events_total{resource="pods"}'); c0=$(cpu_s $OPID); d0=$(thread_cpu_s $OPID inf-pods); t0=$(now)
sleep "$SECS"
e1=$(metric $OPORT 'vigil_operator_watch_events_total{resource="pods"}'); c1=$(cpu_s $OPID); d1=$(thread_cpu_s $OPID inf-pods); t1=$(now)
restarts=$(curl -s "http://127.0.0.1:$OPORT/metrics" | awk '/^vigil_operator_watch_restarts_total\{resource="pods"/ {s += $2} END {print s + 0}')
echo
echo "| watch, $n pods, kubesim churn=$CHURN/s | value |"
echo "|---|---|"
awk -v e0="$e0" -v e1="$e1" -v c0="$c0" -v c1="$c1" -v d0="$d0" -v d1="$d1" -v t0="$t0" -v t1="$t1" -v r="$restarts" 'BEGIN{
  printf "| events decoded | %d in %.1f s = %.0f events/s (wall; bounded by what kubesim sends) |\n", e1-e0, t1-t0, (e1-e0)/(t1-t0)
  printf "| operator CPU, all threads | %.2f s = %.0f events per CPU-second |\n", c1-c0, (c1>c0 ? (e1-e0)/(c1-c0) : 0)
  printf "| pods informer thread CPU (receive, decode, cache) | %.2f s = %.0f events per CPU-second (one core) |\n", d1-d0, (d1>d0 ? (e1-e0)/(d1-d0) : 0)
  printf "| pods watch restarts | %d |\n", r }'
stop
