#!/usr/bin/env bash
# A real Prometheus server scrapes both binaries for about 20 s; its HTTP
# API must report up == 1 and no scrape errors for both targets.
. "$(dirname "$0")/lib/common.sh"
need prometheus
need_bin "$BIN/vigil-agent"; need_bin "$BIN/vigil-operator"
pa=$(free_port); po=$(free_port); pp=$(free_port)
start "$TMP/agent.log" "$BIN/vigil-agent" --web.listen-address=127.0.0.1:$pa
start "$TMP/op.log" env -u KUBERNETES_SERVICE_HOST "$BIN/vigil-operator" --web.listen-address=127.0.0.1:$po
wait_http "http://127.0.0.1:$pa/healthz" || fail "agent did not start"
wait_http "http://127.0.0.1:$po/healthz" || fail "operator did not start"
cat >"$TMP/prom.yml" <<Y
global:
  scrape_interval: 2s
  scrape_timeout: 1s
scrape_configs:
  - job_name: vigil-agent
    static_configs: [{targets: ["127.0.0.1:$pa"]}]
  - job_name: vigil-operator
    static_configs: [{targets: ["127.0.0.1:$po"]}]
Y
start "$TMP/prom.log" prometheus --config.file="$TMP/prom.yml" --storage.tsdb.path="$TMP/data" \
  --web.listen-address=127.0.0.1:$pp
wait_http "http://127.0.0.1:$pp/-/ready" 30 || fail "prometheus did not start: $(tail -5 "$TMP/prom.log")"
sleep 20
curl -s "http://127.0.0.1:$pp/api/v1/targets" >"$TMP/targets.json"
python3 - "$TMP/targets.json" <<'PY' || fail "targets: $(cat "$TMP/targets.json")"
import json,sys
t=json.load(open(sys.argv[1]))['data']['activeTargets']
jobs={x['labels']['job']:x for x in t}
for j in ('vigil-agent','vigil-operator'):
    x=jobs[j]
    assert x['health']=='up', (j, x['health'], x['lastError'])
    assert x['lastError']=='', (j, x['lastError'])
    print(j, 'up, last scrape', x['lastScrapeDuration'], 's')
PY
q() { curl -s "http://127.0.0.1:$pp/api/v1/query" --data-urlencode "query=$1"; }
for job in vigil-agent vigil-operator; do
  q "min_over_time(up{job=\"$job\"}[1m])" | grep -q '"value":\[[0-9.]*,"1"\]' || fail "$job was not up for the whole run: $(q "up{job=\"$job\"}")"
  n=$(q "count_over_time(up{job=\"$job\"}[1m])" | python3 -c 'import json,sys;print(json.load(sys.stdin)["data"]["result"][0]["value"][1])')
  [ "$n" -ge 5 ] || fail "$job scraped only $n times"
  # Prometheus counts samples it rejected (duplicates, out of order) per target
  q "scrape_samples_post_metric_relabeling{job=\"$job\"}" | grep -q '"value"' || fail "no sample count for $job"
done
curl -s "http://127.0.0.1:$pp/metrics" | grep -E '^prometheus_target_scrapes_sample_(duplicate_timestamp|out_of_order|out_of_bounds)_total ' | awk '$2 != 0 {print; bad=1} END {exit bad}' || fail "Prometheus rejected samples"
ok "prometheus scraped both targets with up == 1 and no errors"
