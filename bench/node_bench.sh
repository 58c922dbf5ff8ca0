#!/usr/bin/env bash
# node_bench.sh - vigil-agent against prometheus-node-exporter on this
# machine, with the same 19 node collectors on both (the node_exporter
# compatible set: cpu stat meminfo loadavg vmstat pressure uname os time
# filefd sockstat netstat entropy diskstats filesystem netdev netclass hwmon
# thermal_zone), $SCRAPES (default 1000) interleaved scrapes of each after a
# warm-up, measured by bench/lib/scrapebench.py. Prints a markdown table
# for docs/benchmarks.md.
#
# Fairness: node_exporter runs with --web.disable-exporter-metrics (no Go
# runtime families), and both get the same filesystem mount-point and
# diskstats device filters (upstream node_exporter's; Debian's package
# also drops /run, /mnt and /media by default). vigil's own vigil_* and
# process_* families stay in its output.
# Targets: CPU per scrape <= 0.1x, median wall <= 0.2x node_exporter,
# vigil peak RSS <= 4 MiB.
set -euo pipefail
REPO=${REPO:-$(cd "$(dirname "$0")/.." && pwd)}
BIN=${BIN:-$REPO/bin}
SCRAPES=${SCRAPES:-1000}
AGENT=$BIN/vigil-agent
NE=${NODE_EXPORTER:-$(command -v prometheus-node-exporter || command -v node_exporter || true)}
[ -x "$AGENT" ] || { echo "node_bench: $AGENT not built (make first)"; exit 1; }
[ -n "$NE" ] || { echo "node_bench: prometheus-node-exporter not installed; nothing to compare with"; exit 0; }
command -v python3 >/dev/null || { echo "node_bench: python3 not found"; exit 1; }

COLLECTORS=${COLLECTORS:-"cpu stat meminfo loadavg vmstat pressure uname os time filefd sockstat netstat entropy diskstats filesystem netdev netclass hwmon thermal_zone"}
MP_EXCLUDE='^/(dev|proc|run/credentials/.+|sys|var/lib/docker/.+|var/lib/containers/storage/.+)($|/)'
DEV_EXCLUDE='^(z?ram|loop|fd|(h|s|v|xv)d[a-z]|nvme\d+n\d+p)\d+$'
flags=""
for c in $COLLECTORS; do flags="$flags --collector.$c"; done

q() { printf '%q' "$1"; }
vigil_cmd="$(q "$AGENT") --web.listen-address=127.0.0.1:{port} --log.level=warn --collector.disable-defaults $flags --collector.filesystem.mount-points-exclude=$(q "$MP_EXCLUDE") --collector.diskstats.device-exclude=$(q "$DEV_EXCLUDE")"
ne_cmd="$(q "$NE") --web.listen-address=127.0.0.1:{port} --log.level=warn --web.disable-exporter-metrics --collector.disable-defaults $flags --collector.filesystem.mount-points-exclude=$(q "$MP_EXCLUDE") --collector.diskstats.device-exclude=$(q "$DEV_EXCLUDE")"

echo "vigil-agent $("$AGENT" --version 2>&1 | head -1) vs $("$NE" --version 2>&1 | head -1); collectors: $COLLECTORS"
echo
python3 "$REPO/bench/lib/scrapebench.py" --label-a vigil --cmd-a "$vigil_cmd" \
    --label-b node_exporter --cmd-b "$ne_cmd" -n "$SCRAPES" --warmup 10 \
    --target-cpu 0.1 --target-wall 0.2 --target-rss-mib 4 --log "${BUILD:-/tmp}/node_bench.log"
