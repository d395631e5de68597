#!/usr/bin/env bash
# reel-bench against a real 4-validator network for a few seconds, with its default
# transaction mix (extractions, two-step transfers, separations, licence applications):
# every kind must have committed, with zero errors, and the last line must be in its
# exact format. No speed is asserted (benchmarks print figures; tests do not time
# things).
# Usage: bench_test.sh BUILD_DIR
set -uo pipefail
default_port=29800
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
unset REEL_BENCH_MIX REEL_BENCH_RATE REEL_BENCH_THREADS
out="$("$testnet/bench.sh" 6)" || { echo "FAIL: bench.sh: $out"; cat "$REEL_RUN_DIR/bench.log"; exit 1; }
echo "$out"
line="$(echo "$out" | tail -1)"
echo "$line" | grep -Eq '^tps=[0-9]+ p50_ms=[0-9]+ p99_ms=[0-9]+ committed=[0-9]+ errors=[0-9]+$' \
  || { echo "FAIL: last line not in the promised format"; exit 1; }
committed="$(echo "$line" | sed -E 's/.*committed=([0-9]+).*/\1/')"
errors="$(echo "$line" | sed -E 's/.*errors=([0-9]+).*/\1/')"
[ "$committed" -gt 0 ] || { echo "FAIL: nothing committed"; exit 1; }
[ "$errors" -eq 0 ] || { echo "FAIL: $errors errors"; cat "$REEL_RUN_DIR/bench.log"; exit 1; }
for kind in extract transfer process licence; do
  echo "$out" | grep -Eq "^kind=$kind submitted=[0-9]+ committed=[1-9][0-9]* errors=0 " \
    || { echo "FAIL: no $kind committed without errors"; exit 1; }
done
echo "reel-bench test passed"
