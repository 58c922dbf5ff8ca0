#!/usr/bin/env bash
# Install everything Vigil needs to build, test and run from Debian packages.
# Idempotent; works as root or through sudo. Used by `make deps` and CI.
set -euo pipefail

PKGS=(
  build-essential pkg-config make git ca-certificates curl python3
  libcurl4-openssl-dev libyaml-dev libjson-c-dev libwebsockets-dev libssl-dev zlib1g-dev
  libcmocka-dev
  clang libclang-rt-14-dev            # libFuzzer targets and sanitizers
  fuse3 libfuse3-dev                  # the hung-mount test's FUSE filesystem
  prometheus                          # promtool and a real Prometheus server for tests
  prometheus-node-exporter            # the tool we replace, side by side in tests and bench
  prometheus-alertmanager
  procps iproute2
)

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "install-deps: need root or sudo" >&2; exit 1; fi
fi

missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -eq 0 ]; then
  echo "install-deps: all ${#PKGS[@]} packages present"
  exit 0
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# Services in these packages must not start on their own (they would take
# the ports our tests use); policy-rc.d 101 tells invoke-rc.d not to.
created_policy=0
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
  $SUDO chmod +x /usr/sbin/policy-rc.d
  created_policy=1
fi
trap '[ "$created_policy" = 1 ] && $SUDO rm -f /usr/sbin/policy-rc.d' EXIT
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
echo "install-deps: done"
