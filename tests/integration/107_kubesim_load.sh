#!/usr/bin/env bash
# test: serial
# kubesim load mode at test scale: a populated cluster, a paginated list that
# returns every pod exactly once while churn runs, and a watch that keeps up.
# (The full-size figures come from bench/kubesim_bench.sh.)
. "$REPO/tests/integration/lib/common.sh"
. "$REPO/tests/fixtures/kubesim/ks_common.sh"
ks_start --load=nodes=50,pods=6000,churn=3000
ks_py <<'PY'
import re, time, urllib.parse
from kslib import *
from kslib import _read_head

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
rc=$?; [ $rc = 0 ] || exit $rc

# Full size: 150000 pods on 5000 nodes, a paginated list of every pod, and at
# least 50000 watch events/s to one client. Throughput means nothing under
# ASan/UBSan (and needs ~4x the memory), so sanitizer builds skip it, and
# KS_LOAD_FULL=0 skips it too.
if [ "${KS_LOAD_FULL:-1}" = 0 ] || ldd "$KS_BIN" 2>/dev/null | grep -q 'libasan\|libubsan'; then
  ok "full-size load (150000 pods, >= 50000 events/s) skipped: sanitizer build or KS_LOAD_FULL=0"
  exit 0
fi
need curl
kill "$KS_PID"; wait "$KS_PID" 2>/dev/null
KS_START_WAIT=600 ks_start --load=nodes=5000,pods=150000,churn=20000
ks_py <<'PY'
import json, os, re, subprocess, time
from kslib import *
from kslib import _read_head

st = get("/_sim/stats").json()
check(st["objects"].get("pods") == 150000 and st["objects"].get("nodes") == 5000, "full load: 150000 pods on 5000 nodes")
# paginated list on one keep-alive connection, as client-go's pager does
s = connect()
tok = token()
names, cont, pages, dups, rvs = set(), "", 0, 0, set()
t0 = time.time()
while True:
    path = "/api/v1/pods?limit=500" + ("&continue=" + cont if cont else "")
    s.sendall(("GET %s HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n\r\n" % (path, tok)).encode())
    status, h, rest = _read_head(s)
    body = bytearray(rest)
    while len(body) < int(h["content-length"]):
        body += s.recv(1 << 20)
    body = bytes(body)
    pages += 1
    head = json.loads(body[:body.index(b',"items":[')] + b"}")  # metadata only: parsing every pod would time Python
    rvs.add(head["metadata"]["resourceVersion"])
    found = re.findall(rb'"kind":"Pod","metadata":\{"name":"([^"]+)","namespace":"([^"]+)"', body)
    if len(found) != body.count(b'"kind":"Pod"'):
        check(False, "page %d: every item's name read" % pages)
    for nm, ns in found:
        n = ns + b"/" + nm
        dups += n in names
        names.add(n)
    cont = head["metadata"].get("continue", "")
    if not cont:
        break
el = time.time() - t0
check(len(names) == 150000 and dups == 0 and pages == 300 and len(rvs) == 1,
      "full load: paginated list (limit=500) of 150000 pods in %d pages, each once, one RV, while 20000 changes/s run: %.1fs" % (pages, el))
# watch throughput to one client: a watch from an RV 150000 events back
# replays the history as fast as kubesim can send, then goes on live; curl
# decodes TLS and chunks, wc counts event lines. Best of three 2 s tries (the
# figure is about kubesim, not about a busy host).
def stats():
    return get("/_sim/stats").json()
check(wait_until(lambda: stats()["historyEvents"] >= 160000, 20), "full load: 160000 events of watch history")
rates = []
for attempt in range(3):
    st = stats()
    rv = max(st["resourceVersion"] - 150000, st["compacted"])
    cmd = ("timeout 2 curl -sN --cacert %s.ca.crt -H 'Authorization: Bearer %s' '%s/api/v1/pods?watch=1&resourceVersion=%d' | wc -l"
           % (os.environ["KS_KUBECONFIG"], tok, os.environ["KS_URL"], rv))
    t0 = time.time()
    events = int(subprocess.run(["bash", "-c", cmd], capture_output=True, text=True).stdout.split()[0])
    rates.append(events / (time.time() - t0))
    if rates[-1] >= 50000:
        break
check(max(rates) >= 50000, "full load: watch events/s to one client >= 50000: %s" % ", ".join("%.0f" % r for r in rates))
done()
PY
