#!/usr/bin/env bash
# The README's test command: installs what is missing, builds, runs every CI-tier
# test through CTest, then builds the fuzz targets with clang into build-fuzz/
# ($REEL_FUZZ_BUILD_DIR) and runs each for a short time (label "fuzz"), and exits
# non-zero on any failure.
#   REEL_TEST_TIER=long ./tests/run.sh   also runs the long tier (label "long").
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/tests/build.sh"
build="${REEL_BUILD_DIR:-$root/build}"
cd "$build"
label_args=(-LE long)
if [ "${REEL_TEST_TIER:-ci}" = "long" ]; then label_args=(); fi
failed=0
ctest --output-on-failure --timeout 1500 -j "${REEL_JOBS:-2}" "${label_args[@]}" || failed=1

# libFuzzer with ASan and UBSan (TESTING.md row 12): only the fuzz targets and the
# libraries they need are built there. Being the one clang build, it also builds the
# daemon library and reel-bench (not run), so that -Werror=thread-safety checks the
# locking base/mutex.h annotates there too; the fuzz targets already reach the rest.
fuzz_build="${REEL_FUZZ_BUILD_DIR:-$root/build-fuzz}"
cmake -S "$root" -B "$fuzz_build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ -DREEL_FUZZ=ON -DREEL_BUILD_BENCHMARKS=OFF
cmake --build "$fuzz_build" -j "${REEL_JOBS:-2}" --target reel_fuzz reel_daemon reel-bench
(cd "$fuzz_build" && ctest --output-on-failure -j "${REEL_JOBS:-2}" -L fuzz) || failed=1
exit "$failed"
