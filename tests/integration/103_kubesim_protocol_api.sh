#!/usr/bin/env bash
# kubesim lists and writes (kube-api-semantics.md behaviours 9-17): pagination
# and expiring continue tokens, RV rules, conflicts, the four PATCH types,
# Status errors, /scale, /status, eviction with PDBs, rollout restart.
. "$REPO/tests/integration/lib/common.sh"
. "$REPO/tests/fixtures/kubesim/ks_common.sh"
ks_start --continue-ttl=2
ks_py <<'PY'
import json, time, urllib.parse
from kslib import *

NS = "/api/v1/namespaces/default"
def cm(name, labels=None):
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "labels": labels or {}}, "data": {"k": "v"}}
for i in range(7):
    request("POST", NS + "/configmaps", cm("p%d" % i))

# 9: pagination
pages, names, token_, rvs = 0, [], "", set()
while True:
    r = get(NS + "/configmaps?limit=3" + ("&continue=" + urllib.parse.quote(token_) if token_ else ""))
    d = r.json()
    pages += 1
    rvs.add(d["metadata"]["resourceVersion"])
    names += [o["metadata"]["name"] for o in d["items"]]
    if pages == 1:
        check(d["metadata"].get("remainingItemCount") == 4, "9: first page has remainingItemCount 4")
    token_ = d["metadata"].get("continue", "")
    if not token_:
        break
    if pages == 1:
        first_token = token_
        request("POST", NS + "/configmaps", cm("pz"))  # a write between pages
check(pages == 3 and len(rvs) == 1, "9: 3 pages, every page carries the first page's RV (%d pages, RVs %s)" % (pages, rvs))
check(names[:7] == ["p%d" % i for i in range(7)], "9: pages cover every item once, in order")
# tokens live 2 s here (--continue-ttl=2)
r = wait_until(lambda: (lambda r: r.status != 200 and r)(get(NS + "/configmaps?limit=3&continue=" + urllib.parse.quote(first_token))), 5)
d = r.json()
check(r.status == 410 and d["reason"] == "Expired" and d["message"].startswith("The provided continue parameter is too old to display a consistent list result."),
      "9: expired continue token -> 410 Expired")
fresh = d.get("metadata", {}).get("continue")
check(bool(fresh), "9: the 410 carries a fresh token in metadata.continue")
r = get(NS + "/configmaps?limit=100&continue=" + urllib.parse.quote(fresh))
check(r.status == 200 and [o["metadata"]["name"] for o in r.json()["items"]][0] == "p3", "9: the fresh token continues the list")
check(get(NS + "/configmaps?limit=2&continue=garbage").status == 400, "9: malformed continue token -> 400")
# compaction expires outstanding tokens too
t2 = get(NS + "/configmaps?limit=2").json()["metadata"]["continue"]
request("PUT", NS + "/configmaps/p0", dict(cm("p0"), data={"k": "changed"}))
request("POST", "/_sim/compact", {})
check(get(NS + "/configmaps?limit=2&continue=" + urllib.parse.quote(t2)).status == 410, "9: a token from before a compaction -> 410")

# Expect: 100-continue is answered before the body is sent (libcurl waits for it)
s = connect()
body = json.dumps({"metadata": {"name": "expect"}, "data": {"k": "x" * 3000}}).encode()
s.sendall(("POST %s/configmaps HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\n"
           "Content-Length: %d\r\nExpect: 100-continue\r\n\r\n" % (NS, token(), len(body))).encode())
s.settimeout(2)
first = s.recv(100)
check(first.startswith(b"HTTP/1.1 100 Continue\r\n\r\n"), "Expect: 100-continue gets an interim 100 before the body")
s.sendall(body)
rest = first[25:]
while b"\r\n\r\n" not in rest:
    rest += s.recv(65536)
check(rest.startswith(b"HTTP/1.1 201"), "then the create succeeds")
s.close()

# 10: RV on get/list
cur = int(get(NS + "/configmaps").json()["metadata"]["resourceVersion"])
check(get(NS + "/configmaps?resourceVersion=0").status == 200, "10: list RV=0 served")
check(get(NS + "/configmaps/p1?resourceVersion=0").status == 200, "10: get RV=0 served")
r = get(NS + "/configmaps?resourceVersion=%d&resourceVersionMatch=NotOlderThan" % (cur - 1))
check(r.status == 200 and int(r.json()["metadata"]["resourceVersion"]) >= cur - 1, "10: NotOlderThan a past RV -> current state")
r = get(NS + "/configmaps?resourceVersionMatch=NotOlderThan")
check(r.status == 422 and r.json()["reason"] == "Invalid", "10: resourceVersionMatch without resourceVersion -> 422")
r = get(NS + "/configmaps?resourceVersion=1&resourceVersionMatch=NotOlderThan&continue=" + urllib.parse.quote(fresh))
check(r.status == 422 and r.json()["details"]["causes"][0]["field"] == "resourceVersionMatch", "10: resourceVersionMatch with continue -> 422")
r = get(NS + "/configmaps?resourceVersion=%d&continue=%s" % (cur, urllib.parse.quote(fresh)))
check(r.status == 400 and r.json()["reason"] == "BadRequest" and r.json()["message"] == "specifying resource version is not allowed when using continue",
      "10: resourceVersion with continue -> 400 BadRequest")
t3 = get(NS + "/configmaps?limit=2").json()["metadata"]["continue"]
check(get(NS + "/configmaps?resourceVersion=0&limit=2&continue=" + urllib.parse.quote(t3)).status == 200, "10: resourceVersion=0 with continue is allowed")
r = get(NS + "/configmaps?resourceVersion=0&resourceVersionMatch=Exact")
check(r.status == 422, "10: resourceVersionMatch=Exact with resourceVersion=0 -> 422")
r = get(NS + "/configmaps?resourceVersion=%d&resourceVersionMatch=Exact" % cur)
check(r.status == 200 and r.json()["metadata"]["resourceVersion"] == str(cur), "10: Exact within the window answers at that RV")
r = get(NS + "/configmaps?resourceVersion=%d&resourceVersionMatch=Sometime" % cur)
check(r.status == 422, "10: unknown resourceVersionMatch -> 422")
check(get(NS + "/configmaps?resourceVersion=abc").status == 400, "10: malformed resourceVersion -> 400")

# 11: stale PUT -> 409 Conflict
o = get(NS + "/configmaps/p1").json()
o["data"]["k"] = "new"
check(request("PUT", NS + "/configmaps/p1", o).status == 200, "11: PUT with current RV succeeds")
r = request("PUT", NS + "/configmaps/p1", o)
d = r.json()
check(r.status == 409 and d["reason"] == "Conflict" and "the object has been modified; please apply your changes to the latest version and try again" in d["message"]
      and d["details"]["name"] == "p1" and d["details"]["kind"] == "configmaps" and d["details"].get("group", "") == "", "11: stale RV -> 409 Conflict with details")
o = get(NS + "/configmaps/p1").json()
del o["metadata"]["resourceVersion"]
o["data"]["k"] = "unconditional"
check(request("PUT", NS + "/configmaps/p1", o).status == 200, "11: PUT without a resourceVersion is unconditional")

# 12: PATCH types
r = request("PATCH", NS + "/configmaps/p2", [{"op": "replace", "path": "/data/k", "value": "jp"}], ctype="application/json-patch+json")
check(r.status == 200 and r.json()["data"]["k"] == "jp", "12: json-patch+json (RFC 6902)")
r = request("PATCH", NS + "/configmaps/p2", {"data": {"k": None, "m": "mp"}}, ctype="application/merge-patch+json")
check(r.status == 200 and r.json()["data"] == {"m": "mp"}, "12: merge-patch+json (RFC 7386, null deletes)")
r = request("PATCH", NS + "/configmaps/p2", {"data": {"s": "sp"}}, ctype="application/strategic-merge-patch+json")
check(r.status == 200 and r.json()["data"] == {"m": "mp", "s": "sp"}, "12: strategic-merge-patch+json on a built-in type")
r = request("PATCH", NS + "/configmaps/p2", {"data": {"x": "1"}}, ctype="text/plain")
check(r.status == 415, "12: unknown patch content type -> 415")
r = request("PATCH", NS + "/configmaps/p2", [{"op": "test", "path": "/data/m", "value": "no"}], ctype="application/json-patch+json")
check(r.status == 422, "12: failing json-patch test op -> 422")
ap = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: applied\ndata:\n  a: '1'\n"
r = request("PATCH", NS + "/configmaps/applied", ap, ctype="application/apply-patch+yaml")
check(r.status == 422 and r.json()["details"]["causes"][0]["field"] == "fieldManager", "12: apply without fieldManager -> 422")
r = request("PATCH", NS + "/configmaps/applied?fieldManager=mgr-a", ap, ctype="application/apply-patch+yaml")
check(r.status == 201 and r.json()["data"] == {"a": "1"}, "12: server-side apply creates an absent object")
mf = r.json()["metadata"].get("managedFields", [])
check(any(m["manager"] == "mgr-a" and m["operation"] == "Apply" and "f:data" in m["fieldsV1"] for m in mf), "12: managedFields records the Apply manager")
ap_b = ap.replace("'1'", "'2'")
r = request("PATCH", NS + "/configmaps/applied?fieldManager=mgr-b", ap_b, ctype="application/apply-patch+yaml")
check(r.status == 409 and r.json()["reason"] == "Conflict" and "mgr-a" in r.json()["message"], "12: apply of a field owned by another manager -> 409 conflict")
r = request("PATCH", NS + "/configmaps/applied?fieldManager=mgr-b&force=true", ap_b, ctype="application/apply-patch+yaml")
check(r.status == 200 and r.json()["data"]["a"] == "2", "12: force=true takes the field")
mf = r.json()["metadata"]["managedFields"]
check([m["manager"] for m in mf] == ["mgr-b"], "12: ownership moved to mgr-b: %s" % [m["manager"] for m in mf])

# 13: Status errors
r = get(NS + "/configmaps/nope"); d = r.json()
check(r.status == 404 and d["kind"] == "Status" and d["reason"] == "NotFound" and d["message"] == 'configmaps "nope" not found', "13: NotFound 404")
r = request("POST", NS + "/configmaps", cm("p1")); d = r.json()
check(r.status == 409 and d["reason"] == "AlreadyExists" and d["message"] == 'configmaps "p1" already exists', "13: AlreadyExists 409")
bad = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "bad"}, "spec": {"containers": [{"name": "c"}]}}
r = request("POST", NS + "/pods", bad); d = r.json()
check(r.status == 422 and d["reason"] == "Invalid" and d["details"]["causes"][0]["field"] == "spec.containers[0].image", "13: Invalid 422 with details.causes[].field")
for code, reason in [(429, "TooManyRequests"), (500, "InternalError"), (503, "ServiceUnavailable")]:
    request("POST", "/_sim/faults", {"type": "status", "code": code, "resource": "secrets", "verb": "list", "count": 1, "retryAfter": 3})
    r = get(NS + "/secrets"); d = r.json()
    ok_ = r.status == code and d["reason"] == reason and d["code"] == code
    if code == 429:
        ok_ = ok_ and d["details"]["retryAfterSeconds"] == 3 and r.headers.get("retry-after") == "3"
    check(ok_, "13: %s %d%s" % (reason, code, " with Retry-After and details.retryAfterSeconds" if code == 429 else ""))
check(get(NS + "/secrets").status == 200, "13: count-limited fault fired once")
r = get(NS + "/configmaps?limit=1&continue=" + urllib.parse.quote(first_token))
check(r.status == 410 and r.json()["reason"] == "Expired", "13: Expired 410")
check(get("/api/v1/namespaces/default/configmaps", auth=None).status == 401, "13: no credentials -> 401 Unauthorized")

# 14: /scale
dep = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "sc", "labels": {"app": "sc"}},
       "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "sc"}}, "template": {"metadata": {"labels": {"app": "sc"}},
                "spec": {"containers": [{"name": "c", "image": "busybox:1"}]}}}}
check(request("POST", "/apis/apps/v1/namespaces/default/deployments", dep).status == 201, "14: create deployment")
sts = json.loads(json.dumps(dep).replace("Deployment", "StatefulSet").replace('"sc"', '"ss"'))
check(request("POST", "/apis/apps/v1/namespaces/default/statefulsets", sts).status == 201, "14: create statefulset")
for res, name in [("deployments", "sc"), ("statefulsets", "ss")]:
    p = "/apis/apps/v1/namespaces/default/%s/%s/scale" % (res, name)
    sc = get(p).json()
    check(sc["kind"] == "Scale" and sc["apiVersion"] == "autoscaling/v1" and sc["spec"]["replicas"] == 1 and isinstance(sc["status"]["selector"], str)
          and sc["status"]["selector"] == "app=%s" % name, "14: GET %s/scale is autoscaling/v1 Scale with a string selector" % res)
    for attempt in range(10):  # read-modify-write: controllers write status meanwhile
        sc = get(p).json()
        sc["spec"]["replicas"] = 3
        r = request("PUT", p, sc)
        if r.status != 409:
            break
    check(r.status == 200 and r.json()["spec"]["replicas"] == 3, "14: PUT %s/scale with RV" % res)
    r = request("PUT", p, sc)
    check(r.status == 409 and r.json()["reason"] == "Conflict", "14: PUT %s/scale with a stale RV -> 409" % res)
    check(get("/apis/apps/v1/namespaces/default/%s/%s" % (res, name)).json()["spec"]["replicas"] == 3, "14: %s spec.replicas follows /scale" % res)
check(wait_until(lambda: get("/apis/apps/v1/namespaces/default/statefulsets/ss/scale").json()["status"]["replicas"] == 3, 10),
      "14: statefulset status.replicas reaches 3")
pods = [p["metadata"]["name"] for p in get(NS + "/pods?labelSelector=app%3Dss").json()["items"]]
check(sorted(pods) == ["ss-0", "ss-1", "ss-2"], "statefulset pods are ordinal: %s" % pods)

# 15: /status on a custom resource
crd = {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition", "metadata": {"name": "gadgets.ex.io"},
       "spec": {"group": "ex.io", "scope": "Cluster", "names": {"plural": "gadgets", "kind": "Gadget"},
                "versions": [{"name": "v1", "served": True, "storage": True, "subresources": {"status": {}},
                              "schema": {"openAPIV3Schema": {"type": "object", "properties": {"spec": {"type": "object"}, "status": {"type": "object"}}}}}]}}
check(request("POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", crd).status == 201, "15: create cluster-scoped CRD")
G = "/apis/ex.io/v1/gadgets"
r = request("POST", G, {"apiVersion": "ex.io/v1", "kind": "Gadget", "metadata": {"name": "g"}, "spec": {"a": 1}, "status": {"s": 1}})
g = r.json()
check(r.status == 201 and "status" not in g and g["metadata"]["generation"] == 1, "15: status dropped on create, generation 1")
g["status"] = {"s": 2}; g["spec"] = {"a": 2}
g = request("PUT", G + "/g", g).json()
check(g["spec"] == {"a": 2} and "status" not in g and g["metadata"]["generation"] == 2, "15: main-resource PUT ignores .status, spec change bumps generation")
g["status"] = {"s": 3}; g["spec"] = {"a": 99}
g = request("PUT", G + "/g/status", g).json()
check(g["status"] == {"s": 3} and g["spec"] == {"a": 2} and g["metadata"]["generation"] == 2, "15: /status PUT changes only .status, generation unchanged")
g["metadata"]["labels"] = {"x": "y"}
g = request("PUT", G + "/g", g).json()
check(g["metadata"]["generation"] == 2, "15: metadata-only change keeps generation")
r = request("PATCH", G + "/g", {"spec": {"a": 3}}, ctype="application/strategic-merge-patch+json")
check(r.status == 415 and r.json()["reason"] == "UnsupportedMediaType", "12: strategic merge patch on a custom resource -> 415")
r = request("PATCH", G + "/g", {"spec": {"a": 3}}, ctype="application/merge-patch+json")
check(r.status == 200 and r.json()["spec"] == {"a": 3} and r.json()["metadata"]["generation"] == 3, "12: merge patch on a custom resource")
r = request("PATCH", G + "/g/status", {"status": {"s": 4}, "spec": {"a": 100}}, ctype="application/merge-patch+json")
check(r.status == 200 and r.json()["status"] == {"s": 4} and r.json()["spec"] == {"a": 3}, "15: PATCH to /status changes only .status")

# 16: eviction
def pod(name, labels):
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "labels": labels},
            "spec": {"containers": [{"name": "c", "image": "busybox:1"}]}}
for i in range(3):
    request("POST", NS + "/pods", pod("e%d" % i, {"ev": "x"}))
def ready(n):
    for c in get(NS + "/pods/" + n).json().get("status", {}).get("conditions", []):
        if c["type"] == "Ready":
            return c["status"] == "True"
    return False
for _ in range(60):
    if all(ready("e%d" % i) for i in range(3)): break
    time.sleep(0.1)
check(all(ready("e%d" % i) for i in range(3)), "16: eviction test pods Ready")
ev = lambda n: {"apiVersion": "policy/v1", "kind": "Eviction", "metadata": {"name": n, "namespace": "default"}}
pdb = {"apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": {"name": "evp"}, "spec": {"minAvailable": 2, "selector": {"matchLabels": {"ev": "x"}}}}
request("POST", "/apis/policy/v1/namespaces/default/poddisruptionbudgets", pdb)
r = request("POST", NS + "/pods/e0/eviction", ev("e0"))
d = r.json()
check(r.status == 201 and d["kind"] == "Status" and d["status"] == "Success", "16: eviction allowed by the budget -> 201 Success Status")
r = request("POST", NS + "/pods/e1/eviction", ev("e1")); d = r.json()
check(r.status == 429 and d["reason"] == "TooManyRequests" and d["message"] == "Cannot evict pod as it would violate the pod's disruption budget."
      and d["details"]["causes"][0]["reason"] == "DisruptionBudget", "16: budget exhausted -> 429 with cause DisruptionBudget")
request("POST", "/_sim/action", {"action": "pod-not-ready", "pod": "e1"})
check(wait_until(lambda: not ready("e1"), 5), "16: e1 NotReady")
check(wait_until(lambda: get("/apis/policy/v1/namespaces/default/poddisruptionbudgets/evp").json().get("status", {}).get("currentHealthy") == 1, 5),
      "16: PDB status counts 1 healthy pod")
r = request("POST", NS + "/pods/e1/eviction", ev("e1"))
check(r.status == 429, "16: IfHealthyBudget (default) refuses a not-Ready pod while the budget is not met")
request("PATCH", "/apis/policy/v1/namespaces/default/poddisruptionbudgets/evp", {"spec": {"unhealthyPodEvictionPolicy": "AlwaysAllow"}}, ctype="application/merge-patch+json")
r = request("POST", NS + "/pods/e1/eviction", ev("e1"))
check(r.status == 201, "16: unhealthyPodEvictionPolicy AlwaysAllow evicts the not-Ready pod")
r = request("POST", NS + "/pods/e2/eviction", ev("e2"))
check(r.status == 429, "16: AlwaysAllow still protects the Ready pods of an exhausted budget (429)")
pdb2 = json.loads(json.dumps(pdb).replace("evp", "evp2"))
request("POST", "/apis/policy/v1/namespaces/default/poddisruptionbudgets", pdb2)
r = request("POST", NS + "/pods/e2/eviction", ev("e2"))
check(r.status == 500 and "more than one PodDisruptionBudget" in r.json()["message"], "16: two PDBs for one pod -> 500")
check(request("POST", NS + "/pods/nope/eviction", ev("nope")).status == 404, "16: evicting a missing pod -> 404")

# 17: rollout restart of a paused deployment does not roll
D = "/apis/apps/v1/namespaces/default/deployments/sc"
def observed():
    d = get(D).json()
    return d.get("status", {}).get("observedGeneration") == d["metadata"]["generation"]
request("PATCH", D, {"spec": {"paused": True}}, ctype="application/merge-patch+json")
check(wait_until(observed, 5), "17: the controller observed the pause")
rs_before = len(get("/apis/apps/v1/namespaces/default/replicasets?labelSelector=app%3Dsc").json()["items"])
request("PATCH", "/apis/apps/v1/namespaces/default/deployments/sc",
        {"spec": {"template": {"metadata": {"annotations": {"kubectl.kubernetes.io/restartedAt": "2025-01-01T00:00:00Z"}}}}},
        ctype="application/strategic-merge-patch+json")
check(wait_until(observed, 5), "17: the controller observed the template change")
rs_after = len(get("/apis/apps/v1/namespaces/default/replicasets?labelSelector=app%3Dsc").json()["items"])
check(rs_before == rs_after == 1, "17: a paused deployment does not roll on a template change")
request("PATCH", D, {"spec": {"paused": False}}, ctype="application/merge-patch+json")
check(wait_until(lambda: len(get("/apis/apps/v1/namespaces/default/replicasets?labelSelector=app%3Dsc").json()["items"]) == 2, 5),
      "17: resuming rolls a new replicaset")
tmpl = get(D).json()["spec"]["template"]["metadata"]["annotations"]["kubectl.kubernetes.io/restartedAt"]
new_rs = [x for x in get("/apis/apps/v1/namespaces/default/replicasets?labelSelector=app%3Dsc").json()["items"]
          if x["spec"]["template"]["metadata"].get("annotations", {}).get("kubectl.kubernetes.io/restartedAt") == tmpl]
check(len(new_rs) == 1 and new_rs[0]["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "2", "17: the new replicaset carries the restartedAt template, revision 2")
done()
PY
rc=$?
[ $rc = 0 ] || exit $rc
if command -v kubectl >/dev/null 2>&1; then
  kc patch deployment sc --type=merge -p '{"spec":{"paused":true}}' >/dev/null
  kc rollout restart deployment/sc 2>&1 | grep -q "paused" || fail "17: kubectl rollout restart refused for a paused deployment"
  ok "17: kubectl rollout restart refuses a paused deployment"
fi
