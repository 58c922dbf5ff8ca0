#!/usr/bin/env bash
# SIGTERM: stop accepting, finish in-flight, exit 0 within 5 s.
# SIGHUP: reload a valid file; reject a broken one naming file:line:column.
. "$(dirname "$0")/lib/common.sh"
for b in vigil-agent vigil-operator; do
  need_bin "$BIN/$b"
  port=$(free_port)
  cat >"$TMP/c.yaml" <<Y
web:
  listen-address: "127.0.0.1:$port"
log:
  level: info
Y
  start "$TMP/$b.log" "$BIN/$b" --config.file="$TMP/c.yaml"; pid=$LAST_PID
  wait_http "http://127.0.0.1:$port/healthz" || fail "$b did not start: $(cat "$TMP/$b.log")"

  # valid reload: switch to JSON logs
  sed -i 's/level: info/level: debug\n  format: json/' "$TMP/c.yaml"
  kill -HUP $pid
  for i in $(seq 1 40); do grep -q '"msg":"config reloaded"' "$TMP/$b.log" && break; sleep 0.05; done
  grep -q '"msg":"config reloaded"' "$TMP/$b.log" || fail "$b: valid reload not applied: $(tail -3 "$TMP/$b.log")"
  curl -s "http://127.0.0.1:$port/metrics" | grep -q '^vigil_config_last_reload_successful 1' || fail "$b reload gauge"

  # broken reload: keeps serving, logs file:line:col, gauge 0
  printf 'web:\n  listen-address: "127.0.0.1:%s"\nlog:\n  level: [unterminated\n' "$port" >"$TMP/c.yaml"
  kill -HUP $pid
  for i in $(seq 1 40); do grep -q 'config reload failed' "$TMP/$b.log" && break; sleep 0.05; done
  grep 'config reload failed' "$TMP/$b.log" | grep -q "$TMP/c.yaml:[0-9]*:[0-9]*" || fail "$b: broken reload not reported with position: $(tail -3 "$TMP/$b.log")"
  [ "$(curl -s "http://127.0.0.1:$port/healthz")" = ok ] || fail "$b stopped serving after a bad reload"
  curl -s "http://127.0.0.1:$port/metrics" | grep -q '^vigil_config_last_reload_successful 0' || fail "$b reload gauge after failure"
  curl -s "http://127.0.0.1:$port/metrics" | grep -q '^vigil_config_reloads_total{result="failure"} 1' || fail "$b failure count"

  # SIGTERM with an idle keep-alive client and a slow client connected
  python3 - "$port" <<'PY' &
import socket,sys,time
s=socket.create_connection(("127.0.0.1",int(sys.argv[1]))); s.send(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
time.sleep(8)
PY
  slow=$!; PIDS+=("$slow")
  sleep 0.3
  t0=$(date +%s%N)
  kill -TERM $pid
  set +e
  wait $pid; rc=$?
  set -e
  dt=$(( ($(date +%s%N) - t0) / 1000000 ))
  [ $rc -eq 0 ] || fail "$b exit code $rc after SIGTERM"
  [ $dt -lt 5000 ] || fail "$b took $dt ms to exit"
  grep -q 'shutting down' "$TMP/$b.log" || fail "$b did not log shutdown"
  ok "$b: reload ok/broken, SIGTERM exit 0 in $dt ms"
done
