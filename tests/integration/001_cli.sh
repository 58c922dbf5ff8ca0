#!/usr/bin/env bash
# Flags, --help, --version and config errors (exit 2 naming file:line:column).
. "$(dirname "$0")/lib/common.sh"
for b in vigil-agent vigil-operator; do
  need_bin "$BIN/$b"
  "$BIN/$b" --help >"$TMP/help" 2>&1 || fail "$b --help exited non-zero"
  for opt in --web.listen-address --web.telemetry-path --log.level --log.format --config.file; do
    grep -q -- "$opt" "$TMP/help" || fail "$b --help lacks $opt"
  done
  grep -q -- "--log.level.*info" "$TMP/help" || grep -q "info" "$TMP/help" || fail "$b --help shows no defaults"
  "$BIN/$b" --version | grep -Eq "^$b version [^ ]+ \(revision [^)]+\)" || fail "$b --version format"

  set +e
  "$BIN/$b" --no-such-flag >"$TMP/out" 2>&1; rc=$?
  [ $rc -eq 2 ] || fail "$b unknown flag: exit $rc, want 2"
  grep -q "no-such-flag" "$TMP/out" || fail "$b unknown flag not named: $(cat "$TMP/out")"

  printf 'web:\n  listen-address: "127.0.0.1:0"\n  bogus-key: 1\n' >"$TMP/bad.yaml"
  "$BIN/$b" --config.file="$TMP/bad.yaml" >"$TMP/out" 2>&1; rc=$?
  [ $rc -eq 2 ] || fail "$b unknown key: exit $rc, want 2"
  grep -q "$TMP/bad.yaml:3:[0-9]*:.*bogus-key" "$TMP/out" || fail "$b unknown key message: $(cat "$TMP/out")"

  printf 'web:\n  max-connections: many\n' >"$TMP/type.yaml"
  "$BIN/$b" --config.file="$TMP/type.yaml" >"$TMP/out" 2>&1; rc=$?
  [ $rc -eq 2 ] || fail "$b wrong type: exit $rc, want 2"
  grep -q "$TMP/type.yaml:2:[0-9]*:" "$TMP/out" || fail "$b wrong type message: $(cat "$TMP/out")"

  "$BIN/$b" --log.level=loud >"$TMP/out" 2>&1; rc=$?
  [ $rc -eq 2 ] || fail "$b bad log level: exit $rc, want 2"
  set -e
  ok "$b flags and config errors"
done

# docs/flags.md is generated from --help; it must not drift from the binaries
BIN="$BIN" OUT="$TMP/flags.md" bash "$REPO/scripts/gen-flags-doc.sh" >/dev/null
diff -u "$REPO/docs/flags.md" "$TMP/flags.md" >"$TMP/flags.diff" ||
  fail "docs/flags.md is stale; run scripts/gen-flags-doc.sh: $(head -20 "$TMP/flags.diff")"
ok "docs/flags.md matches --help"
