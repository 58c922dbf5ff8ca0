#!/usr/bin/env bash
# kubesim load mode at test scale: a populated cluster, a paginated list that
# returns every pod exactly once while churn runs, and a watch that keeps up.
# (The full-size figures come from bench/kubesim_bench.sh.)
. "$REPO/tests/integration/lib/common.sh"
. "$REPO/tests/fixtures/kubesim/ks_common.sh"
ks_start --load=nodes=50,pods=6000,churn=3000
ks_py <<'PY'
import re, time, urllib.parse
from kslib import *

st = get("/_sim/stats").json()
check(st["objects"].get("pods") == 6000 and st["objects"].get("nodes") == 50, "load: 6000 pods on 50 nodes")
names, cont, pages, dups = set(), "", 0, 0
t0 = time.time()
while True:
    d = get("/api/v1/pods?limit=500" + ("&continue=" + urllib.parse.quote(cont) if cont else "")).json()
    pages += 1
    for o in d["items"]:
        dups += o["metadata"]["name"] in names
        names.add(o["metadata"]["name"])
    cont = d["metadata"].get("continue", "")
    if not cont:
        break
check(dups == 0, "no pod appears on two pages")
check(len(names) == 6000 and pages == 12, "paginated list under churn: 6000 pods in 12 pages (%d, %d) in %.2fs" % (len(names), pages, time.time() - t0))
r = get("/api/v1/pods?fieldSelector=spec.nodeName%3Dload-node-00007&limit=1000")
check(r.status == 200 and len(r.json()["items"]) == 120, "field selector spec.nodeName over the load set")
r = get("/api/v1/namespaces/load-03/pods?labelSelector=tier%3Ddb")
check(r.status == 200 and len(r.json()["items"]) > 0 and all(o["metadata"]["labels"]["tier"] == "db" for o in r.json()["items"]), "label selector over the load set")
rv = get("/api/v1/pods?limit=1").json()["metadata"]["resourceVersion"]
w = Watch("/api/v1/pods?watch=1&resourceVersion=%s&timeoutSeconds=3" % rv)
n = 0
last = int(rv)
ordered = True
for e in w.events(seconds=6):
    if e["type"] == "MODIFIED":
        n += 1
        r2 = int(e["object"]["metadata"]["resourceVersion"])
        ordered = ordered and r2 > last
        last = r2
check(n >= 4500 and ordered and w.ended_clean, "watch kept up with churn: %d MODIFIED events in 3 s, RVs increasing" % n)
done()
PY
