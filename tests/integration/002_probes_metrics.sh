#!/usr/bin/env bash
# Probes (kube-apiserver style), /metrics content negotiation and gzip, for
# both binaries; the operator runs without any Kubernetes API.
. "$(dirname "$0")/lib/common.sh"
need_bin "$BIN/vigil-agent"; need_bin "$BIN/vigil-operator"
pa=$(free_port); po=$(free_port)
start "$TMP/agent.log" "$BIN/vigil-agent" --web.listen-address=127.0.0.1:$pa; apid=$LAST_PID
start "$TMP/op.log" env -u KUBERNETES_SERVICE_HOST -u KUBECONFIG "$BIN/vigil-operator" --web.listen-address=127.0.0.1:$po; opid=$LAST_PID
wait_http "http://127.0.0.1:$pa/healthz" || fail "agent did not start: $(cat "$TMP/agent.log")"
wait_http "http://127.0.0.1:$po/healthz" || fail "operator did not start: $(cat "$TMP/op.log")"

for port in $pa $po; do
  for p in healthz livez; do
    body=$(curl -s -w ' %{http_code}' "http://127.0.0.1:$port/$p")
    [ "$body" = "ok 200" ] || fail "$port /$p: $body"
    v=$(curl -s "http://127.0.0.1:$port/$p?verbose")
    echo "$v" | grep -q '^\[+\]loop ok$' || fail "/$p?verbose lacks loop check: $v"
    echo "$v" | grep -q "$p check passed" || fail "/$p?verbose lacks verdict: $v"
  done
  ct=$(curl -s -o /dev/null -w '%{content_type}' "http://127.0.0.1:$port/metrics")
  [ "$ct" = "text/plain; version=0.0.4; charset=utf-8" ] || fail "content type: '$ct'"
  curl -s "http://127.0.0.1:$port/metrics" | grep -q '^vigil_build_info{version="[^"]*",revision="[^"]*"} 1$' || fail "no vigil_build_info"
  for m in process_cpu_seconds_total process_resident_memory_bytes process_virtual_memory_bytes process_open_fds process_max_fds process_start_time_seconds; do
    curl -s "http://127.0.0.1:$port/metrics" | grep -q "^$m " || fail "$port lacks $m"
  done
  om=$(curl -s -D "$TMP/h" -H 'Accept: application/openmetrics-text;version=1.0.0' "http://127.0.0.1:$port/metrics")
  grep -qi '^content-type: application/openmetrics-text; version=1.0.0; charset=utf-8' "$TMP/h" || fail "OpenMetrics content type: $(cat "$TMP/h")"
  [ "$(echo "$om" | tail -1)" = "# EOF" ] || fail "OpenMetrics output does not end in # EOF"
  curl -s "http://127.0.0.1:$port/metrics" | grep -q '^# EOF' && fail "# EOF in text format"
  curl -s -D "$TMP/h" -o "$TMP/gz" -H 'Accept-Encoding: gzip' "http://127.0.0.1:$port/metrics"
  grep -qi '^content-encoding: gzip' "$TMP/h" || fail "no gzip with Accept-Encoding: gzip"
  gzip -dc "$TMP/gz" | grep -q '^vigil_build_info' || fail "gzip body does not decode"
  curl -s -D "$TMP/h" -o /dev/null -H 'Accept-Encoding: gzip;q=0' "http://127.0.0.1:$port/metrics"
  grep -qi '^content-encoding' "$TMP/h" && fail "gzip despite q=0"
done
ok "probes and metrics on both"

# agent: ready once the first collection finished
for i in $(seq 1 50); do
  [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$pa/readyz")" = 200 ] && break; sleep 0.1
done
curl -s "http://127.0.0.1:$pa/readyz?verbose" | grep -q '^\[+\]first-collection ok' || fail "agent not ready"
curl -s "http://127.0.0.1:$pa/metrics" | grep -q '^vigil_http_requests_total{handler="healthz",code="200"} [1-9]' || fail "requests not counted"
curl -s "http://127.0.0.1:$pa/metrics" | grep -q '^vigil_http_request_duration_seconds_bucket{handler="metrics",le="+Inf"}' || fail "no duration histogram"

# operator: not ready without an API, says why, keeps running
code=$(curl -s -o "$TMP/r" -w '%{http_code}' "http://127.0.0.1:$po/readyz?verbose")
[ "$code" = 500 ] || fail "operator /readyz: $code, want 500"
grep -q '^\[-\]kubernetes-api failed: .*' "$TMP/r" || fail "operator readyz reason: $(cat "$TMP/r")"
grep -q 'level=warn.*not ready' "$TMP/op.log" || fail "operator did not log why: $(cat "$TMP/op.log")"
kill -0 $opid || fail "operator exited"
ok "readiness"
