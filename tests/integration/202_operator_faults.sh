#!/usr/bin/env bash
# The operator's caches converge to kubesim's store (keys and RVs of pods,
# deployments, statefulsets, nodes) after every fault kubesim can inject, over
# both watch transports, and vigil_operator_watch_restarts_total counts each
# fault under its reason: 410 in the stream, a connection cut mid-event,
# split and coalesced chunks, 429 with Retry-After, 500, 503, 504 (RV too
# large), history compaction, /_sim/restart, and a real kubesim restart on
# the same port and credentials that loses all history and objects.
. "$(dirname "$0")/lib/common.sh"
need_bin "$BIN/vigil-operator"; need_bin "$BIN/kubesim"; need python3

KC="$TMP/kc.yaml"
STATE="$TMP/ks-state"; mkdir -p "$STATE"
ks_port=$(free_port)
opsim() { python3 "$REPO/tests/integration/lib/opsim.py" "$KC" "$@"; }

ks_up() { # start kubesim on ks_port (again), bounded retries while the port frees
  local try i
  for try in 1 2 3 4 5; do
    start "$TMP/kubesim-$try.log" "$BIN/kubesim" --listen=127.0.0.1:$ks_port --kubeconfig-out="$KC" \
      --state-dir="$STATE" --pod-start-ms=50 --pod-ready-ms=50 --pod-delete-ms=50 --too-large-wait-ms=300 \
      --bookmark-ms=1000
    KS_PID=$LAST_PID
    for i in $(seq 1 100); do
      [ -s "$KC" ] && curl -s -o /dev/null --cacert "$KC.ca.crt" "https://127.0.0.1:$ks_port/healthz" && return 0
      kill -0 "$KS_PID" 2>/dev/null || break
      sleep 0.1
    done
    kill "$KS_PID" 2>/dev/null; wait "$KS_PID" 2>/dev/null; sleep 0.3
  done
  fail "kubesim did not start: $(tail -3 "$TMP"/kubesim-*.log)"
}

restarts() { opsim metric "$op_port" "vigil_operator_watch_restarts_total{resource=\"pods\",reason=\"$1\"}"; }

converge() { # what
  local res
  res=$(opsim wait "$op_port" 30) || fail "$transport: $1: $res; $(tail -3 "$TMP/op-$transport.log")"
  ok "$transport: $1: $res"
}

# phase NAME CHECK RULE: arm a fault for pods watches (one-shot ones fire on
# the next watch), mutate, converge, and see the restart reason counted
phase() {
  local res
  seed=$((seed + 1))
  res=$(opsim fault "$op_port" "$2" "$3" 200 $seed 2>&1) || fail "$transport: $1: $res; $(tail -3 "$TMP/op-$transport.log")"
  ok "$transport: $1: $res"
}

ks_up
seed=1
for transport in http websocket; do
  op_port=$(free_port)
  # short watches (2 s) so a fault armed for "the next watch" fires soon; short backoff keeps the run short
  start "$TMP/op-$transport.log" "$BIN/vigil-operator" --kubeconfig="$KC" --web.listen-address=127.0.0.1:$op_port \
    --kube.watch-transport=$transport --leader-elect=false --kube.watch-timeout=2s \
    --kube.backoff-initial=100ms --kube.backoff-max=1s
  OP_PID=$LAST_PID
  wait_http "http://127.0.0.1:$op_port/healthz" || fail "operator did not start"
  opsim mutate 500 $((seed++)) >/dev/null
  converge "baseline"

  phase "410 in stream" 'expired>' '{"type":"stream-410","resource":"pods","verb":"watch","afterEvents":2,"count":1}'
  phase "reset mid-event" 'network>' '{"type":"reset-mid-event","resource":"pods","verb":"watch","afterEvents":2,"count":1}'
  phase "429 Retry-After" 'throttled>' '{"type":"status","code":429,"retryAfter":1,"resource":"pods","verb":"watch","count":1}'
  phase "500" 'server_error>' '{"type":"status","code":500,"resource":"pods","verb":"watch","count":1}'
  phase "503 Retry-After" 'server_error>' '{"type":"status","code":503,"retryAfter":1,"resource":"pods","verb":"watch","count":1}'
  phase "504 RV too large" 'too_large>' '{"type":"status","code":504,"resource":"pods","verb":"watch","count":1}'
  # every pods watch split in three / coalesced while the rule stands: no decode errors
  phase "split events" 'decode=' '{"type":"split","resource":"pods","verb":"watch"}'
  phase "coalesced events" 'decode=' '{"type":"coalesce","resource":"pods","verb":"watch"}'
  # compaction while the pods watch is down: it resumes from a forgotten RV, 410, relist
  seed=$((seed + 2))
  res=$(opsim compact "$op_port" $seed) || fail "$transport: compaction: $res"
  ok "$transport: compaction: $res"
  # /_sim/restart: every open watch is cut, history is gone
  seed=$((seed + 1))
  res=$(opsim simrestart "$op_port" $seed) || fail "$transport: sim restart: $res"
  ok "$transport: sim restart: $res"

  # a real restart: same port, CA and token; objects and history are gone and
  # RVs start again low, so the operator's RV is "too large" for the new server
  tl=$(restarts too_large)
  kill "$KS_PID"; wait "$KS_PID" 2>/dev/null
  ks_up
  opsim mutate 300 $((seed++)) >/dev/null
  converge "kubesim restart"
  [ "$(restarts too_large)" -gt "$tl" ] || fail "$transport: kubesim restart: no too_large relist counted"

  grep -q 'level=error' "$TMP/op-$transport.log" && fail "$transport: errors logged: $(grep -m3 'level=error' "$TMP/op-$transport.log")"
  kill "$OP_PID"; wait "$OP_PID" 2>/dev/null
  opsim metric "$op_port" x >/dev/null 2>&1 && fail "$transport: operator still serving after SIGTERM"
done
ok "all faults converged over http and websocket"
