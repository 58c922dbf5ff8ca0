#!/usr/bin/env bash
# Both watch transports trust only the kubeconfig's CA: an API server whose
# certificate another CA signed is refused (the operator never gets ready,
# and says why); client-certificate auth and insecure-skip-tls-verify work
# over both. The WebSocket transport builds its own OpenSSL context
# (libvigil/kube/kube_tls.c), so this is its end-to-end check.
. "$(dirname "$0")/lib/common.sh"
need_bin "$BIN/vigil-operator"; need_bin "$BIN/kubesim"; need python3

for s in a b; do
  port=$(free_port)
  start "$TMP/kubesim-$s.log" "$BIN/kubesim" --listen=127.0.0.1:$port --kubeconfig-out="$TMP/kc-$s.yaml"
done
for i in $(seq 1 100); do [ -s "$TMP/kc-a.yaml" ] && [ -s "$TMP/kc-b.yaml" ] && break; sleep 0.1; done
[ -s "$TMP/kc-a.yaml" ] && [ -s "$TMP/kc-b.yaml" ] || fail "kubesim wrote no kubeconfig"

# kc-wrongca: server a, CA of b. kc-insecure: server a, no CA, skip verify.
python3 - "$TMP" <<'PY'
import re, sys
d = sys.argv[1]
a = open(f"{d}/kc-a.yaml").read()
b = open(f"{d}/kc-b.yaml").read()
ca_b = re.search(r"certificate-authority-data: (\S+)", b).group(1)
open(f"{d}/kc-wrongca.yaml", "w").write(re.sub(r"certificate-authority-data: \S+", "certificate-authority-data: " + ca_b, a))
open(f"{d}/kc-insecure.yaml", "w").write(re.sub(r"certificate-authority-data: \S+", "insecure-skip-tls-verify: true", a))
PY

run_op() { # name kubeconfig transport [extra flags]
  local name=$1 kc=$2 tr=$3; shift 3
  OP_PORT=$(free_port)
  start "$TMP/op-$name.log" "$BIN/vigil-operator" --kubeconfig="$kc" --web.listen-address=127.0.0.1:$OP_PORT \
    --kube.watch-transport=$tr --leader-elect=false --kube.backoff-max=1s "$@"
  OP_PID=$LAST_PID
  wait_http "http://127.0.0.1:$OP_PORT/healthz" || fail "$name: operator did not start"
}
ready() { [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$OP_PORT/readyz")" = 200 ]; }
wait_ready() { for i in $(seq 1 100); do ready && return 0; sleep 0.1; done; return 1; }
stop_op() { kill "$OP_PID"; wait "$OP_PID" 2>/dev/null; }

for tr in http websocket; do
  run_op "wrongca-$tr" "$TMP/kc-wrongca.yaml" $tr
  sleep 3
  ready && fail "$tr: ready against a server signed by another CA"
  grep -Eiq 'certificate' "$TMP/op-wrongca-$tr.log" ||
    fail "$tr: refused, but the log does not say why: $(tail -3 "$TMP/op-wrongca-$tr.log")"
  stop_op
  ok "$tr: a server signed by another CA is refused"

  run_op "cert-$tr" "$TMP/kc-a.yaml" $tr --context=kubesim-cert
  wait_ready || fail "$tr: client-certificate auth never got ready: $(tail -3 "$TMP/op-cert-$tr.log")"
  stop_op
  ok "$tr: client-certificate auth"

  run_op "insecure-$tr" "$TMP/kc-insecure.yaml" $tr
  wait_ready || fail "$tr: insecure-skip-tls-verify never got ready: $(tail -3 "$TMP/op-insecure-$tr.log")"
  stop_op
  ok "$tr: insecure-skip-tls-verify"
done
