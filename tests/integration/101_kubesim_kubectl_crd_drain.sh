#!/usr/bin/env bash
# kubesim with real kubectl: a CRD and a custom resource (schema validation,
# defaults, status and scale subresources), drain blocked then allowed by a PDB.
. "$REPO/tests/integration/lib/common.sh"
. "$REPO/tests/fixtures/kubesim/ks_common.sh"
command -v kubectl >/dev/null 2>&1 || skip "kubectl not installed (needed for kubesim fidelity checks)"
ks_start --nodes=2

kc apply -f "$KS_FIX/crd.yaml" | grep -q created || fail "apply CRD"
kc wait --for=condition=Established crd/widgets.example.com --timeout=10s || fail "CRD Established"
kc api-resources | grep -q "^widgets .*wd .*example.com/v1 .*true .*Widget" || fail "CRD in discovery"
kc apply -f "$KS_FIX/cr.yaml" | grep -q "widget.example.com/w1 created" || fail "apply CR"
kc get wd w1 -o jsonpath='{.spec.color}/{.spec.replicas}/{.metadata.generation}' | grep -qx "blue/1/1" || fail "defaults applied"
kc apply -f "$KS_FIX/cr.yaml" | grep -q unchanged || fail "re-apply unchanged"
echo '{"apiVersion":"example.com/v1","kind":"Widget","metadata":{"name":"bad"},"spec":{"size":"x"}}' | kc apply -f - 2>&1 | grep -q 'spec.size in body must be of type integer' || fail "type validation"
echo '{"apiVersion":"example.com/v1","kind":"Widget","metadata":{"name":"bad"},"spec":{}}' | kc apply -f - 2>&1 | grep -q 'spec.size: Required value' || fail "required validation"
kc scale widget w1 --replicas=4 >/dev/null || fail "scale CR"
[ "$(kc get wd w1 -o jsonpath='{.spec.replicas}')" = 4 ] || fail "CR scale subresource"
kc patch wd w1 --type=merge -p '{"status":{"replicas":9}}' >/dev/null
[ -z "$(kc get wd w1 -o jsonpath='{.status.replicas}')" ] || fail "main resource write ignored .status"
kc patch wd w1 --subresource=status --type=merge -p '{"status":{"replicas":4},"spec":{"size":99}}' >/dev/null || fail "status patch"
[ "$(kc get wd w1 -o jsonpath='{.status.replicas}/{.spec.size}/{.metadata.generation}')" = "4/3/2" ] || fail "status write touched only status: $(kc get wd w1 -o jsonpath='{.status.replicas}/{.spec.size}/{.metadata.generation}')"
kc patch wd w1 -p '{"spec":{"size":5}}' 2>&1 | grep -qi "not supported" || fail "strategic patch on CR refused"
kc delete crd widgets.example.com >/dev/null || fail "delete CRD"
out=$(kc get widgets.example.com 2>&1)
echo "$out" | grep -qi "doesn't have a resource type\|could not find the requested resource" || fail "CR type gone after CRD delete: $out"
ok "CRD and custom resource: schema, defaults, status and scale subresources"

kc apply -f "$KS_FIX/deploy.yaml" >/dev/null || fail "apply deployment"
kc scale deployment/web --replicas=3 >/dev/null
kc rollout status deployment/web --timeout=30s >/dev/null || fail "rollout"
node=$(kc get pods -l app=web -o jsonpath='{.items[0].spec.nodeName}')
# a budget that allows nothing: minAvailable = all three
sed 's/minAvailable: 2/minAvailable: 3/' "$KS_FIX/pdb.yaml" | kc apply -f - >/dev/null || fail "apply PDB"
for i in $(seq 1 30); do [ "$(kc get pdb webpdb -o jsonpath='{.status.currentHealthy}')" = 3 ] && break; sleep 0.1; done
[ "$(kc get pdb webpdb -o jsonpath='{.status.disruptionsAllowed}')" = 0 ] || fail "PDB allows 0"
out=$(kc drain "$node" --ignore-daemonsets --timeout=3s 2>&1) && fail "drain should be blocked: $out"
echo "$out" | grep -q "global timeout reached\|disruption budget" || fail "drain blocked by PDB: $out"
[ "$(kc get node "$node" -o jsonpath='{.spec.unschedulable}')" = true ] || fail "node cordoned"
ok "drain blocked by PodDisruptionBudget"
kc apply -f "$KS_FIX/pdb.yaml" >/dev/null || fail "relax PDB"
kc drain "$node" --ignore-daemonsets --timeout=30s > "$TMP/drain" 2>&1 || { cat "$TMP/drain"; fail "drain after relaxing PDB"; }
grep -q "drained" "$TMP/drain" || fail "drained message"
[ -z "$(kc get pods -l app=web -o jsonpath="{.items[?(@.spec.nodeName==\"$node\")].metadata.name}")" ] || fail "no web pods left on $node"
kc rollout status deployment/web --timeout=30s >/dev/null || fail "replacements ready elsewhere"
ok "drain succeeded once the budget allowed it"
kc uncordon "$node" >/dev/null || fail "uncordon"
