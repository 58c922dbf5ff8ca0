#!/usr/bin/env bash
# A partitioned leader: kubesim refuses every Lease request of the leader's
# user (503 with Retry-After, so the client's retries must not outlive the
# renew deadline). The leader steps down (master status 0, exit status 1)
# BEFORE the standby takes over (master status 1): log timestamps and the
# metrics polled from outside both say so.
. "$(dirname "$0")/lib/common.sh"
need_bin "$BIN/vigil-operator"; need_bin "$BIN/kubesim"; need python3

KC="$TMP/kc.yaml"
ks_port=$(free_port)
start "$TMP/kubesim.log" "$BIN/kubesim" --listen=127.0.0.1:$ks_port --kubeconfig-out="$KC"
for i in $(seq 1 100); do
  [ -s "$KC" ] && curl -s -o /dev/null --cacert "$KC.ca.crt" "https://127.0.0.1:$ks_port/healthz" && break; sleep 0.1
done
[ -s "$KC" ] || fail "kubesim did not start"
opsim() { python3 "$REPO/tests/integration/lib/opsim.py" "$KC" "$@"; }

# two users: "a" with the bearer token (kubesim-token), "b" with the client
# certificate (CN kubesim-admin), so a fault can cut off one of them
declare -A PORT PID USER=([a]=kubesim-token [b]=kubesim-admin) CTX=([a]=kubesim [b]=kubesim-cert)
for x in a b; do
  PORT[$x]=$(free_port)
  start "$TMP/op-$x.log" "$BIN/vigil-operator" --kubeconfig="$KC" --context=${CTX[$x]} \
    --web.listen-address=127.0.0.1:${PORT[$x]} --leader-election-namespace=default \
    --leader-election-id=vigil-part --leader-election-identity=$x
  PID[$x]=$LAST_PID
  wait_http "http://127.0.0.1:${PORT[$x]}/healthz" || fail "operator $x did not start"
done
master() { curl -s --max-time 2 "http://127.0.0.1:${PORT[$1]}/metrics" | grep -q '^leader_election_master_status{name="vigil-part"} 1$'; }
for i in $(seq 1 100); do master a || master b && break; sleep 0.2; done
leader=a; master a || leader=b
standby=b; [ $leader = b ] && standby=a
master $leader && ! master $standby || fail "want exactly one leader"
ok "leader $leader (user ${USER[$leader]})"

opsim call POST /_sim/faults "{\"type\":\"status\",\"code\":503,\"retryAfter\":1,\"resource\":\"leases\",\"user\":\"${USER[$leader]}\"}" >/dev/null ||
  fail "cannot add the partition fault"
t0=$(date +%s.%N)
# poll from outside: when did the leader stop saying 1, when did the standby start
down_at="" up_at=""
for i in $(seq 1 300); do
  now=$(date +%s.%N)
  [ -z "$down_at" ] && ! master $leader && down_at=$now
  [ -z "$up_at" ] && master $standby && up_at=$now
  [ -n "$down_at" ] && [ -n "$up_at" ] && break
  sleep 0.1
done
[ -n "$down_at" ] || fail "the partitioned leader never stepped down"
[ -n "$up_at" ] || fail "the standby never took over"
wait "${PID[$leader]}"; rc=$?
[ $rc = 1 ] || fail "the deposed leader exited with $rc, want 1"
ok "deposed leader exited with status 1"

# log timestamps (same clock, ms): lost strictly before became leader
lost=$(grep -m1 'leadership lost' "$TMP/op-$leader.log" | sed -n 's/^ts=\([^ ]*\).*/\1/p')
won=$(grep 'became leader' "$TMP/op-$standby.log" | tail -1 | sed -n 's/^ts=\([^ ]*\).*/\1/p')
[ -n "$lost" ] && [ -n "$won" ] || fail "missing log lines: lost=$lost won=$won"
python3 - "$lost" "$won" "$t0" "$down_at" "$up_at" <<'PY' || fail "stepped down too late"
import sys, datetime
p = lambda s: datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=datetime.timezone.utc).timestamp()
lost, won = p(sys.argv[1]), p(sys.argv[2])
t0, down, up = map(float, sys.argv[3:6])
print("ok: logs: lost at +%.2f s, new leader at +%.2f s (gap %.2f s); metrics: 0 at +%.1f s, 1 at +%.1f s"
      % (lost - t0, won - t0, won - lost, down - t0, up - t0))
# renew deadline 10 s after the last renewal (at most one retry period before the fault)
sys.exit(0 if lost < won and down <= up and lost - t0 <= 10 + 0.5 else 1)
PY
opsim call DELETE /_sim/faults >/dev/null
master $standby || fail "the new leader did not keep the lease"
ok "partitioned leader stepped down before the takeover"
