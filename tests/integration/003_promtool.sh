#!/usr/bin/env bash
# promtool check metrics on both binaries' /metrics: no parse error, and no
# lint finding on the families Vigil names itself (vigil_*, process_*).
# node_exporter-compatible families keep node_exporter's names even where
# promtool's lint dislikes them (camelCase meminfo/netstat names).
. "$(dirname "$0")/lib/common.sh"
need promtool
need_bin "$BIN/vigil-agent"; need_bin "$BIN/vigil-operator"
pa=$(free_port); po=$(free_port)
start "$TMP/agent.log" "$BIN/vigil-agent" --web.listen-address=127.0.0.1:$pa
start "$TMP/op.log" env -u KUBERNETES_SERVICE_HOST "$BIN/vigil-operator" --web.listen-address=127.0.0.1:$po
wait_http "http://127.0.0.1:$pa/healthz" || fail "agent did not start"
wait_http "http://127.0.0.1:$po/healthz" || fail "operator did not start"
for port in $pa $po; do
  curl -s "http://127.0.0.1:$port/healthz" >/dev/null
  curl -s "http://127.0.0.1:$port/metrics" >"$TMP/m.txt"
  set +e
  promtool check metrics <"$TMP/m.txt" >"$TMP/lint" 2>&1; rc=$?
  set -e
  [ $rc -eq 0 ] || [ $rc -eq 3 ] || fail "promtool parse error (rc=$rc) on $port: $(head -5 "$TMP/lint")"
  if grep -E '^(vigil_|process_)' "$TMP/lint"; then fail "lint findings on our own families"; fi
  # OpenMetrics output must parse too
  curl -s -H 'Accept: application/openmetrics-text;version=1.0.0' "http://127.0.0.1:$port/metrics" >"$TMP/om.txt"
  python3 - "$TMP/om.txt" <<'PY' || fail "OpenMetrics structure"
import sys,re
lines=open(sys.argv[1]).read().split('\n')
assert lines[-1]=='' and lines[-2]=='# EOF', 'no trailing # EOF'
seen=set()
for l in lines[:-2]:
    if l.startswith('# TYPE '):
        n=l.split()[2]; assert n not in seen, 'duplicate TYPE '+n; seen.add(n)
        assert not (l.endswith(' counter') and n.endswith('_total')), 'counter family named _total: '+n
PY
  ok "promtool on port $port ($(wc -l <"$TMP/m.txt") lines, $(wc -l <"$TMP/lint") lint lines on compat families)"
done
