#!/usr/bin/env bash
# SIGTERM ends the operator promptly (exit 0, no forced exit by the stop
# deadline) in the phases where its threads wait on the API server: with
# WebSocket watches and leader election on, (1) the server stalls mid-watch
# while a lease renewal is in flight, (2) the server stalls from the start
# (TLS handshakes and the lease acquisition hang), (3) the server is gone
# (watches and the elector back off). A stalled server is kubesim stopped
# with SIGSTOP: connections are accepted by the kernel, nothing answers.
. "$(dirname "$0")/lib/common.sh"
need_bin "$BIN/vigil-operator"; need_bin "$BIN/kubesim"; need python3

KC="$TMP/kc.yaml"
ks_port=$(free_port)
start "$TMP/kubesim.log" "$BIN/kubesim" --listen=127.0.0.1:$ks_port --kubeconfig-out="$KC"
KS_PID=$LAST_PID
for i in $(seq 1 100); do
  [ -s "$KC" ] && curl -s -o /dev/null --cacert "$KC.ca.crt" "https://127.0.0.1:$ks_port/healthz" && break; sleep 0.1
done
[ -s "$KC" ] || fail "kubesim wrote no kubeconfig: $(cat "$TMP/kubesim.log")"
python3 "$REPO/tests/integration/lib/opsim.py" "$KC" mutate 50 1 >/dev/null || fail "cannot seed kubesim"

run_op() { # name
  OP_PORT=$(free_port)
  start "$TMP/op-$1.log" "$BIN/vigil-operator" --kubeconfig="$KC" --web.listen-address=127.0.0.1:$OP_PORT \
    --kube.watch-transport=websocket --leader-elect=true --kube.backoff-max=1s
  OP_PID=$LAST_PID
  wait_http "http://127.0.0.1:$OP_PORT/healthz" || fail "$1: operator did not start"
}
wait_leader() {
  for i in $(seq 1 100); do
    curl -s "http://127.0.0.1:$OP_PORT/metrics" | grep -q '^leader_election_master_status{name="vigil-operator"} 1' &&
      return 0
    sleep 0.1
  done
  fail "$1: never became leader: $(tail -3 "$TMP/op-$1.log")"
}
wait_ready() {
  for i in $(seq 1 100); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$OP_PORT/readyz")" = 200 ] && return 0
    sleep 0.1
  done
  fail "$1: never ready: $(tail -3 "$TMP/op-$1.log")"
}
# term NAME SECS: SIGTERM; the operator must be gone within SECS, with 0
term() {
  local t0 rc dt
  t0=$(date +%s%N)
  kill -TERM "$OP_PID"
  for i in $(seq 1 $(($2 * 20))); do kill -0 "$OP_PID" 2>/dev/null || break; sleep 0.05; done
  dt=$((($(date +%s%N) - t0) / 1000000))
  kill -0 "$OP_PID" 2>/dev/null && fail "$1: still running ${dt} ms after SIGTERM: $(tail -3 "$TMP/op-$1.log")"
  wait "$OP_PID"; rc=$?
  [ $rc -eq 0 ] || fail "$1: exit code $rc after SIGTERM: $(tail -3 "$TMP/op-$1.log")"
  grep -q 'stop did not finish' "$TMP/op-$1.log" && fail "$1: stop deadline fired: $(grep 'stop did not' "$TMP/op-$1.log")"
  ok "$1: exited ${dt} ms after SIGTERM"
}

# 1: the leader renews every 2 s, so 2.5 s after the stall a renewal waits
# on the stopped server (it would until its 10 s renew deadline); the lease
# release then gets its 2 s
run_op stalled-mid-watch
wait_leader stalled-mid-watch
kill -STOP "$KS_PID"; sleep 2.5
term stalled-mid-watch 6
kill -CONT "$KS_PID"

# 2: stalled before the operator starts: watches wait in TLS handshakes,
# the elector's first round waits on its GET
kill -STOP "$KS_PID"
run_op stalled-at-start
sleep 1
term stalled-at-start 4
kill -CONT "$KS_PID"

# 3: the server is gone: connections refused, everything in backoff (a
# standby here: the first operator's lease has not expired)
run_op server-gone
wait_ready server-gone
kill "$KS_PID"; wait "$KS_PID" 2>/dev/null
sleep 1.5
term server-gone 4
