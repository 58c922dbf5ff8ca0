#!/usr/bin/env bash
# 052_pods_labels_api.sh - --pod-labels-allowlist: the agent watches this
# node's pods on the API server (kubesim) and adds their allowlisted labels
# to the pods collector's series as label_<key>.
#
# kubesim holds three pods: two on node-a (one with both allowlisted
# labels, one with only "app"), one on node-b. A generated cgroup tree
# (tests/fixtures/gen_pod_tree.py) is given those pods' UIDs, and the agent
# runs as node-a. Checked: the labels on pod- and container-level series, ""
# for a missing label and for the other node's pod (not watched), a label
# change and a pod deletion reaching the series, the output passing
# promtool, and a bad allowlist refused at start with the reason.
. "$(dirname "$0")/lib/common.sh"
need_bin "$BIN/vigil-agent"; need_bin "$BIN/kubesim"; need python3

KC="$TMP/kc.yaml"
ks_port=$(free_port)
start "$TMP/kubesim.log" "$BIN/kubesim" --listen=127.0.0.1:$ks_port --kubeconfig-out="$KC" \
  --pod-start-ms=50 --pod-delete-ms=50
for i in $(seq 1 100); do
  [ -s "$KC" ] && curl -s -o /dev/null --cacert "$KC.ca.crt" "https://127.0.0.1:$ks_port/healthz" && break; sleep 0.1
done
[ -s "$KC" ] || fail "kubesim wrote no kubeconfig: $(cat "$TMP/kubesim.log")"
opsim() { python3 "$REPO/tests/integration/lib/opsim.py" "$KC" "$@"; }

mkpod() { # name node labels-json -> prints the uid
  opsim call POST /api/v1/namespaces/default/pods \
    "{\"metadata\":{\"name\":\"$1\",\"labels\":$3},\"spec\":{\"nodeName\":\"$2\",\"containers\":[{\"name\":\"c\",\"image\":\"x\"}]}}" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["metadata"]["uid"])'
}
u0=$(mkpod web node-a '{"app":"web","team":"blue","tier":"front"}') || fail "create web"
u1=$(mkpod db node-a '{"app":"db"}') || fail "create db"
u2=$(mkpod far node-b '{"app":"far","team":"green"}') || fail "create far"

# a three-pod node whose pods carry kubesim's UIDs
TREE="$TMP/tree"
python3 "$REPO/tests/fixtures/gen_pod_tree.py" --layout v2-systemd-containerd --pods 3 --out "$TREE" >/dev/null ||
  fail "gen_pod_tree failed"
python3 - "$TREE" "$u0" "$u1" "$u2" <<'EOF' || fail "cannot give the tree kubesim's UIDs"
import os, re, sys
tree, new = sys.argv[1], sys.argv[2:]
root = os.path.join(tree, "sys/fs/cgroup/kubepods.slice")
old = []
for d, subs, _ in os.walk(root):
    for s in subs:
        m = re.search(r"-pod([0-9a-f_]{36})\.slice$", s)
        if m and m.group(1) not in old:
            old.append(m.group(1))
old.sort()
assert len(old) == 3, old
pairs = [(o, n.replace("-", "_")) for o, n in zip(old, new)]
for d, subs, _ in sorted(os.walk(root, topdown=False), key=lambda t: -len(t[0])):
    for s in subs:
        t = s
        for o, n in pairs:
            t = t.replace(o, n)
        if t != s:
            os.rename(os.path.join(d, s), os.path.join(d, t))
EOF

run_agent() { # extra args...; sets AG_PORT, AG_PID
  AG_PORT=$(free_port)
  start "$TMP/agent.log" "$BIN/vigil-agent" --web.listen-address=127.0.0.1:$AG_PORT \
    --collector.disable-defaults --collector.pods \
    --path.sysfs="$TREE/sys" --path.procfs="$TREE/proc" --path.rootfs="$TREE/root" "$@"
  AG_PID=$LAST_PID
}

# a bad allowlist: refused at start, with the reason
if timeout 10 "$BIN/vigil-agent" --collector.disable-defaults --collector.pods --kubeconfig="$KC" --node-name=node-a \
    --pod-labels-allowlist='app,-x' --web.listen-address=127.0.0.1:$(free_port) >"$TMP/bad.log" 2>&1; then
  fail "a bad allowlist was accepted"
fi
grep -q 'is not a Kubernetes label key' "$TMP/bad.log" || fail "no reason given: $(cat "$TMP/bad.log")"
ok "a bad allowlist is refused at start with the reason"

# off (the default): the Kubernetes client's libraries are not even loaded
run_agent
wait_http "http://127.0.0.1:$AG_PORT/metrics" || fail "agent did not start"
grep -qE 'libcurl|libssl|libwebsockets|vigil-agent-kube' "/proc/$AG_PID/maps" &&
  fail "the agent loaded the Kubernetes client without --pod-labels-allowlist"
kill "$AG_PID"; wait "$AG_PID" 2>/dev/null || true
ok "without the allowlist no libcurl/OpenSSL/libwebsockets in the agent"

# the plugin missing: refused at start, saying which file
mkdir -p "$TMP/lonely"; cp "$BIN/vigil-agent" "$TMP/lonely/"
if timeout 10 "$TMP/lonely/vigil-agent" --kubeconfig="$KC" --node-name=node-a --pod-labels-allowlist=app \
    --web.listen-address=127.0.0.1:$(free_port) >"$TMP/lonely.log" 2>&1; then
  fail "ran without its plugin"
fi
grep -q 'cannot load vigil-agent-kube.so' "$TMP/lonely.log" || fail "no reason given: $(cat "$TMP/lonely.log")"
ok "without vigil-agent-kube.so the agent refuses the allowlist and says why"

run_agent --kubeconfig="$KC" --node-name=node-a --pod-labels-allowlist='app, team'
wait_http "http://127.0.0.1:$AG_PORT/metrics" || fail "agent did not start"
grep -q 'vigil-agent-kube.so' "/proc/$AG_PID/maps" || fail "the plugin is not loaded with the allowlist set"
scrape() { curl -s "http://127.0.0.1:$AG_PORT/metrics"; }
for i in $(seq 1 100); do
  scrape | grep -q '^vigil_agent_pod_labels_synced 1' && break; sleep 0.1
done
scrape | grep -q '^vigil_agent_pod_labels_synced 1' || fail "pod labels never synced: $(tail -5 "$TMP/agent.log")"
scrape | grep -q '^vigil_agent_pod_labels_pods 2' || fail "expected node-a's 2 pods: $(scrape | grep pod_labels)"

# series_of UID CONTAINER FAMILY -> the label set of that series
series_of() {
  scrape | python3 -c '
import re, sys
uid, ctr, fam = sys.argv[1].replace("-", "_"), sys.argv[2], sys.argv[3]
for line in sys.stdin:
    if not line.startswith(fam + "{"):
        continue
    labels = dict(re.findall(r"(\w+)=\"((?:[^\"\\\\]|\\\\.)*)\"", line[:line.rindex("}")]))
    if uid in labels.get("id", "") and (labels.get("container", "") == "") == (ctr == ""):
        print(" ".join("%s=%s" % kv for kv in sorted(labels.items()) if kv[0].startswith("label_")))
        break
' "$1" "$2" "$3"
}
expect() { # uid ctr family want
  local got
  for i in $(seq 1 50); do
    got=$(series_of "$1" "$2" "$3")
    [ "$got" = "$4" ] && return 0
    sleep 0.1
  done
  fail "$3 of pod $1 (container '${2}'): got '$got', want '$4'"
}
expect "$u0" "" container_cpu_usage_seconds_total "label_app=web label_team=blue"
expect "$u0" app container_memory_working_set_bytes "label_app=web label_team=blue"
expect "$u1" app container_cpu_usage_seconds_total "label_app=db label_team="
expect "$u2" app container_cpu_usage_seconds_total "label_app= label_team="
ok "allowlisted labels on pod and container series; missing label and other node's pod empty"

if command -v promtool >/dev/null; then
  scrape >"$TMP/out.prom"
  set +e
  promtool check metrics <"$TMP/out.prom" >"$TMP/lint" 2>&1; rc=$?
  set -e
  # 3 = lint findings only (cAdvisor's own names); anything else is a parse error
  [ $rc -eq 0 ] || [ $rc -eq 3 ] || fail "promtool parse error (rc=$rc): $(head -5 "$TMP/lint")"
  ok "promtool parses the output with the extra labels"
fi

opsim call PATCH /api/v1/namespaces/default/pods/db '{"metadata":{"labels":{"team":"red"}}}' >/dev/null ||
  fail "patch db"
expect "$u1" app container_cpu_usage_seconds_total "label_app=db label_team=red"
opsim call DELETE /api/v1/namespaces/default/pods/web >/dev/null || fail "delete web"
expect "$u0" app container_cpu_usage_seconds_total "label_app= label_team="
ok "a label change and a deletion reach the series"
