#!/usr/bin/env bash
# The README's test command: installs what is missing, builds, runs every CI-tier
# test through CTest, and exits non-zero on any failure.
#   REEL_TEST_TIER=long ./tests/run.sh   also runs the long tier (label "long").
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/tests/build.sh"
build="${REEL_BUILD_DIR:-$root/build}"
cd "$build"
label_args=(-LE long)
if [ "${REEL_TEST_TIER:-ci}" = "long" ]; then label_args=(); fi
ctest --output-on-failure --timeout 1500 -j "${REEL_JOBS:-2}" "${label_args[@]}"
