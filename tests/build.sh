#!/usr/bin/env bash
# Configures and builds REEL into build/ with two jobs (the machine has two cores).
# Usage: tests/build.sh [TARGET...]  (no target: everything, tests included)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/tests/deps.sh"
build="${REEL_BUILD_DIR:-$root/build}"
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE="${REEL_BUILD_TYPE:-RelWithDebInfo}" \
  -DREEL_WERROR=ON ${REEL_CMAKE_ARGS:-}
targets=()
for t in "$@"; do targets+=(--target "$t"); done
cmake --build "$build" -j "${REEL_JOBS:-2}" "${targets[@]}"
