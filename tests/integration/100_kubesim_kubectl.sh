#!/usr/bin/env bash
# kubesim with real kubectl: api-resources, get/get -o json on every resource,
# apply, wait, scale, rollout restart/status, patch (3 types), get --watch, delete.
. "$REPO/tests/integration/lib/common.sh"
. "$REPO/tests/fixtures/kubesim/ks_common.sh"
command -v kubectl >/dev/null 2>&1 || skip "kubectl not installed (needed for kubesim fidelity checks)"
ks_start

kc api-resources > "$TMP/ar" || fail "api-resources"
for r in pods deployments statefulsets replicasets daemonsets poddisruptionbudgets leases customresourcedefinitions nodes namespaces configmaps services endpoints events; do
  grep -q "^$r " "$TMP/ar" || fail "api-resources lacks $r"
done
grep -q "events.k8s.io/v1" "$TMP/ar" || fail "api-resources lacks events.k8s.io"
ok "api-resources lists every resource"

# get and get -o json on every resource (group-qualified, so both Event APIs
# count), each holding a known object: a CRD and a custom resource, and one
# object of every other kind from every.yaml
kc apply -f "$KS_FIX/crd.yaml" >/dev/null || fail "apply CRD"
kc wait --for=condition=Established crd/widgets.example.com --timeout=10s >/dev/null || fail "CRD Established"
kc apply -f "$KS_FIX/every.yaml" > "$TMP/every.out" 2>&1 || { cat "$TMP/every.out"; fail "apply every.yaml"; }
[ "$(grep -c ' created$' "$TMP/every.out")" = "$(grep -c '^kind:' "$KS_FIX/every.yaml")" ] || { cat "$TMP/every.out"; fail "every object of every.yaml created"; }
kc -n every rollout status deployment/every --timeout=30s >/dev/null || fail "every: deployment rolls out"
kc -n every rollout status statefulset/every-sts --timeout=30s >/dev/null || fail "every: statefulset rolls out"
kc -n every rollout status daemonset/every-ds --timeout=30s >/dev/null || fail "every: daemonset rolls out"
node0=$(kc get nodes -o jsonpath='{.items[0].metadata.name}')
kc api-resources -o name > "$TMP/arn" || fail "api-resources -o name"
n=0
for r in $(cat "$TMP/arn"); do
  case $r in  # what the table must show: a name, or for events reason and object
    namespaces) want=every;; nodes) want=$node0;; customresourcedefinitions.*) want=widgets.example.com;;
    pods|replicasets.apps) want='every-[a-z0-9]';; events|events.events.k8s.io) want='pod/every';;
    *) want=every;;
  esac
  kc get "$r" -A > "$TMP/table" 2>"$TMP/err" || { cat "$TMP/err"; fail "kubectl get $r"; }
  head -1 "$TMP/table" | grep -q "NAME\|LAST SEEN" || fail "get $r: no table header: $(head -1 "$TMP/table")"
  grep -Eq "(^| )$want" "$TMP/table" || { cat "$TMP/table"; fail "get $r: table lacks $want"; }
  kc get "$r" -A -o json > "$TMP/out.json" || fail "kubectl get $r -o json"
  python3 - "$TMP/out.json" "$r" "$want" <<'PY' || fail "get $r -o json"
import json, re, sys
d = json.load(open(sys.argv[1])); r, want = sys.argv[2], sys.argv[3]
assert d["kind"] == "List" and d["items"], d.get("kind")
names = [i["metadata"]["name"] for i in d["items"]]
if want == "pod/every":
    assert any(i.get("involvedObject", i.get("regarding", {})).get("name") == "every" for i in d["items"]), names
else:
    assert any(re.match(want, n) for n in names), (want, names)
assert all(i.get("kind") and i.get("apiVersion") and i["metadata"].get("resourceVersion") and i["metadata"].get("uid") for i in d["items"])
PY
  n=$((n + 1))
done
[ "$n" -ge 17 ] || fail "only $n resources listed"
grep -q '^widgets.example.com$' "$TMP/arn" || fail "custom resource in api-resources -o name"
grep -Eq "^every-sts-0 +1/1 +Running +0 " <(kc -n every get pods) || fail "pod table: NAME READY 1/1 STATUS Running RESTARTS 0"
grep -Eq "^every +1/1 +1 +1 " <(kc -n every get deployment) || fail "deployment table: READY UP-TO-DATE AVAILABLE"
grep -Eq "Normal +Pulled +pod/every +Pulled image" <(kc -n every get events.events.k8s.io) || fail "events.k8s.io table: TYPE REASON OBJECT MESSAGE"
ok "get and get -o json on all $n resources (with a custom resource), each showing its object"

# imperative creates: kubectl 1.32 sends these bodies as protobuf
kc create namespace team-a >/dev/null || fail "create namespace"
kc -n team-a create configmap cfg --from-literal=a=1 --from-literal=b=2 >/dev/null || fail "create configmap"
kc -n team-a create secret generic sec --from-literal=k=v >/dev/null || fail "create secret"
kc -n team-a create serviceaccount robot >/dev/null || fail "create serviceaccount"
kc -n team-a create service clusterip front --tcp=80:8080 >/dev/null || fail "create service"
kc -n team-a create deployment api --image=nginx:1.27 --replicas=2 --port=8080 >/dev/null || fail "create deployment"
kc -n team-a create pdb api --selector=app=api --min-available=1 >/dev/null || fail "create pdb"
kc -n team-a run once --image=busybox:1.36 --labels=job=once --env=A=B --restart=Never -- sleep 5 >/dev/null || fail "run"
[ "$(kc -n team-a get cm cfg -o jsonpath='{.data.a}{.data.b}')" = 12 ] || fail "configmap data"
[ "$(kc -n team-a get secret sec -o jsonpath='{.data.k}')" = "$(printf v | base64)" ] || fail "secret data"
[ "$(kc -n team-a get svc front -o jsonpath='{.spec.ports[0].port}/{.spec.ports[0].targetPort}')" = 80/8080 ] || fail "service ports"
[ "$(kc -n team-a get pdb api -o jsonpath='{.spec.minAvailable}/{.spec.selector.matchLabels.app}')" = 1/api ] || fail "pdb spec"
[ "$(kc -n team-a get pod once -o jsonpath='{.metadata.labels.job}/{.spec.containers[0].env[0].value}/{.spec.containers[0].args[1]}')" = once/B/5 ] || fail "run pod spec"
kc -n team-a rollout status deployment/api --timeout=30s >/dev/null || fail "created deployment rolls out"
[ "$(kc -n team-a get deployment api -o jsonpath='{.spec.template.spec.containers[0].ports[0].containerPort}')" = 8080 ] || fail "deployment container port"
kc delete namespace team-a --timeout=30s >/dev/null || fail "delete namespace"
kc get namespace team-a 2>&1 | grep -q NotFound || fail "namespace gone with its content"
ok "kubectl create/run (protobuf bodies) and namespace deletion"

kc get nodes -o json | python3 -c 'import json,sys; d=json.load(sys.stdin); assert len(d["items"])==2; assert all(any(c["type"]=="Ready" and c["status"]=="True" for c in n["status"]["conditions"]) for n in d["items"])' || fail "two Ready nodes"

# watch deployments in the background while we work
kc get deployments --watch --output-watch-events -o json > "$TMP/watch.json" 2>"$TMP/watch.err" &
WPID=$!; PIDS+=("$WPID")
# no wait needed: an apply before kubectl's list shows up as ADDED from the list

kc apply -f "$REPO/tests/fixtures/kubesim/deploy.yaml" | grep -q "deployment.apps/web created" || fail "apply deployment"
kc apply -f "$REPO/tests/fixtures/kubesim/deploy.yaml" | grep -q "unchanged" || fail "second apply is unchanged"
kc rollout status deployment/web --timeout=30s || fail "rollout status"
kc wait --for=condition=Ready pod -l app=web --timeout=30s || fail "wait Ready"
[ "$(kc get pods -l app=web -o name | wc -l)" = 2 ] || fail "2 pods"
ok "apply, rollout status, wait --for=condition=Ready"

kc scale deployment/web --replicas=3 || fail "scale"
kc rollout status deployment/web --timeout=30s || fail "rollout after scale"
[ "$(kc get pods -l app=web -o name | wc -l)" = 3 ] || fail "3 pods after scale"
[ "$(kc get deployment web -o jsonpath='{.status.readyReplicas}')" = 3 ] || fail "readyReplicas 3"
ok "scale to 3"

before=$(kc get pods -l app=web -o name | sort)
kc rollout restart deployment/web || fail "rollout restart"
kc rollout status deployment/web --timeout=30s || fail "rollout status after restart"
for i in $(seq 1 50); do
  after=$(kc get pods -l app=web -o jsonpath='{range .items[?(@.metadata.deletionTimestamp)]}x{end}')
  [ -z "$after" ] && break; sleep 0.1
done
after=$(kc get pods -l app=web -o name | sort)
[ -n "$after" ] && [ -z "$(comm -12 <(echo "$before") <(echo "$after"))" ] || fail "rollout restart did not replace pods: $before / $after"
kc get deployment web -o jsonpath='{.spec.template.metadata.annotations}' | grep -q restartedAt || fail "restartedAt annotation"
[ "$(kc get rs -l app=web -o name | wc -l)" = 2 ] || fail "two replicasets after restart"
ok "rollout restart replaced every pod"

kc patch deployment web --type=merge -p '{"metadata":{"labels":{"merge":"yes"}}}' >/dev/null || fail "merge patch"
kc patch deployment web --type=json -p '[{"op":"add","path":"/metadata/labels/json","value":"yes"}]' >/dev/null || fail "json patch"
kc patch deployment web --type=strategic -p '{"spec":{"template":{"spec":{"containers":[{"name":"app","env":[{"name":"A","value":"1"}]}]}}}}' >/dev/null || fail "strategic patch"
c=$(kc get deployment web -o json)
echo "$c" | python3 -c '
import json,sys; d=json.load(sys.stdin)
assert d["metadata"]["labels"]["merge"]=="yes" and d["metadata"]["labels"]["json"]=="yes"
cs=d["spec"]["template"]["spec"]["containers"]
assert len(cs)==1 and cs[0]["image"]=="nginx:1.27" and cs[0]["env"]==[{"name":"A","value":"1"}], cs
assert d["metadata"]["generation"]>=4' || fail "patch results"
kc patch deployment web --type=json -p '[{"op":"test","path":"/metadata/labels/merge","value":"no"}]' 2>&1 | grep -qi "invalid\|test" || fail "failing json patch test op rejected"
ok "patch: merge, json, strategic (containers merged by name)"

kc delete deployment web --timeout=30s | grep -q deleted || fail "delete"
for i in $(seq 1 50); do [ "$(kc get pods -l app=web -o name | wc -l)" = 0 ] && break; sleep 0.2; done
[ "$(kc get pods -l app=web -o name | wc -l)" = 0 ] || fail "pods garbage collected after delete"
[ "$(kc get rs -l app=web -o name | wc -l)" = 0 ] || fail "replicasets garbage collected"
kc get deployment web 2>&1 | grep -q NotFound || fail "deployment gone"
ok "delete with garbage collection of replicasets and pods"

for i in $(seq 1 100); do grep -q '"DELETED"' "$TMP/watch.json" && break; sleep 0.1; done
kill "$WPID" 2>/dev/null; wait "$WPID" 2>/dev/null
python3 - "$TMP/watch.json" <<'PY' || fail "watch events"
import json,sys
txt=open(sys.argv[1]).read()
dec=json.JSONDecoder(); i=0; types=[]
while i < len(txt):
    while i < len(txt) and txt[i].isspace(): i+=1
    if i>=len(txt): break
    o,i=dec.raw_decode(txt,i); types.append(o["type"])
assert "ADDED" in types and "MODIFIED" in types and "DELETED" in types, types
PY
ok "get --watch saw ADDED, MODIFIED and DELETED"
