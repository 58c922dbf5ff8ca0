#!/usr/bin/env bash
# kubesim behaving like a cluster, observed through watches: pod lifecycle
# Pending -> Running -> Ready after the configured delays, scheduling (and
# Unschedulable), deployment -> replicaset -> pods ownership, a rollout on a
# template change, statefulset ordinal pods in order (OrderedReady, Parallel,
# scale down from the top), node leases.
. "$REPO/tests/integration/lib/common.sh"
. "$REPO/tests/fixtures/kubesim/ks_common.sh"
ks_start --nodes=2 --pod-start-ms=300 --pod-ready-ms=300
ks_py <<'PY'
import json, time
from kslib import *

NS = "/api/v1/namespaces/default"
APPS = "/apis/apps/v1/namespaces/default"
def cur_rv(path=NS + "/pods"):
    return get(path).json()["metadata"]["resourceVersion"]
def pod(name, labels, **spec):
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "labels": labels},
            "spec": dict({"containers": [{"name": "c", "image": "busybox:1"}]}, **spec)}
def is_ready(p):
    return conds(p).get("Ready") == "True"

# pod lifecycle with --pod-start-ms=300 --pod-ready-ms=300, seen on a watch
w = Watch(NS + "/pods?watch=1&labelSelector=t%%3Dlife&resourceVersion=%s&timeoutSeconds=8" % cur_rv())
t0 = time.time()
check(request("POST", NS + "/pods", pod("life", {"t": "life"})).status == 201, "create a bare pod")
seen = []  # (seconds since create, phase, nodeName, Ready)
for e in w.events(seconds=8):
    o = e["object"]
    seen.append((time.time() - t0, o["status"].get("phase"), o["spec"].get("nodeName"), is_ready(o)))
    if is_ready(o):
        break
w.close()
phases = [s[1] for s in seen]
check(phases and phases[0] == "Pending" and not seen[0][2], "lifecycle: created Pending and unscheduled: %s" % seen[:1])
sched = [s for s in seen if s[2]]
check(sched and sched[0][1] == "Pending", "lifecycle: the scheduler binds it to a node while Pending")
running = [s for s in seen if s[1] == "Running"]
ready = [s for s in seen if s[3]]
check(running and not running[0][3] and ready and ready[0][1] == "Running", "lifecycle: Pending -> Running (not Ready) -> Ready: %s" % [(p, r) for _, p, _, r in seen])
if running and ready:
    check(running[0][0] >= 0.28, "lifecycle: Running after --pod-start-ms=300 (%.2fs)" % running[0][0])
    check(ready[0][0] - running[0][0] >= 0.28, "lifecycle: Ready --pod-ready-ms=300 after Running (%.2fs)" % (ready[0][0] - running[0][0]))
p = get(NS + "/pods/life").json()
check(p["status"].get("podIP") and p["status"].get("hostIP") and p["status"].get("startTime")
      and conds(p) == {"PodReadyToStartContainers": "True", "Initialized": "True", "Ready": "True", "ContainersReady": "True", "PodScheduled": "True"}
      and p["status"]["containerStatuses"][0]["ready"] and "running" in p["status"]["containerStatuses"][0]["state"],
      "lifecycle: a Ready pod has IPs, startTime, the five conditions and a running, ready container")

# scheduling: a nodeSelector no node matches leaves the pod Pending, Unschedulable
request("POST", NS + "/pods", pod("nowhere", {"t": "x"}, nodeSelector={"zone": "mars"}))
p = wait_until(lambda: (lambda p: conds(p).get("PodScheduled") == "False" and p)(get(NS + "/pods/nowhere").json()), 5)
check(p and p["status"]["phase"] == "Pending" and not p["spec"].get("nodeName")
      and [c for c in p["status"]["conditions"] if c["type"] == "PodScheduled"][0]["reason"] == "Unschedulable",
      "scheduler: no matching node -> Pending with PodScheduled=False reason Unschedulable")
target = sorted(n["metadata"]["name"] for n in get("/api/v1/nodes").json()["items"])[-1]
request("PATCH", "/api/v1/nodes/" + target, {"metadata": {"labels": {"zone": "mars"}}}, ctype="application/merge-patch+json")
p = wait_until(lambda: (lambda p: p["spec"].get("nodeName") and p)(get(NS + "/pods/nowhere").json()), 5)
check(p and p["spec"]["nodeName"] == target, "scheduler: bound once a node matches the nodeSelector")

# node leases: one per node in kube-node-lease, held by the node
ls = get("/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases").json()["items"]
nodes = sorted(n["metadata"]["name"] for n in get("/api/v1/nodes").json()["items"])
check(sorted(l["metadata"]["name"] for l in ls) == nodes and all(l["spec"]["holderIdentity"] == l["metadata"]["name"]
      and l["metadata"]["ownerReferences"][0]["kind"] == "Node" and l["spec"].get("renewTime") for l in ls),
      "node leases: one per node in kube-node-lease, held and owned by the node")

# deployment -> replicaset -> pods
dep = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
       "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}},
                "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "c", "image": "nginx:1.27"}]}}}}
check(request("POST", APPS + "/deployments", dep).status == 201, "create deployment web")
def dstatus():
    return get(APPS + "/deployments/web").json()
def complete(d):
    st = d.get("status", {})
    return (st.get("observedGeneration") == d["metadata"]["generation"] and st.get("updatedReplicas") == d["spec"]["replicas"]
            and st.get("readyReplicas") == d["spec"]["replicas"] and st.get("availableReplicas") == d["spec"]["replicas"]
            and st.get("replicas") == d["spec"]["replicas"])
d = wait_until(lambda: (lambda d: complete(d) and d)(dstatus()), 15)
check(d, "deployment: rolled out (observedGeneration, replicas, updated, ready, available)")
if d:
    cs = {c["type"]: c for c in d["status"]["conditions"]}
    check(cs["Available"]["status"] == "True" and cs["Progressing"]["status"] == "True" and cs["Progressing"]["reason"] == "NewReplicaSetAvailable",
          "deployment: conditions Available=True, Progressing=True NewReplicaSetAvailable")
rss = get(APPS + "/replicasets?labelSelector=app%3Dweb").json()["items"]
check(len(rss) == 1, "deployment: one replicaset")
rs = rss[0] if rss else {"metadata": {"name": "?", "labels": {}, "annotations": {}}, "spec": {}}
h = rs["metadata"]["labels"].get("pod-template-hash", "")
owner = (rs["metadata"].get("ownerReferences") or [{}])[0]
check(h and rs["metadata"]["name"] == "web-" + h and owner.get("kind") == "Deployment" and owner.get("name") == "web"
      and owner.get("controller") is True and owner.get("uid") == d["metadata"]["uid"]
      and rs["metadata"]["annotations"].get("deployment.kubernetes.io/revision") == "1" and rs["spec"]["replicas"] == 2,
      "replicaset web-HASH: pod-template-hash label, controller ownerReference to the deployment, revision 1")
pods = get(NS + "/pods?labelSelector=app%3Dweb").json()["items"]
check(len(pods) == 2 and all(p["metadata"]["name"].startswith(rs["metadata"]["name"] + "-") and p["metadata"]["labels"].get("pod-template-hash") == h
      and p["metadata"]["ownerReferences"][0]["kind"] == "ReplicaSet" and p["metadata"]["ownerReferences"][0]["uid"] == rs["metadata"]["uid"]
      for p in pods), "pods NAME-HASH-xxxxx owned by the replicaset, with its pod-template-hash")

# rollout on a template change: a new replicaset takes over, every pod replaced
old_pods = {p["metadata"]["name"] for p in pods}
request("PATCH", APPS + "/deployments/web", {"spec": {"template": {"spec": {"containers": [{"name": "c", "image": "nginx:1.28"}]}}}},
        ctype="application/strategic-merge-patch+json")
d = wait_until(lambda: (lambda d: complete(d) and d["metadata"]["generation"] == 2 and d)(dstatus()), 20)
def settled():
    ps = get(NS + "/pods?labelSelector=app%3Dweb").json()["items"]
    return len(ps) == 2 and not any(p["metadata"].get("deletionTimestamp") for p in ps) and ps
ps = wait_until(settled, 10) or []
check(d and ps and not old_pods & {p["metadata"]["name"] for p in ps} and all(p["spec"]["containers"][0]["image"] == "nginx:1.28" for p in ps),
      "rollout: a template change replaced every pod with the new image")
rss = {r["metadata"]["annotations"]["deployment.kubernetes.io/revision"]: r["spec"]["replicas"] for r in get(APPS + "/replicasets?labelSelector=app%3Dweb").json()["items"]}
check(rss == {"1": 0, "2": 2}, "rollout: the new replicaset (revision 2) has 2 replicas, the old one 0: %s" % rss)

# statefulset, OrderedReady: web-N is created only once web-(N-1) is Ready
sts = {"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "db"},
       "spec": {"replicas": 3, "serviceName": "db", "selector": {"matchLabels": {"app": "db"}},
                "template": {"metadata": {"labels": {"app": "db"}}, "spec": {"containers": [{"name": "c", "image": "postgres:16"}]}}}}
w = Watch(NS + "/pods?watch=1&labelSelector=app%%3Ddb&resourceVersion=%s&timeoutSeconds=15" % cur_rv())
request("POST", APPS + "/statefulsets", sts)
order = []  # ("ADDED", name) and ("READY", name) in arrival order
for e in w.events(seconds=15):
    n = e["object"]["metadata"]["name"]
    if e["type"] == "ADDED":
        order.append(("ADDED", n))
    elif is_ready(e["object"]) and ("READY", n) not in order:
        order.append(("READY", n))
    if ("READY", "db-2") in order:
        break
w.close()
check(order == [("ADDED", "db-0"), ("READY", "db-0"), ("ADDED", "db-1"), ("READY", "db-1"), ("ADDED", "db-2"), ("READY", "db-2")],
      "statefulset OrderedReady: each ordinal pod created after the previous one is Ready: %s" % order)
p0 = get(NS + "/pods/db-0").json()
check(p0["metadata"]["ownerReferences"][0]["kind"] == "StatefulSet" and p0["metadata"]["labels"].get("statefulset.kubernetes.io/pod-name") == "db-0"
      and p0["metadata"]["labels"].get("controller-revision-hash"), "statefulset pods: owner, pod-name and controller-revision-hash labels")
# scale down removes the highest ordinals first
w = Watch(NS + "/pods?watch=1&labelSelector=app%%3Ddb&resourceVersion=%s&timeoutSeconds=10" % cur_rv())
request("PATCH", APPS + "/statefulsets/db/scale", {"spec": {"replicas": 1}}, ctype="application/merge-patch+json")
gone = []
for e in w.events(seconds=10):
    if e["type"] == "DELETED":
        gone.append(e["object"]["metadata"]["name"])
    if len(gone) == 2:
        break
w.close()
check(gone == ["db-2", "db-1"], "statefulset scale down: highest ordinal first: %s" % gone)
# Parallel: all pods created at once, before any is Ready
par = json.loads(json.dumps(sts).replace('"db"', '"par"'))
par["spec"]["podManagementPolicy"] = "Parallel"
w = Watch(NS + "/pods?watch=1&labelSelector=app%%3Dpar&resourceVersion=%s&timeoutSeconds=10" % cur_rv())
request("POST", APPS + "/statefulsets", par)
order = []
for e in w.events(seconds=10):
    if e["type"] == "ADDED":
        order.append(("ADDED", e["object"]["metadata"]["name"]))
    elif is_ready(e["object"]):
        order.append(("READY", e["object"]["metadata"]["name"]))
        break
w.close()
check(sorted(order[:3]) == [("ADDED", "par-0"), ("ADDED", "par-1"), ("ADDED", "par-2")], "statefulset Parallel: all three pods created before any is Ready: %s" % order)
done()
PY
