#!/usr/bin/env bash
# Golden outputs of the node collectors on fixture host trees:
# tests/fixtures/hosts/<scenario>/golden/<collector>.prom is the exact output
# of `vigil-agent --once --collector.disable-defaults --collector.<collector>`
# on that tree, without node_scrape_collector_duration_seconds lines.
# UPDATE_GOLDEN=1 rewrites them (review the diff before committing).
. "$(dirname "$0")/lib/common.sh"
need_bin "$BIN/vigil-agent"
n=0; bad=0
for g in "$REPO"/tests/fixtures/hosts/*/golden/*.prom; do
  [ -e "$g" ] || continue
  sdir=$(dirname "$(dirname "$g")"); c=$(basename "$g" .prom)
  "$BIN/vigil-agent" --once --collector.disable-defaults --collector."$c" \
    --path.procfs="$sdir/proc" --path.sysfs="$sdir/sys" --path.rootfs="$sdir/root" \
    --path.udev.data="$sdir/udev" 2>"$TMP/err" | grep -v '^node_scrape_collector_duration_seconds' >"$TMP/out" || true
  if [ "${UPDATE_GOLDEN:-}" = 1 ]; then cp "$TMP/out" "$g"; fi
  if ! diff -u "$g" "$TMP/out" >"$TMP/diff"; then
    echo "golden mismatch: ${g#$REPO/}"; head -30 "$TMP/diff"; bad=$((bad + 1))
  fi
  n=$((n + 1))
done
[ $n -gt 0 ] || skip "no golden files yet"
[ $bad -eq 0 ] || fail "$bad of $n golden files differ"
ok "$n golden files match"
