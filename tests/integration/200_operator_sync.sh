#!/usr/bin/env bash
# The operator's informer caches converge to kubesim's state over both
# watch transports: after 10k random writes (pods, deployments,
# statefulsets, over keep-alive connections) /debug/informers lists exactly
# the objects (keys and resourceVersions) kubesim's store holds.
. "$(dirname "$0")/lib/common.sh"
need_bin "$BIN/vigil-operator"; need_bin "$BIN/kubesim"; need python3

KC="$TMP/kc.yaml"
ks_port=$(free_port)
start "$TMP/kubesim.log" "$BIN/kubesim" --listen=127.0.0.1:$ks_port --kubeconfig-out="$KC" \
  --pod-start-ms=50 --pod-ready-ms=50 --pod-delete-ms=50
for i in $(seq 1 100); do
  [ -s "$KC" ] && curl -s -o /dev/null --cacert "$KC.ca.crt" "https://127.0.0.1:$ks_port/healthz" && break; sleep 0.1
done
[ -s "$KC" ] || fail "kubesim wrote no kubeconfig: $(cat "$TMP/kubesim.log")"
opsim() { python3 "$REPO/tests/integration/lib/opsim.py" "$KC" "$@"; }

seed=1
for transport in http websocket; do
  op_port=$(free_port)
  start "$TMP/op-$transport.log" "$BIN/vigil-operator" --kubeconfig="$KC" \
    --web.listen-address=127.0.0.1:$op_port --kube.watch-transport=$transport --leader-elect=false
  OP_PID=$LAST_PID
  wait_http "http://127.0.0.1:$op_port/healthz" || fail "operator did not start"
  opsim mutate 300 $((seed++)) >/dev/null   # while it syncs
  for i in $(seq 1 100); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$op_port/readyz")" = 200 ] && break; sleep 0.2
  done
  [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$op_port/readyz")" = 200 ] ||
    fail "$transport: not ready: $(curl -s "http://127.0.0.1:$op_port/readyz?verbose"; tail -5 "$TMP/op-$transport.log")"
  m=$(opsim mutate 10000 $((seed++))) || fail "$transport: mutations failed: $m"
  res=$(opsim wait "$op_port" 60) || fail "$transport: $res"
  ok "$transport: $m; $res"
  curl -s "http://127.0.0.1:$op_port/metrics" | grep -q '^vigil_operator_informer_objects{resource="pods"} ' ||
    fail "$transport: no vigil_operator_informer_objects"
  grep -q 'reconcile.*object changed' "$TMP/op-$transport.log" || fail "$transport: the log reconciler saw nothing"
  # keys are handed to the workqueue once per burst of events: a lone
  # change after a quiet spell must still reach the reconciler at once
  marker="marker-$transport"
  opsim call POST /api/v1/namespaces/default/pods \
    "{\"metadata\":{\"name\":\"$marker\"},\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"x\"}]}}" \
    >/dev/null || fail "$transport: cannot create $marker"
  for i in $(seq 1 30); do
    grep -q "object changed.*name=$marker" "$TMP/op-$transport.log" && break; sleep 0.1
  done
  grep -q "object changed.*name=$marker" "$TMP/op-$transport.log" ||
    fail "$transport: a lone change did not reach the reconciler within 3 s"
  ok "$transport: a lone change reached the reconciler"
  kill "$OP_PID"; wait "$OP_PID" 2>/dev/null
done
