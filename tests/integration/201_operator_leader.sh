#!/usr/bin/env bash
# Leader election between two operators on one kubesim Lease: exactly one
# leader; a clean stop releases the lease (the standby takes over at once);
# a killed leader is replaced within lease duration + retry period.
. "$(dirname "$0")/lib/common.sh"
need_bin "$BIN/vigil-operator"; need_bin "$BIN/kubesim"

ks_port=$(free_port)
start "$TMP/kubesim.log" "$BIN/kubesim" --listen=127.0.0.1:$ks_port --kubeconfig-out="$TMP/kc.yaml"
for i in $(seq 1 100); do [ -s "$TMP/kc.yaml" ] && break; sleep 0.1; done
[ -s "$TMP/kc.yaml" ] || fail "kubesim wrote no kubeconfig"

declare -A PORT PID
launch() {
  PORT[$1]=$(free_port)
  start "$TMP/op-$1.log" "$BIN/vigil-operator" --kubeconfig="$TMP/kc.yaml" --web.listen-address=127.0.0.1:${PORT[$1]} \
    --leader-election-namespace=default --leader-election-id=vigil-it --leader-election-identity="$1"
  PID[$1]=$LAST_PID
  wait_http "http://127.0.0.1:${PORT[$1]}/healthz" || fail "operator $1 did not start"
}
is_leader() {
  curl -s --max-time 2 "http://127.0.0.1:${PORT[$1]}/metrics" |
    grep -q '^leader_election_master_status{name="vigil-it"} 1$'
}
leaders() { local n=0 x; for x in "$@"; do is_leader "$x" && n=$((n + 1)); done; echo $n; }

launch a; launch b
for i in $(seq 1 100); do [ "$(leaders a b)" = 1 ] && break; sleep 0.2; done
[ "$(leaders a b)" = 1 ] || fail "want exactly one leader, have $(leaders a b)"
for i in $(seq 1 10); do [ "$(leaders a b)" = 1 ] || fail "leader count changed to $(leaders a b)"; sleep 0.3; done
first=a; is_leader a || first=b
other=b; [ $first = b ] && other=a
ok "one leader: $first"
# standby replicas are ready too
for x in a b; do
  for i in $(seq 1 50); do [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:${PORT[$x]}/readyz")" = 200 ] && break; sleep 0.2; done
  [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:${PORT[$x]}/readyz")" = 200 ] || fail "$x not ready"
done

# clean stop: the lease is released, the standby leads within a retry period or so
t0=$(date +%s.%N)
kill -TERM "${PID[$first]}"; wait "${PID[$first]}" 2>/dev/null
for i in $(seq 1 50); do is_leader $other && break; sleep 0.2; done
is_leader $other || fail "no takeover after release"
ok "release -> takeover in $(python3 -c "import time;print(round(time.time()-$t0,1))") s"

# hard kill: takeover within lease duration (15 s) + retry period (2 s) and jitter
launch $first
kill -9 "${PID[$other]}"; wait "${PID[$other]}" 2>/dev/null
t0=$(date +%s.%N)
for i in $(seq 1 110); do is_leader $first && break; sleep 0.2; done
took=$(python3 -c "import time;print(round(time.time()-$t0,1))")
is_leader $first || fail "no takeover after kill within 22 s"
python3 -c "import sys; sys.exit(0 if $took <= 17.4 + 1.5 else 1)" || fail "takeover took $took s"
ok "kill -> takeover in $took s"
