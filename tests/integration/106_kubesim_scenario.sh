#!/usr/bin/env bash
# kubesim scenario file: nodes, workloads (statefulset ordinal pods,
# daemonset pod per node, a bare pod bound to a node), a fault, and timed
# world events (container OOM crash loop, pod NotReady, node NotReady).
. "$REPO/tests/integration/lib/common.sh"
. "$REPO/tests/fixtures/kubesim/ks_common.sh"
ks_start --scenario="$REPO/tests/fixtures/kubesim/scenario.yaml"
ks_py <<'PY'
import time
from kslib import *

t0 = time.time()
def started():
    ps = {p["metadata"]["name"]: p for p in get("/api/v1/pods").json()["items"]}
    return ("db-1" in ps and "solo" in ps and conds(ps["solo"]).get("Ready") == "True"
            and len([p for p in ps.values() if p["metadata"]["labels"].get("app") == "agent" and p["spec"].get("nodeName")]) == 3)
check(wait_until(started, 3), "scenario world up within 3 s")
nodes = sorted(n["metadata"]["name"] for n in get("/api/v1/nodes").json()["items"])
check(nodes == ["node-a", "worker-0", "worker-1"], "nodes from the scenario: %s" % nodes)
check(get("/api/v1/nodes/node-a").json()["metadata"]["labels"]["zone"] == "a", "node labels")
pods = {p["metadata"]["name"]: p for p in get("/api/v1/pods").json()["items"]}
check("db-0" in pods and "db-1" in pods, "statefulset ordinal pods db-0, db-1")
agents = [p for p in pods.values() if p["metadata"]["labels"].get("app") == "agent"]
check(sorted(p["spec"]["nodeName"] for p in agents) == nodes, "daemonset: one pod on every node")
solo = pods.get("solo", {})
check(solo.get("status", {}).get("phase") == "Running" and conds(solo).get("Ready") == "True", "bare pod Pending -> Running -> Ready")
check(get("/api/v1/namespaces/default/secrets").status == 429, "scenario fault: 429 on the first secrets list")
check(time.time() - t0 < 3.2, "first checks ran before the timed events")
def crashed():
    p = get("/api/v1/namespaces/default/pods/solo").json()
    return ({c["name"]: c for c in p["status"]["containerStatuses"]}["main"]["restartCount"] == 3
            and conds(get("/api/v1/nodes/worker-1").json())["Ready"] == "Unknown"
            and get("/api/v1/namespaces/default/configmaps/late").status == 200)
check(wait_until(crashed, 8), "timed events happened")
solo = get("/api/v1/namespaces/default/pods/solo").json()
import calendar
ts = lambda v: calendar.timegm(time.strptime(v[:19], "%Y-%m-%dT%H:%M:%S"))
born = ts(get("/api/v1/nodes/node-a").json()["metadata"]["creationTimestamp"])
late = ts(get("/api/v1/namespaces/default/configmaps/late").json()["metadata"]["creationTimestamp"])
check(3 <= late - born <= 6, "timed events at their time: the 4200ms create came %ds after start" % (late - born))
cs = {c["name"]: c for c in solo["status"]["containerStatuses"]}
m = cs["main"]
check(m["restartCount"] == 3, "crash: restartCount grew to 3")
check(m["state"].get("waiting", {}).get("reason") == "CrashLoopBackOff", "crash: waiting reason CrashLoopBackOff")
check(m["lastState"].get("terminated", {}).get("reason") == "OOMKilled" and m["lastState"]["terminated"]["exitCode"] == 137, "crash: last termination OOMKilled, exit 137")
check(cs["side"]["restartCount"] == 0 and cs["side"]["ready"], "crash: the other container is untouched")
check(conds(solo)["Ready"] == "False", "crash: pod NotReady")
check(conds(get("/api/v1/namespaces/default/pods/db-1").json())["Ready"] == "False", "pod-not-ready: db-1 NotReady")
time.sleep(0.3)
check(conds(get("/api/v1/namespaces/default/pods/db-1").json())["Ready"] == "False", "pod-not-ready: stays NotReady (the kubelet loop keeps it)")
check(get("/apis/apps/v1/namespaces/default/statefulsets/db").json()["status"]["readyReplicas"] == 1, "statefulset readyReplicas reflects it")
w1 = get("/api/v1/nodes/worker-1").json()
check(conds(w1)["Ready"] == "Unknown", "node-not-ready: worker-1 Ready Unknown")
def on_w1():  # db-1 is held NotReady by its own action
    return [p for p in get("/api/v1/pods?fieldSelector=spec.nodeName%3Dworker-1").json()["items"] if p["metadata"]["name"] != "db-1"]
check(wait_until(lambda: (lambda ag: ag and all(conds(p)["Ready"] == "False" for p in ag))(on_w1()), 3), "pods on the NotReady node become NotReady")
check(
      [c for c in get("/api/v1/nodes/worker-1").json()["status"]["conditions"] if c["type"] == "Ready"][0]["reason"] == "NodeStatusUnknown",
      "node-not-ready: reason NodeStatusUnknown")
check(get("/api/v1/namespaces/default/configmaps/late").status == 200, "scenario create action")
r = request("POST", "/_sim/action", {"action": "node-ready", "node": "worker-1"})
check(r.status == 200 and wait_until(lambda: conds(get("/api/v1/nodes/worker-1").json())["Ready"] == "True", 3), "control endpoint action: node Ready again")
check(wait_until(lambda: all(conds(p)["Ready"] == "True" for p in on_w1()), 3),
      "pods on the node recover with it")
r = request("POST", "/_sim/action", {"action": "pod-ready", "pod": "db-1"})
check(r.status == 200 and wait_until(lambda: conds(get("/api/v1/namespaces/default/pods/db-1").json())["Ready"] == "True", 3), "pod-ready undoes pod-not-ready")
r = request("POST", "/_sim/action", {"action": "crash", "pod": "nope"})
check(r.status == 404, "action on a missing pod -> 404")
check(request("POST", "/_sim/action", {"action": "explode"}).status == 400, "unknown action -> 400")
done()
PY
rc=$?; [ $rc = 0 ] || exit $rc
# a broken scenario is refused at start with a clear message
printf 'events:\n  - at: soon\n    action: crash\n' > "$TMP/bad.yaml"
"$KS_BIN" --listen=127.0.0.1:0 --kubeconfig-out="$TMP/kc-bad" --scenario="$TMP/bad.yaml" 2>"$TMP/bad.err"; rc=$?
[ $rc = 2 ] && grep -q "valid 'at'" "$TMP/bad.err" || fail "bad scenario refused (rc=$rc: $(cat "$TMP/bad.err"))"
printf 'nodes: [\n' > "$TMP/bad2.yaml"
"$KS_BIN" --listen=127.0.0.1:0 --kubeconfig-out="$TMP/kc-bad" --scenario="$TMP/bad2.yaml" 2>"$TMP/bad.err"; rc=$?
[ $rc = 2 ] && grep -q "yaml" "$TMP/bad.err" || fail "malformed YAML refused (rc=$rc)"
ok "broken scenarios are refused with a message"
