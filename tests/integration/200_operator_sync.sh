#!/usr/bin/env bash
# The operator's informer caches converge to kubesim's state over both
# watch transports: after random pod mutations, /debug/informers lists
# exactly the pods (keys and resourceVersions) kubesim's store holds.
. "$(dirname "$0")/lib/common.sh"
need_bin "$BIN/vigil-operator"; need_bin "$BIN/kubesim"; need kubectl; need python3

ks_port=$(free_port)
start "$TMP/kubesim.log" "$BIN/kubesim" --listen=127.0.0.1:$ks_port --kubeconfig-out="$TMP/kc.yaml"
for i in $(seq 1 100); do [ -s "$TMP/kc.yaml" ] && break; sleep 0.1; done
[ -s "$TMP/kc.yaml" ] || fail "kubesim wrote no kubeconfig: $(cat "$TMP/kubesim.log")"

# curl access from the kubeconfig kubesim wrote (the test's own copy of the CA)
kc() { kubectl --kubeconfig "$TMP/kc.yaml" config view --raw --minify -o jsonpath="$1"; }
SERVER=$(kc '{.clusters[0].cluster.server}')
kc '{.clusters[0].cluster.certificate-authority-data}' | base64 -d > "$TMP/ca.pem" 2>/dev/null
TOKEN=$(kc '{.users[0].user.token}')
TOKFILE=$(kc '{.users[0].user.tokenFile}')
[ -z "$TOKEN" ] && [ -n "$TOKFILE" ] && TOKEN=$(cat "$TOKFILE")
CURL=(curl -s --max-time 10 -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json')
[ -s "$TMP/ca.pem" ] && CURL+=(--cacert "$TMP/ca.pem")
api() { "${CURL[@]}" -X "$1" "$SERVER$2" ${3:+--data-binary "$3"}; }

pod_json() {
  printf '{"apiVersion":"v1","kind":"Pod","metadata":{"name":"%s","namespace":"%s","labels":{"app":"a%s"}},"spec":{"containers":[{"name":"c","image":"x","resources":{"requests":{"cpu":"100m","memory":"64Mi"}}}]}}' "$1" "$2" "$3"
}

mutate() { # N random creates/label patches/deletes
  local n=$1 i ns name
  for i in $(seq 1 "$n"); do
    ns=ns$((RANDOM % 3)); name=p$((RANDOM % 60))
    case $((RANDOM % 4)) in
      0|1) api POST "/api/v1/namespaces/$ns/pods" "$(pod_json "$name" "$ns" $((RANDOM % 5)))" >/dev/null ;;
      2) "${CURL[@]}" -X PATCH -H 'Content-Type: application/merge-patch+json' \
           "$SERVER/api/v1/namespaces/$ns/pods/$name" --data-binary "{\"metadata\":{\"labels\":{\"r\":\"$RANDOM\"}}}" >/dev/null ;;
      3) api DELETE "/api/v1/namespaces/$ns/pods/$name?gracePeriodSeconds=0" >/dev/null ;;
    esac
  done
}

for ns in ns0 ns1 ns2; do
  api POST /api/v1/namespaces "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"$ns\"}}" >/dev/null
done

# compare: kubesim's pods vs the operator's cache, keys and RVs
converged() {
  api GET /api/v1/pods > "$TMP/truth.json"
  curl -s --max-time 5 "http://127.0.0.1:$1/debug/informers" > "$TMP/cache.json"
  python3 - "$TMP/truth.json" "$TMP/cache.json" <<'PY'
import json, sys
truth = json.load(open(sys.argv[1]))
cache = json.load(open(sys.argv[2]))
want = {f"{i['metadata']['namespace']}/{i['metadata']['name']}": i['metadata']['resourceVersion'] for i in truth['items']}
pods = [x for x in cache['informers'] if x['resource'] == 'pods'][0]
got = {o['key']: o['rv'] for o in pods['objects']}
if not pods['synced'] or got != want:
    missing = sorted(set(want) - set(got))[:5]; extra = sorted(set(got) - set(want))[:5]
    stale = sorted(k for k in set(want) & set(got) if want[k] != got[k])[:5]
    print(f"not converged: {len(want)} vs {len(got)} missing={missing} extra={extra} stale={stale}")
    sys.exit(1)
print(f"converged on {len(want)} pods")
PY
}

for transport in http websocket; do
  op_port=$(free_port)
  start "$TMP/op-$transport.log" "$BIN/vigil-operator" --kubeconfig="$TMP/kc.yaml" \
    --web.listen-address=127.0.0.1:$op_port --kube.watch-transport=$transport --leader-elect=false
  wait_http "http://127.0.0.1:$op_port/healthz" || fail "operator did not start"
  mutate 150
  for i in $(seq 1 100); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$op_port/readyz")" = 200 ] && break; sleep 0.2
  done
  [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$op_port/readyz")" = 200 ] ||
    fail "$transport: not ready: $(curl -s "http://127.0.0.1:$op_port/readyz?verbose"; tail -5 "$TMP/op-$transport.log")"
  mutate 150
  res=""
  for i in $(seq 1 60); do res=$(converged $op_port) && break; sleep 0.25; done
  converged $op_port >/dev/null || fail "$transport: $res"
  ok "$transport: $res"
  curl -s "http://127.0.0.1:$op_port/metrics" | grep -q '^vigil_operator_informer_objects{resource="pods"} ' ||
    fail "$transport: no vigil_operator_informer_objects"
  grep -q 'reconcile.*object changed' "$TMP/op-$transport.log" || fail "$transport: the log reconciler saw nothing"
  kill "$LAST_PID"; wait "$LAST_PID" 2>/dev/null
done
