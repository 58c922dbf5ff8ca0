#!/usr/bin/env bash
# kubesim fault injection through /_sim: stream faults (reset inside an
# event, events split over chunks / several per chunk, ERROR 410, slow,
# ended early), status faults, compaction, restart losing history, and
# seeded random faults being reproducible.
. "$REPO/tests/integration/lib/common.sh"
. "$REPO/tests/fixtures/kubesim/ks_common.sh"
ks_start --seed=42
export TMPDIR_PATTERN="$TMP/pattern1"
ks_py <<'PY'
import json, time
from kslib import *

NS = "/api/v1/namespaces/default"
for i in range(3):
    request("POST", NS + "/configmaps", {"metadata": {"name": "f%d" % i}, "data": {"payload": "x" * 300}})
WP = NS + "/configmaps?watch=1&timeoutSeconds=2"
def fault(**kw):
    r = request("POST", "/_sim/faults", dict(kw, resource="configmaps", verb="watch", count=1))
    assert r.status == 201, r.body

fault(type="reset-mid-event", afterEvents=1)
w = Watch(WP)
evs = list(w.events(seconds=5))
check(len(evs) == 1 and w.cut and w.cut_in_chunk and not w.ended_clean, "reset-mid-event: one whole event, then the connection is cut inside the next")
check(len(w.chunk_log) == 1, "reset-mid-event: the partial event is never delivered as a chunk")

fault(type="split")
w = Watch(WP)
evs = list(w.events(seconds=5))
check(len(evs) == 3 and len(w.chunk_log) >= 9, "split: 3 events arrive over %d chunks" % len(w.chunk_log))
check(not any(c.endswith(b"}\n") and c.startswith(b'{"type"') for c in w.chunk_log), "split: no chunk holds a whole event")

fault(type="coalesce")
w = Watch(WP)
evs = list(w.events(seconds=5))
check(len(evs) == 3 and w.chunk_log[0].count(b'"type":"ADDED"') == 3, "coalesce: several events share one chunk")

w = Watch(WP)
evs = list(w.events(seconds=5))
check(len(evs) == 3 and all(c.count(b"\n") == 1 for c in w.chunk_log), "no fault: one event per chunk (count-limited faults are used up)")

fault(type="stream-410", afterEvents=2)
w = Watch(WP)
evs = list(w.events(seconds=5))
check([e["type"] for e in evs] == ["ADDED", "ADDED", "ERROR"] and evs[-1]["object"]["code"] == 410 and w.ended_clean,
      "stream-410: ERROR 410 Expired in the stream, then the end")

fault(type="slow", delayMs=300)
t0 = time.time()
w = Watch(WP)
evs = list(w.events(limit=3, seconds=5))
check(len(evs) == 3 and time.time() - t0 >= 0.85, "slow: 3 events took %.2fs" % (time.time() - t0))

fault(type="end-early", afterEvents=2)
t0 = time.time()
w = Watch(NS + "/configmaps?watch=1&timeoutSeconds=30")
evs = list(w.events(seconds=10))
check(len(evs) == 2 and w.ended_clean and time.time() - t0 < 5, "end-early: clean end after 2 events, long before timeoutSeconds")
fault(type="end-early", afterEvents=0)
t0 = time.time()
w = Watch(NS + "/configmaps?watch=1&timeoutSeconds=30")
evs = list(w.events(seconds=10))
check(w.status == 200 and not evs and w.ended_clean and time.time() - t0 < 1, "end-early afterEvents=0: a watch that ends at once with no events (%.2fs)" % (time.time() - t0))

# faults are aimed: resource and verb must both match
request("POST", "/_sim/faults", {"type": "status", "code": 503, "resource": "configmaps", "verb": "get"})
check(get(NS + "/configmaps/f0").status == 503, "aimed fault: configmaps get fails")
check(get(NS + "/configmaps").status == 200, "aimed fault: configmaps list (another verb) is untouched")
check(get(NS + "/secrets").status == 200 and get("/api/v1/namespaces/default").status == 200, "aimed fault: other resources are untouched")
w = Watch(WP)
check(w.status == 200 and len(list(w.events(limit=3, seconds=5))) == 3, "aimed fault: configmaps watch is untouched")
w.close()
request("DELETE", "/_sim/faults")
fault(type="split")
check(get(NS + "/configmaps").status == 200 and get(NS + "/configmaps/f0").status == 200, "a watch fault does not fire on a list or a get")
w = Watch(WP)
check(len(list(w.events(limit=3, seconds=5))) == 3 and len(w.chunk_log) >= 9, "... and is still there for the next watch")
w.close()
request("POST", "/_sim/faults", {"type": "status", "code": 500, "resource": "*", "verb": "delete", "count": 2})
check(request("DELETE", "/apis/apps/v1/namespaces/default/deployments/none").status == 500 and request("DELETE", NS + "/secrets/none").status == 500,
      "resource \"*\": any resource, only the aimed verb")
check(request("DELETE", NS + "/secrets/none").status == 404, "count 2 used up")
request("POST", "/_sim/faults", {"type": "slow", "delayMs": 400, "resource": "configmaps", "verb": "list", "count": 1})
t0 = time.time()
check(get(NS + "/configmaps").status == 200 and time.time() - t0 >= 0.38, "slow on a list: the reply waits %.2fs" % (time.time() - t0))
request("POST", "/_sim/faults", {"type": "status", "code": 410, "resource": "configmaps", "verb": "list", "count": 1})
r = get(NS + "/configmaps")
check(r.status == 410 and r.json()["reason"] in ("Expired", "Gone"), "status fault 410 on a list: %s" % r.json().get("reason"))

r = request("POST", "/_sim/faults", {"type": "status", "code": 504, "resource": "configmaps", "verb": "list", "count": 1})
r = get(NS + "/configmaps")
check(r.status == 504 and r.json()["details"]["causes"][0]["reason"] == "ResourceVersionTooLarge", "status fault 504 ResourceVersionTooLarge on list")
r = request("POST", "/_sim/faults", {"type": "status", "code": 500, "resource": "configmaps", "verb": "create", "count": 1})
check(request("POST", NS + "/configmaps", {"metadata": {"name": "z"}}).status == 500, "status fault aimed at create")
check(request("POST", NS + "/configmaps", {"metadata": {"name": "z"}}).status == 201, "status fault count used up")
check(request("POST", "/_sim/faults", {"type": "nonsense"}).status == 400, "unknown fault type -> 400")
check(len(get("/_sim/faults").json()) >= 1 and request("DELETE", "/_sim/faults").status == 200 and get("/_sim/faults").json() == [], "list and clear fault rules")

# websocket split -> fragmented messages
fault(type="split")
s, st, h, rest = ws_open(WP)
fr = list(ws_frames(s, rest, seconds=5))
check(any(op == 0 for op, fin, p in fr) and any(op == 1 and not fin for op, fin, p in fr), "split on a WebSocket: fragmented messages (continuation frames)")

# compaction and restart
rv = get(NS + "/configmaps").json()["metadata"]["resourceVersion"]
request("PUT", NS + "/configmaps/f0", {"metadata": {"name": "f0"}, "data": {"v": "1"}})
request("POST", "/_sim/compact", {})
w = Watch(NS + "/configmaps?watch=1&resourceVersion=%s" % rv)
evs = list(w.events(seconds=4))
check(len(evs) == 1 and evs[0]["type"] == "ERROR" and evs[0]["object"]["code"] == 410, "compaction: watch from before it -> ERROR 410")
rv = get(NS + "/configmaps").json()["metadata"]["resourceVersion"]
w = Watch(NS + "/configmaps?watch=1&resourceVersion=%s&timeoutSeconds=10" % rv)
import threading
request("PUT", NS + "/configmaps/f0", {"metadata": {"name": "f0"}, "data": {"v": "2"}})
threading.Timer(0.3, lambda: request("POST", "/_sim/restart", {})).start()
t0 = time.time()
evs = list(w.events(seconds=6))
check(w.cut and not w.ended_clean and time.time() - t0 < 5, "restart: open watches are cut")
w = Watch(NS + "/configmaps?watch=1&resourceVersion=%s" % rv)
evs = list(w.events(seconds=4))
check(len(evs) == 1 and evs[0]["type"] == "ERROR", "restart: the watch history is gone (410 from the old RV)")

# seeded random faults: same seed, same pattern
request("POST", "/_sim/faults", {"type": "status", "code": 500, "resource": "configmaps", "verb": "get", "probability": 0.5})
pattern = "".join("x" if get(NS + "/configmaps/f1").status == 500 else "." for _ in range(24))
open(__import__("os").environ["TMPDIR_PATTERN"], "w").write(pattern)
check("x" in pattern and "." in pattern, "random faults at probability 0.5: %s" % pattern)
done()
PY
rc=$?; [ $rc = 0 ] || exit $rc
# a second kubesim with the same seed produces the same fault pattern
kill "$KS_PID"; wait "$KS_PID" 2>/dev/null
ks_start --seed=42
export TMPDIR_PATTERN="$TMP/pattern2"
ks_py <<'PY'
from kslib import *
request("POST", "/_sim/faults", {"type": "status", "code": 500, "resource": "configmaps", "verb": "get", "probability": 0.5})
request("POST", "/api/v1/namespaces/default/configmaps", {"metadata": {"name": "f1"}})
pattern = "".join("x" if get("/api/v1/namespaces/default/configmaps/f1").status == 500 else "." for _ in range(24))
open(__import__("os").environ["TMPDIR_PATTERN"], "w").write(pattern)
PY
[ "$(cat "$TMP/pattern1")" = "$(cat "$TMP/pattern2")" ] || fail "seeded faults differ: $(cat "$TMP/pattern1") vs $(cat "$TMP/pattern2")"
ok "--seed makes random faults reproducible: $(cat "$TMP/pattern1")"
