#!/usr/bin/env bash
# kubesim and client behaviours (kube-api-semantics.md 18-28): both Event APIs,
# leases with optimistic concurrency, credentials (token, token rotation with
# grace, client certificates, kubeconfig contexts, IPv6), and the requests a
# client-go style reflector makes (list RV=0, watch with bookmarks, re-watch,
# 429/5xx with Retry-After, relist after 410).
. "$REPO/tests/integration/lib/common.sh"
. "$REPO/tests/fixtures/kubesim/ks_common.sh"
export KS_TOKEN_FILE="$TMP/token"
ks_start --token-file-out="$KS_TOKEN_FILE" --token-grace=1 --bookmark-ms=300 --history=100
grep -q "tokenFile: $KS_TOKEN_FILE" "$KS_KUBECONFIG" || fail "22: kubeconfig uses tokenFile with --token-file-out"
ks_py <<'PY'
import json, os, time, threading, urllib.parse
from kslib import *

NS = "/api/v1/namespaces/default"
# 18: events.k8s.io/v1 and core/v1 events
ev = {"apiVersion": "events.k8s.io/v1", "kind": "Event", "metadata": {"name": "e1.17a"},
      "regarding": {"kind": "Pod", "namespace": "default", "name": "p", "uid": "u1", "apiVersion": "v1"},
      "reason": "Started", "note": "Started container", "type": "Normal", "action": "Start",
      "reportingController": "kubelet", "reportingInstance": "node-1",
      "eventTime": "2025-01-02T03:04:05.123456Z", "series": {"count": 2, "lastObservedTime": "2025-01-02T03:05:05.654321Z"}}
r = request("POST", "/apis/events.k8s.io/v1/namespaces/default/events", ev)
d = r.json()
check(r.status == 201 and d["eventTime"] == "2025-01-02T03:04:05.123456Z" and d["series"]["count"] == 2 and d["regarding"]["name"] == "p",
      "18: events.k8s.io/v1 Event stored with microsecond eventTime and series")
bad = dict(ev); bad.pop("reportingController"); bad["metadata"] = {"name": "e2"}
r = request("POST", "/apis/events.k8s.io/v1/namespaces/default/events", bad)
check(r.status == 422 and r.json()["details"]["causes"][0]["field"] == "reportingController", "18: events.k8s.io/v1 requires reportingController")
core = {"apiVersion": "v1", "kind": "Event", "metadata": {"name": "c1.17a"},
        "involvedObject": {"kind": "Pod", "namespace": "default", "name": "p"}, "reason": "BackOff", "message": "Back-off",
        "source": {"component": "kubelet", "host": "node-1"}, "count": 11, "type": "Warning",
        "firstTimestamp": "2025-01-02T03:04:05Z", "lastTimestamp": "2025-01-02T03:14:05Z"}
r = request("POST", NS + "/events", core)
check(r.status == 201 and r.json()["count"] == 11 and r.json()["source"]["component"] == "kubelet", "18: core/v1 Event with involvedObject, source, count, timestamps")
r = get(NS + "/events?fieldSelector=" + urllib.parse.quote("involvedObject.name=p,reason=BackOff"))
check(r.status == 200 and [e["metadata"]["name"] for e in r.json()["items"]] == ["c1.17a"], "18: core events filtered by involvedObject.name and reason")
check(get(NS + "/events?fieldSelector=bogus.field%3Dx").status == 400, "field selector on an unsupported field -> 400")

# 19/20: leases
L = "/apis/coordination.k8s.io/v1/namespaces/default/leases"
lease = {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease", "metadata": {"name": "leader"},
         "spec": {"holderIdentity": "a", "leaseDurationSeconds": 15, "acquireTime": "2025-01-02T03:04:05.000001Z",
                  "renewTime": "2025-01-02T03:04:05.000001Z", "leaseTransitions": 0}}
r = request("POST", L, lease); l = r.json()
check(r.status == 201 and l["spec"]["renewTime"] == "2025-01-02T03:04:05.000001Z", "19: Lease keeps microsecond timestamps")
l_a = json.loads(json.dumps(l)); l_b = json.loads(json.dumps(l))
l_a["spec"]["renewTime"] = "2025-01-02T03:04:07.000002Z"
r = request("PUT", L + "/leader", l_a)
check(r.status == 200, "19: renew with the current RV")
l_b["spec"]["holderIdentity"] = "b"; l_b["spec"]["leaseTransitions"] = 1
r = request("PUT", L + "/leader", l_b)
check(r.status == 409 and r.json()["reason"] == "Conflict", "19: a racing takeover with a stale RV loses with 409")
cur = r2 = get(L + "/leader").json()
cur["spec"]["holderIdentity"] = "b"; cur["spec"]["leaseTransitions"] = cur["spec"]["leaseTransitions"] + 1
r = request("PUT", L + "/leader", cur)
check(r.status == 200 and r.json()["spec"]["leaseTransitions"] == 1, "20: takeover with the current RV increments leaseTransitions")
rel = r.json(); rel["spec"].pop("holderIdentity")
r = request("PUT", L + "/leader", rel)
check(r.status == 200 and "holderIdentity" not in r.json()["spec"], "20: release writes an empty holder")
bad = json.loads(json.dumps(lease)); bad["metadata"]["name"] = "bad"; bad["spec"]["leaseDurationSeconds"] = 0
check(request("POST", L, bad).status == 422, "19: leaseDurationSeconds must be > 0")

# health and version endpoints (open to unauthenticated probes, like the default RBAC)
for p in ["/healthz", "/livez", "/readyz"]:
    r = get(p, auth=None)
    check(r.status == 200 and r.body == b"ok", "%s answers ok" % p)
check(b"[+]ping ok" in get("/readyz?verbose", auth=None).body, "/readyz?verbose lists checks")
v = get("/version", auth=None).json()
check(v["major"] == "1" and v["gitVersion"].startswith("v1.32"), "/version")

# 21/22: credentials
check(get("/api", cert=True, auth=None).status == 200, "22: client certificate user is authenticated")
check(get("/api", auth="Bearer nope").status == 401, "21: unknown token -> 401")
old = token()
r = request("POST", "/_sim/rotate-token", {})
new = token()
check(r.status == 200 and new != old and r.json()["token"] == new, "21: rotation writes the new token to the token file")
check(get("/api", auth="Bearer " + old).status == 200, "21: the old token still works within the grace period")
check(get("/api", auth="Bearer " + new).status == 200, "21: the new token works")
time.sleep(1.3)
check(get("/api", auth="Bearer " + old).status == 401, "21: the old token stops working after the grace period")

# 23/24: reflector: list RV=0, then watch from the list RV with bookmarks; re-watch from the last RV
for i in range(3):
    request("POST", NS + "/configmaps", {"metadata": {"name": "r%d" % i}, "data": {"i": str(i)}})
lst = get(NS + "/configmaps?resourceVersion=0&limit=500").json()
rv = lst["metadata"]["resourceVersion"]
check(len(lst["items"]) == 3, "23: list with RV=0")
w = Watch(NS + "/configmaps?watch=1&allowWatchBookmarks=true&resourceVersion=%s&timeoutSeconds=1" % rv)
request("PUT", NS + "/configmaps/r0", {"metadata": {"name": "r0"}, "data": {"i": "x"}})
evs = list(w.events(seconds=4))
mods = [e for e in evs if e["type"] == "MODIFIED"]
check(len(mods) == 1 and w.ended_clean, "23: watch from the list RV sees the change, then ends cleanly at timeoutSeconds")
last = max(int(e["object"]["metadata"]["resourceVersion"]) for e in evs)
request("PUT", NS + "/configmaps/r1", {"metadata": {"name": "r1"}, "data": {"i": "y"}})  # happens between watches
w = Watch(NS + "/configmaps?watch=1&allowWatchBookmarks=true&resourceVersion=%d&timeoutSeconds=1" % last)
evs = [e for e in w.events(seconds=4) if e["type"] != "BOOKMARK"]
check([(e["type"], e["object"]["metadata"]["name"]) for e in evs] == [("MODIFIED", "r1")], "24: re-watch from the last RV misses nothing, no relist needed")

# 25/27: 429 and 5xx carry Retry-After
request("POST", "/_sim/faults", {"type": "status", "code": 429, "retryAfter": 2, "resource": "configmaps", "verb": "watch", "count": 1})
r = get(NS + "/configmaps?watch=1&resourceVersion=%d" % last)
check(r.status == 429 and r.headers.get("retry-after") == "2", "25: watch refused with 429 and Retry-After")
request("POST", "/_sim/faults", {"type": "status", "code": 503, "retryAfter": 1, "resource": "configmaps", "verb": "get", "count": 1})
r = get(NS + "/configmaps/r0")
check(r.status == 503 and r.headers.get("retry-after") == "1", "27: 503 with Retry-After")
check(get(NS + "/configmaps/r0").status == 200, "27: the retry succeeds")

# 26: ERROR 410 -> relist with the last RV; if that is also expired, relist with RV unset
for i in range(120):
    request("PUT", NS + "/configmaps/r2", {"metadata": {"name": "r2"}, "data": {"i": str(i)}})
w = Watch(NS + "/configmaps?watch=1&resourceVersion=%d" % last)
evs = list(w.events(seconds=4))
check(len(evs) == 1 and evs[0]["type"] == "ERROR" and evs[0]["object"]["code"] == 410, "26: watch from an expired RV gets ERROR 410")
r = get(NS + "/configmaps?resourceVersion=%d&resourceVersionMatch=NotOlderThan" % last)
check(r.status == 200 and int(r.json()["metadata"]["resourceVersion"]) > last, "26: relist NotOlderThan the last RV is served")
request("POST", "/_sim/compact", {})
r = get(NS + "/configmaps?resourceVersion=%d&resourceVersionMatch=Exact" % last)
check(r.status == 410, "26: an Exact relist at a compacted RV is 410")
r = get(NS + "/configmaps")
check(r.status == 200 and len(r.json()["items"]) == 3, "26: relist with RV unset")
done()
PY
rc=$?; [ $rc = 0 ] || exit $rc

# 22: kubeconfig contexts work with kubectl (token file user and certificate user)
if command -v kubectl >/dev/null 2>&1; then
  kc get ns default >/dev/null || fail "22: kubectl with the tokenFile user (after rotation)"
  kc --context=kubesim-cert get ns default >/dev/null || fail "22: kubectl with the client-certificate user"
  ok "22: kubeconfig token-file and certificate contexts work with kubectl"
  # exec credential plugins: one answering a token, one a client certificate
  cat > "$TMP/exec-token.sh" <<EOF
#!/bin/sh
printf '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"%s","expirationTimestamp":"2099-01-01T00:00:00Z"}}' "\$(cat "$KS_TOKEN_FILE")"
EOF
  cat > "$TMP/exec-cert.sh" <<EOF
#!/bin/sh
exec python3 -c 'import json; print(json.dumps({"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"clientCertificateData":open("$KS_KUBECONFIG.client.crt").read(),"clientKeyData":open("$KS_KUBECONFIG.client.key").read()}}))'
EOF
  chmod +x "$TMP/exec-token.sh" "$TMP/exec-cert.sh"
  for u in token cert; do  # a kubeconfig (JSON is YAML) with only the exec user
    cat > "$TMP/kc-exec-$u" <<EOF
{"apiVersion": "v1", "kind": "Config", "current-context": "x",
 "clusters": [{"name": "x", "cluster": {"server": "$KS_URL", "certificate-authority": "$KS_KUBECONFIG.ca.crt"}}],
 "users": [{"name": "x", "user": {"exec": {"apiVersion": "client.authentication.k8s.io/v1", "command": "$TMP/exec-$u.sh",
                                           "interactiveMode": "Never"}}}],
 "contexts": [{"name": "x", "context": {"cluster": "x", "user": "x", "namespace": "default"}}]}
EOF
    KUBECONFIG="$TMP/kc-exec-$u" kc get ns default >/dev/null || fail "22: kubectl with an exec plugin giving a $u"
  done
  ok "22: exec credential plugins (client.authentication.k8s.io/v1: a token, a client certificate) work with kubectl"
fi

# 21: IPv6 listen address, bracketed in the kubeconfig
if python3 -c 'import socket;s=socket.socket(socket.AF_INET6);s.bind(("::1",0))' 2>/dev/null; then
  p6=$(python3 -c 'import socket;s=socket.socket(socket.AF_INET6);s.bind(("::1",0));print(s.getsockname()[1])')
  start "$TMP/ks6.log" "$KS_BIN" --listen="[::1]:$p6" --kubeconfig-out="$TMP/kc6"
  for i in $(seq 1 50); do [ -s "$TMP/kc6" ] && break; sleep 0.1; done
  grep -q "server: https://\[::1\]:$p6" "$TMP/kc6" || fail "21: IPv6 server address is bracketed"
  tok=$(awk '/token:/{print $2}' "$TMP/kc6")
  curl -s -g --cacert "$TMP/kc6.ca.crt" -H "Authorization: Bearer $tok" "https://[::1]:$p6/api" | grep -q APIVersions || fail "21: IPv6 serving with a matching certificate"
  ok "21: IPv6 listen with bracketed address and certificate SAN"
fi
