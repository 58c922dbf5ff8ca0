#!/usr/bin/env bash
# kubesim watch protocol (kube-api-semantics.md behaviours 1-8), with a raw
# TLS client that sees chunk boundaries and WebSocket frames.
. "$REPO/tests/integration/lib/common.sh"
. "$REPO/tests/fixtures/kubesim/ks_common.sh"
ks_start --bookmark-ms=300 --too-large-wait-ms=300 --history=200
ks_py <<'PY'
import json, time
from kslib import *

def cm(name, ns="default", labels=None):
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": ns, "labels": labels or {}}, "data": {"k": "v"}}

for i in range(3):
    check(request("POST", "/api/v1/namespaces/default/configmaps", cm("c%d" % i, labels={"grp": "a" if i < 2 else "b"})).status == 201, "create configmap c%d" % i)
lst = get("/api/v1/namespaces/default/configmaps").json()
rv = lst["metadata"]["resourceVersion"]

# 1: chunked JSON lines, typed events
t0 = time.time()
w = Watch("/api/v1/namespaces/default/configmaps?watch=1&timeoutSeconds=2")
check(w.status == 200, "1: watch answers 200")
check(w.headers.get("transfer-encoding") == "chunked", "1: Transfer-Encoding: chunked")
check(w.headers.get("content-type", "").startswith("application/json"), "1: Content-Type application/json")
evs = list(w.events(seconds=5))
check(all(set(e) == {"type", "object"} for e in evs), "1: each event is {type, object}")
# 4: RV unset -> synthetic ADDED for every object
check([e["type"] for e in evs] == ["ADDED"] * 3, "4: RV unset gives one ADDED per object: %s" % [e["type"] for e in evs])
# 2: timeoutSeconds ends the stream cleanly
el = time.time() - t0
check(w.ended_clean and 1.8 <= el < 4, "2: timeoutSeconds=2 ended the stream with the last chunk after %.2fs" % el)
check(all(c.endswith(b"\n") and c.count(b"\n") == 1 for c in w.chunk_log), "1: each event is one JSON line (one per chunk)")

# 4: RV "0" like unset; RV=N starts exactly after N without synthetic events
w0 = Watch("/api/v1/namespaces/default/configmaps?watch=1&resourceVersion=0&timeoutSeconds=1")
check(len([e for e in w0.events(seconds=4) if e["type"] == "ADDED"]) == 3, "4: RV=0 gives synthetic ADDED too")
w = Watch("/api/v1/namespaces/default/configmaps?watch=1&resourceVersion=%s&timeoutSeconds=2" % rv)
request("PUT", "/api/v1/namespaces/default/configmaps/c0", dict(cm("c0"), data={"k": "v2"}))
request("DELETE", "/api/v1/namespaces/default/configmaps/c2")
evs = list(w.events(seconds=5))
check([e["type"] for e in evs] == ["MODIFIED", "DELETED"], "4: RV=N gives only later events: %s" % [e["type"] for e in evs])
check(all(int(e["object"]["metadata"]["resourceVersion"]) > int(rv) for e in evs), "4: event RVs after N")

# label selector transitions: leaving the selector is DELETED for the watcher
rv = get("/api/v1/namespaces/default/configmaps").json()["metadata"]["resourceVersion"]
w = Watch("/api/v1/namespaces/default/configmaps?watch=1&labelSelector=grp%%3Da&resourceVersion=%s&timeoutSeconds=1" % rv)
request("PATCH", "/api/v1/namespaces/default/configmaps/c1", {"metadata": {"labels": {"grp": "z"}}}, ctype="application/merge-patch+json")
evs = list(w.events(seconds=4))
check([e["type"] for e in evs] == ["DELETED"], "selector: an object leaving the selector arrives as DELETED: %s" % [e["type"] for e in evs])
check(evs and evs[0]["object"]["metadata"]["labels"] == {"grp": "a"} and int(evs[0]["object"]["metadata"]["resourceVersion"]) > int(rv),
      "selector: the DELETED carries the last state inside the selector, at the new RV")
w = Watch("/api/v1/namespaces/default/configmaps?watch=1&labelSelector=grp%%3Da&resourceVersion=%s&timeoutSeconds=1" % evs[0]["object"]["metadata"]["resourceVersion"])
request("PATCH", "/api/v1/namespaces/default/configmaps/c1", {"metadata": {"labels": {"grp": "a"}}}, ctype="application/merge-patch+json")
evs = list(w.events(seconds=4))
check([(e["type"], e["object"]["metadata"]["name"]) for e in evs] == [("ADDED", "c1")], "selector: an object entering the selector arrives as ADDED: %s" % [e["type"] for e in evs])
rv = get("/api/v1/namespaces/default/configmaps").json()["metadata"]["resourceVersion"]

# 3: bookmarks only on request, carrying only kind/apiVersion/metadata.resourceVersion
w = Watch("/api/v1/namespaces/default/configmaps?watch=1&resourceVersion=%s&timeoutSeconds=1" % rv)
check(not [e for e in w.events(seconds=4) if e["type"] == "BOOKMARK"], "3: no bookmarks without allowWatchBookmarks")
w = Watch("/api/v1/namespaces/default/configmaps?watch=1&allowWatchBookmarks=true&resourceVersion=%s&timeoutSeconds=2" % rv)
bms = [e for e in w.events(seconds=5) if e["type"] == "BOOKMARK"]
check(len(bms) >= 1, "3: bookmark sent with allowWatchBookmarks=true")
if bms:
    o = bms[0]["object"]
    check(set(o) == {"kind", "apiVersion", "metadata"} and set(o["metadata"]) == {"resourceVersion"} and o["kind"] == "ConfigMap",
          "3: bookmark object carries only kind, apiVersion, metadata.resourceVersion: %s" % o)

# 7: streaming list
w = Watch("/api/v1/namespaces/default/configmaps?watch=1&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true&timeoutSeconds=3")
evs = list(w.events(limit=3, seconds=5))
types = [e["type"] for e in evs]
check(types == ["ADDED", "ADDED", "BOOKMARK"], "7: initial ADDED events then a BOOKMARK: %s" % types)
if len(evs) == 3:
    check(evs[2]["object"]["metadata"].get("annotations", {}).get("k8s.io/initial-events-end") == "true", "7: bookmark has k8s.io/initial-events-end: \"true\"")
request("POST", "/api/v1/namespaces/default/configmaps", cm("live"))
evs = [e for e in w.events(seconds=5) if e["type"] != "BOOKMARK"]
check([(e["type"], e["object"]["metadata"]["name"]) for e in evs] == [("ADDED", "live")] and w.ended_clean, "7: then live events on the same stream")
request("DELETE", "/api/v1/namespaces/default/configmaps/live")
request("POST", "/api/v1/namespaces", {"metadata": {"name": "empty"}})
w = Watch("/api/v1/namespaces/empty/configmaps?watch=1&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true&timeoutSeconds=1")
evs = list(w.events(seconds=4))
check([e["type"] for e in evs][:1] == ["BOOKMARK"] and evs[0]["object"]["metadata"]["annotations"]["k8s.io/initial-events-end"] == "true",
      "7: the end bookmark is sent for an empty initial set")
r = get("/api/v1/namespaces/default/configmaps?watch=1&sendInitialEvents=true&allowWatchBookmarks=true")
check(r.status == 422 and r.json()["reason"] == "Invalid" and r.json()["details"]["causes"][0]["field"] == "resourceVersionMatch",
      "7: sendInitialEvents without resourceVersionMatch=NotOlderThan is 422 Invalid")
r = get("/api/v1/namespaces/default/configmaps?watch=1&sendInitialEvents=false")
check(r.status == 422, "7: sendInitialEvents=false also needs resourceVersionMatch=NotOlderThan (422)")
now = get("/api/v1/namespaces/default/configmaps").json()["metadata"]["resourceVersion"]
r = get("/api/v1/namespaces/default/configmaps?watch=1&sendInitialEvents=false&resourceVersionMatch=NotOlderThan&resourceVersion=%s&timeoutSeconds=1" % now)
check(r.status == 200 and b"ADDED" not in r.body, "7: sendInitialEvents=false with NotOlderThan is a plain watch from the RV")
r = get("/api/v1/namespaces/default/configmaps?watch=1&resourceVersionMatch=NotOlderThan&resourceVersion=%s" % rv)
check(r.status == 422, "7: resourceVersionMatch on a watch without sendInitialEvents -> 422")

# 6: too large RV -> 504 Timeout, cause ResourceVersionTooLarge, Retry-After
cur = int(get("/api/v1/namespaces/default/configmaps").json()["metadata"]["resourceVersion"])
for p in ["/api/v1/namespaces/default/configmaps?watch=1&resourceVersion=%d" % (cur + 1000),
          "/api/v1/namespaces/default/configmaps?resourceVersion=%d" % (cur + 1000),
          "/api/v1/namespaces/default/configmaps/c0?resourceVersion=%d" % (cur + 1000)]:
    t0 = time.time()
    r = get(p)
    el = time.time() - t0
    st = r.json() if r.body else {}
    check(el >= 0.25, "6: the server waited (%.2fs of --too-large-wait-ms=300) before giving up" % el)
    check(r.status == 504 and st.get("reason") == "Timeout" and st["details"]["causes"][0]["reason"] == "ResourceVersionTooLarge"
          and "retry-after" in r.headers, "6: future RV -> 504 ResourceVersionTooLarge (%s)" % p.split("?")[0])
# a future RV that arrives while waiting is served
import threading
res = {}
def waiter():
    w = Watch("/api/v1/namespaces/default/configmaps?watch=1&resourceVersion=%d&timeoutSeconds=1" % (cur + 1))
    res["wstatus"] = w.status
    res["wtypes"] = [e["type"] for e in w.events(seconds=4)]
t = threading.Thread(target=waiter); t.start()
time.sleep(0.1)
request("POST", "/api/v1/namespaces/default/configmaps", cm("late"))
t.join()
check(res.get("wstatus") == 200, "6: a future RV reached while waiting is served (200, not 504): %s" % res.get("wstatus"))

# 5: RV older than the history window -> 200 then one ERROR 410 Expired event, then close
old = cur
for i in range(250):  # overflow the 200-event history
    request("PUT", "/api/v1/namespaces/default/configmaps/c0", dict(cm("c0"), data={"k": str(i)}))
w = Watch("/api/v1/namespaces/default/configmaps?watch=1&resourceVersion=%d" % old)
evs = list(w.events(seconds=5))
check(w.status == 200 and len(evs) == 1 and evs[0]["type"] == "ERROR", "5: too old RV: 200 then a single ERROR event")
if evs:
    o = evs[0]["object"]
    check(o["kind"] == "Status" and o["code"] == 410 and o["reason"] == "Expired" and o["status"] == "Failure"
          and o["message"].startswith("too old resource version: %d (" % old), "5: ERROR object is Status 410 Expired: %s" % o)
check(w.ended_clean, "5: stream closed after the ERROR")
r = get("/api/v1/namespaces/default/configmaps?resourceVersion=%d&resourceVersionMatch=Exact" % old)
check(r.status == 200, "5: an RV only out of the watch window can still be listed (Exact): not compacted yet")
request("POST", "/_sim/compact", {})
r = get("/api/v1/namespaces/default/configmaps?resourceVersion=%d&resourceVersionMatch=Exact" % old)
check(r.status == 410 and r.json()["reason"] == "Expired", "5: list with an exact compacted RV is a plain HTTP 410")

# 8: WebSocket watch
cur = get("/api/v1/namespaces/default/configmaps").json()["metadata"]["resourceVersion"]
path = "/api/v1/namespaces/default/configmaps?watch=1&timeoutSeconds=2"
s, st, h, rest = ws_open(path)
check(st == 101 and "sec-websocket-protocol" not in h, "8: upgrade without subprotocol: 101 and no Sec-WebSocket-Protocol")
fr = list(ws_frames(s, rest, seconds=5))
data = [f for f in fr if f[0] == 1]
check(len(data) == 3 and all(json.loads(p)["type"] == "ADDED" for _, _, p in data), "8: one event per text frame (%d frames)" % len(data))
check(all(not p.startswith(b"\x00") and p.lstrip().startswith(b"{") for _, _, p in data), "8: plain JSON, no channel byte, no base64")
check(any(f[0] == 8 for f in fr), "8: close frame at timeout")
s, st, h, rest = ws_open(path, origin=None)
check(st == 403, "8: missing Origin -> 403")
s, st, h, rest = ws_open(path, origin="not a url")
check(st == 403, "8: unparseable Origin -> 403")
s, st, h, rest = ws_open(path, protocols=["v4.channel.k8s.io"])
check(st == 101 and h.get("sec-websocket-protocol") == "v4.channel.k8s.io", "8: a single subprotocol is echoed")
s, st, h, rest = ws_open(path, protocols=["a.k8s.io", "b.k8s.io"])
check(st == 400, "8: more than one subprotocol -> 400")
tokp = "base64url.bearer.authorization.k8s.io." + b64url(token())
s, st, h, rest = ws_open(path, protocols=[tokp, "v4.channel.k8s.io"], auth=None)
check(st == 101 and h.get("sec-websocket-protocol") == "v4.channel.k8s.io", "8: bearer token as subprotocol authenticates; the token protocol is stripped before the echo")
s, st, h, rest = ws_open(path, protocols=[tokp], auth=None)
check(st == 401, "8: token subprotocol alone is not accepted (401)")
s, st, h, rest = ws_open(path, protocols=["base64url.bearer.authorization.k8s.io." + b64url("wrong"), "x"], auth=None)
check(st == 401, "8: wrong token subprotocol -> 401")
done()
PY
