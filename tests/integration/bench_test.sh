#!/usr/bin/env bash
# reel-bench against a real 4-validator network for a few seconds: it must report
# committed transactions and zero errors in its exact last-line format. No speed is
# asserted (benchmarks print figures; tests do not time things).
# Usage: bench_test.sh BUILD_DIR
set -uo pipefail
default_port=29800
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
line="$("$testnet/bench.sh" 4)" || { echo "FAIL: bench.sh: $line"; exit 1; }
echo "$line"
echo "$line" | grep -Eq '^tps=[0-9]+ p50_ms=[0-9]+ p99_ms=[0-9]+ committed=[0-9]+ errors=[0-9]+$' \
  || { echo "FAIL: last line not in the promised format"; exit 1; }
committed="$(echo "$line" | sed -E 's/.*committed=([0-9]+).*/\1/')"
errors="$(echo "$line" | sed -E 's/.*errors=([0-9]+).*/\1/')"
[ "$committed" -gt 0 ] || { echo "FAIL: nothing committed"; exit 1; }
[ "$errors" -eq 0 ] || { echo "FAIL: $errors errors"; cat "$REEL_RUN_DIR/bench.log"; exit 1; }
echo "reel-bench test passed"
