#!/usr/bin/env bash
# Token rotation: kubesim rotates the bearer token in the kubeconfig's
# tokenFile; after the old token's grace period the operator (both watch
# transports, one of them leading) keeps syncing new changes without a
# restart: its client re-reads the file on a 401, and the 401s stop.
. "$(dirname "$0")/lib/common.sh"
need_bin "$BIN/vigil-operator"; need_bin "$BIN/kubesim"; need python3

KC="$TMP/kc.yaml"
ks_port=$(free_port)
start "$TMP/kubesim.log" "$BIN/kubesim" --listen=127.0.0.1:$ks_port --kubeconfig-out="$KC" \
  --token-file-out="$TMP/token" --token-grace=2 --pod-start-ms=50 --pod-ready-ms=50 --pod-delete-ms=50
for i in $(seq 1 100); do
  [ -s "$KC" ] && curl -s -o /dev/null --cacert "$KC.ca.crt" "https://127.0.0.1:$ks_port/healthz" && break; sleep 0.1
done
grep -q 'tokenFile:' "$KC" || fail "kubeconfig does not use tokenFile: $(cat "$TMP/kubesim.log")"
opsim() { python3 "$REPO/tests/integration/lib/opsim.py" "$KC" "$@"; }
unauthorized() { # 401 answers this operator's client has seen
  curl -s "http://127.0.0.1:$1/metrics" | awk '/^rest_client_requests_total\{code="401"/ {n += $NF} END {print n + 0}'
}

declare -A PORT PID
for transport in http websocket; do
  PORT[$transport]=$(free_port)
  # 2 s watches: new watch requests (with the token) keep coming after the rotation
  start "$TMP/op-$transport.log" "$BIN/vigil-operator" --kubeconfig="$KC" \
    --web.listen-address=127.0.0.1:${PORT[$transport]} --kube.watch-transport=$transport --kube.watch-timeout=2s \
    --leader-elect=$([ $transport = http ] && echo true || echo false) \
    --leader-election-namespace=default --leader-election-id=vigil-rot
  PID[$transport]=$LAST_PID
  wait_http "http://127.0.0.1:${PORT[$transport]}/healthz" || fail "operator $transport did not start"
done
opsim mutate 300 1 >/dev/null
for transport in http websocket; do
  res=$(opsim wait "${PORT[$transport]}" 30) || fail "$transport: before rotation: $res"
  ok "$transport: before rotation: $res"
done
for i in $(seq 1 50); do
  [ "$(opsim metric "${PORT[http]}" 'leader_election_master_status{name="vigil-rot"}')" = 1 ] && break; sleep 0.2
done
[ "$(opsim metric "${PORT[http]}" 'leader_election_master_status{name="vigil-rot"}')" = 1 ] || fail "http operator did not lead"

old=$(cat "$TMP/token")
opsim call POST /_sim/rotate-token >/dev/null || fail "rotation refused"
[ "$(cat "$TMP/token")" != "$old" ] || fail "token file not rewritten"
sleep 3   # past the 2 s grace: the old token is refused from here on
# the old token really is dead now
[ "$(curl -s -o /dev/null -w '%{http_code}' --cacert "$KC.ca.crt" -H "Authorization: Bearer $old" \
      "https://127.0.0.1:$ks_port/api/v1/pods")" = 401 ] || fail "old token still accepted after the grace period"

opsim mutate 300 2 >/dev/null
for transport in http websocket; do
  res=$(opsim wait "${PORT[$transport]}" 30) || fail "$transport: after rotation: $res; $(tail -3 "$TMP/op-$transport.log")"
  ok "$transport: after rotation: $res"
done
# no persistent 401s: the count settles while watches keep restarting (every 2 s)
for transport in http websocket; do
  a=$(unauthorized "${PORT[$transport]}"); sleep 4.5; b=$(unauthorized "${PORT[$transport]}")
  [ "$a" = "$b" ] || fail "$transport: 401s keep coming ($a -> $b)"
  ok "$transport: 401s after rotation: $b, settled"
done
opsim mutate 200 3 >/dev/null
for transport in http websocket; do
  res=$(opsim wait "${PORT[$transport]}" 30) || fail "$transport: later: $res"
  kill -0 "${PID[$transport]}" || fail "$transport: operator exited"
done
[ "$(opsim metric "${PORT[http]}" 'leader_election_master_status{name="vigil-rot"}')" = 1 ] ||
  fail "the leader lost its lease over the rotation: $(grep -m3 'level=error' "$TMP/op-http.log")"
ok "still leading, still syncing after rotation"
