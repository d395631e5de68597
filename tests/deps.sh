#!/usr/bin/env bash
# Installs the Debian 12 packages REEL builds and runs with, when any is missing.
# Sourced or run by tests/run.sh and testnet/demo.sh; fast when all are present.
set -euo pipefail

REEL_PACKAGES=(
  build-essential cmake pkg-config git
  libasio-dev libsodium-dev libleveldb-dev libsnappy-dev libjemalloc-dev
  libprotobuf-dev protobuf-compiler libgrpc++-dev protobuf-compiler-grpc libssl-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  clang libclang-rt-14-dev clang-format
  libtomlplusplus-dev libspdlog-dev libcli11-dev libcpp-httplib-dev nlohmann-json3-dev
  openssl graphviz iproute2 nftables procps curl jq
)

missing=()
for p in "${REEL_PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -gt 0 ]; then
  echo "reel: installing missing Debian packages: ${missing[*]}"
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  $SUDO apt-get update
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends "${missing[@]}"
fi
