#!/usr/bin/env bash
# test: serial
# Side by side with the real node_exporter on this machine: both run the
# same node collectors (those vigil has of the list below) on loopback
# ports and are scraped node_exporter -> vigil -> node_exporter; then
# lib/promcompare.py checks, for every node_* family, the TYPE, label
# names, series and values (static gauges equal, counters between the two
# node_exporter scrapes, fast gauges present), and that vigil emits every
# family node_exporter does (bar a commented allowlist in promcompare.py).
. "$(dirname "$0")/lib/common.sh"
need_bin "$BIN/vigil-agent"
need python3
NE=$(command -v prometheus-node-exporter || command -v node_exporter || true)
[ -n "$NE" ] || skip "prometheus-node-exporter not installed"

wanted="cpu stat meminfo loadavg vmstat pressure uname os time filefd sockstat netstat entropy
        diskstats filesystem netdev netclass hwmon thermal_zone"
"$BIN/vigil-agent" --help >"$TMP/help" 2>&1 || true
have=""
for c in $wanted; do
  grep -Eq -- "--(\[no-\])?collector\.$c( |=|$)" "$TMP/help" && have="$have $c"
done
[ -n "$have" ] || skip "vigil-agent has none of the node collectors yet"
missing=""
for c in $wanted; do case " $have " in *" $c "*) ;; *) missing="$missing $c" ;; esac; done
[ -n "$missing" ] && echo "  not compared (vigil lacks them):$missing"
echo "  comparing:$have"

ne_args=(--collector.disable-defaults --web.disable-exporter-metrics)
vg_args=(--collector.disable-defaults)
for c in $have; do ne_args+=(--collector."$c"); vg_args+=(--collector."$c"); done

# Compare code, not defaults: where both have the same filter option
# (device/mount/field include-exclude patterns), give vigil node_exporter's
# default, which distributions patch (Debian's excludes /run, /mnt, /media).
"$NE" --help >"$TMP/ne-help" 2>&1 || true
python3 - "$TMP/ne-help" "$TMP/help" "$have" >"$TMP/align" <<'PY' || fail "could not read option defaults"
import re, sys
ne, vg, have = open(sys.argv[1]).read(), open(sys.argv[2]).read(), sys.argv[3].split()
for m in re.finditer(r'--collector\.([a-z_]+)\.([a-z-]+)="((?:[^"\\]|\\.)*)"', ne):
    c, opt, val = m.group(1), m.group(2), m.group(3)
    if c not in have or not re.search(r'(exclude|include|ignored-devices|fields)$', opt):
        continue
    if not re.search(r'--collector\.%s\.%s[= ]' % (c, re.escape(opt)), vg):
        continue
    print("--collector.%s.%s=%s" % (c, opt, re.sub(r'\\(.)', r'\1', val)))
PY
while IFS= read -r a; do vg_args+=("$a"); echo "  vigil $a (node_exporter's default)"; done <"$TMP/align"

pn=$(free_port); pv=$(free_port)
start "$TMP/ne.log" "$NE" --web.listen-address=127.0.0.1:$pn "${ne_args[@]}"
start "$TMP/vg.log" "$BIN/vigil-agent" --web.listen-address=127.0.0.1:$pv "${vg_args[@]}"
wait_http "http://127.0.0.1:$pn/metrics" 15 || fail "node_exporter did not start: $(tail -5 "$TMP/ne.log")"
wait_http "http://127.0.0.1:$pv/metrics" 15 || fail "vigil-agent did not start: $(tail -5 "$TMP/vg.log")"

scrape() { curl -sf --max-time 20 "http://127.0.0.1:$1/metrics" >"$2" || fail "scrape of port $1 failed"; }
# One warm-up scrape each, so first-scrape effects do not count.
scrape $pn "$TMP/warm-ne.prom"; scrape $pv "$TMP/warm-vg.prom"
scrape $pn "$TMP/ne1.prom"
scrape $pv "$TMP/vg.prom"
scrape $pn "$TMP/ne2.prom"

if ! python3 "$REPO/tests/integration/lib/promcompare.py" "$TMP/ne1.prom" "$TMP/vg.prom" "$TMP/ne2.prom"; then
  fail "vigil-agent differs from node_exporter (collectors:$have)"
fi
ok "vigil-agent matches node_exporter for:$have"
