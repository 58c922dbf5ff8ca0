#!/usr/bin/env bash
# test: serial
# A hung FUSE mount (tests/helpers/hangfs: statfs blocks while a flag file
# exists) must not block scrapes or leak threads: with a 1 s mount timeout
# every scrape returns well under 2 s, the hung mount shows
# node_filesystem_device_error 1 while the other filesystems are still
# reported, the agent's thread count stays bounded, and once the mount
# answers again it is reported normally. Needs /dev/fuse and root (or
# fusermount3); skips otherwise.
. "$(dirname "$0")/lib/common.sh"
need_bin "$BIN/vigil-agent"
HANGFS="$BUILD/tests/helpers/hangfs"
[ -x "$HANGFS" ] || skip "hangfs helper not built ($HANGFS; needs libfuse3-dev)"
[ -c /dev/fuse ] && [ -r /dev/fuse ] && [ -w /dev/fuse ] || skip "/dev/fuse unavailable"
need curl

mnt="$TMP/hung mnt"   # a space, to exercise mountinfo escaping end to end
flag="$TMP/hang.flag"
mkdir -p "$mnt"
touch "$flag"

fs_cleanup() {
  rm -f "$flag"   # lets any blocked statfs return first
  fusermount3 -u -z "$mnt" 2>/dev/null || umount -l "$mnt" 2>/dev/null
  cleanup
}
trap fs_cleanup EXIT

start "$TMP/hangfs.log" "$HANGFS" "$mnt" "$flag"; hpid=$LAST_PID
mounted=0
for _ in $(seq 1 100); do
  if grep -q ' fuse.hangfs ' /proc/self/mountinfo && grep -q "hung\\\\040mnt" /proc/self/mountinfo; then
    mounted=1; break
  fi
  kill -0 "$hpid" 2>/dev/null || break
  sleep 0.05
done
if [ $mounted = 0 ]; then
  wait "$hpid" 2>/dev/null; rc=$?
  [ $rc = 77 ] && skip "$(cat "$TMP/hangfs.log")"
  skip "mounting the FUSE test filesystem failed (not root?): $(head -3 "$TMP/hangfs.log")"
fi

port=$(free_port)
url="http://127.0.0.1:$port/metrics"
start "$TMP/agent.log" "$BIN/vigil-agent" --web.listen-address=127.0.0.1:$port \
  --collector.disable-defaults --collector.filesystem \
  --collector.filesystem.mount-timeout=1s --collector.filesystem.stat-workers=4
apid=$LAST_PID
wait_http "http://127.0.0.1:$port/healthz" || fail "agent did not start: $(cat "$TMP/agent.log")"

threads() { awk '/^Threads:/ {print $2}' "/proc/$apid/status"; }
mp_re=$(printf '%s' "$mnt" | sed 's/[.[\*^$/]/\\&/g')

max_threads=0; first_threads=0
for i in $(seq 1 8); do
  t=$(curl -s -o "$TMP/m$i" -w '%{time_total}' --max-time 10 "$url") || fail "scrape $i failed"
  awk -v t="$t" 'BEGIN { exit !(t < 1.8) }' || fail "scrape $i took ${t}s with a hung mount"
  grep -q "^node_filesystem_device_error{device=\"hangfs\",fstype=\"fuse.hangfs\",mountpoint=\"$mp_re\"} 1$" "$TMP/m$i" ||
    fail "scrape $i: hung mount not reported as device_error 1: $(grep hangfs "$TMP/m$i")"
  grep -q "^node_filesystem_size_bytes{device=\"hangfs\"" "$TMP/m$i" && fail "scrape $i: size of the hung mount"
  grep -q '^node_filesystem_size_bytes{.*mountpoint="/"}' "$TMP/m$i" ||
    fail "scrape $i: the root filesystem is no longer reported"
  grep -q '^node_scrape_collector_success{collector="filesystem"} 1$' "$TMP/m$i" || fail "scrape $i: collector failed"
  n=$(threads)
  [ "$i" = 1 ] && first_threads=$n
  [ "$n" -gt "$max_threads" ] && max_threads=$n
  echo "scrape $i: ${t}s, $n threads"
done
# The hung statfs holds one worker; the other slots are reused. Four
# workers at most, so the count cannot exceed what it was after the
# first scrape by more than the three slots not started yet.
[ "$max_threads" -le $((first_threads + 3)) ] || fail "threads grew from $first_threads to $max_threads"
[ "$(threads)" -le "$max_threads" ] || fail "threads still growing"
[ "$(pgrep -c -f "$HANGFS" || true)" -ge 1 ] || fail "hangfs died"
grep -q 'statfs timed out' "$TMP/agent.log" || fail "no warning about the hung mount: $(cat "$TMP/agent.log")"
[ "$(grep -c 'statfs timed out' "$TMP/agent.log")" = 1 ] || fail "the hung mount was retried while stuck"
ok "8 scrapes with a hung mount, threads $first_threads..$max_threads"

# Release the hang: the stuck worker returns and the mount is reported again.
rm -f "$flag"
for _ in $(seq 1 50); do
  curl -s --max-time 5 "$url" >"$TMP/after" || true
  grep -q "^node_filesystem_device_error{device=\"hangfs\",fstype=\"fuse.hangfs\",mountpoint=\"$mp_re\"} 0$" "$TMP/after" && break
  sleep 0.1
done
grep -q "^node_filesystem_device_error{device=\"hangfs\",fstype=\"fuse.hangfs\",mountpoint=\"$mp_re\"} 0$" "$TMP/after" ||
  fail "the mount did not recover: $(grep hangfs "$TMP/after")"
grep -q "^node_filesystem_size_bytes{device=\"hangfs\",fstype=\"fuse.hangfs\",mountpoint=\"$mp_re\"} 4194304$" "$TMP/after" ||
  fail "recovered mount has no size: $(grep hangfs "$TMP/after")"
ok "mount recovered once statfs answered"
