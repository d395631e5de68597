#!/usr/bin/env bash
# testnet/bench.sh [SECONDS]: bring up the 4-validator network (testnet/up.sh; it keeps
# running afterwards, testnet/down.sh stops it), load it with reel-bench for SECONDS
# (default 30): 8 client threads, each with its own organisations and keys, sign a
# custody transaction mix and submit it to all four nodes, as fast as admission takes
# it. Prints one line per transaction kind, then reel-bench's last line:
#   tps=T p50_ms=A p99_ms=B committed=C errors=E
# REEL_BENCH_MIX sets the mix (default extract=40,transfer=30,process=20,licence=10),
# REEL_BENCH_RATE a fixed total rate in transactions per second, REEL_BENCH_THREADS the
# client threads, REEL_BENCH_BATCH the transactions per call (default 1: one
# SubmitTransaction each; more: SubmitTransactions calls). REEL_BENCH_KILL_ONE=1 then kills validator 3 (SIGKILL) and loads the
# other three for SECONDS more, in the same run: the figures of a network with one
# validator down, after the all-up ones. reel-bench's log goes to <run dir>/bench.log.
# Ports, run and build folders: testnet/lib.sh (REEL_BASE_PORT, REEL_RUN_DIR,
# REEL_BUILD_DIR).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/lib.sh"
seconds="${1:-30}"
"$here/up.sh" 4 > /dev/null
bench() {  # bench NODES
  "$bin_dir/reel-bench" --nodes "$1" --regulator-key "$run_dir/keys/miit.key" \
    --duration "$seconds" --threads "${REEL_BENCH_THREADS:-8}" --rate "${REEL_BENCH_RATE:-0}" \
    --batch "${REEL_BENCH_BATCH:-1}" \
    ${REEL_BENCH_MIX:+--mix "$REEL_BENCH_MIX"} 2>> "$run_dir/bench.log"
}
bench "$(api_addr 0),$(api_addr 1),$(api_addr 2),$(api_addr 3)"
if [ "${REEL_BENCH_KILL_ONE:-0}" = 1 ]; then
  kill -KILL "$(pid_of 3)"
  echo "validator 3 killed; the other three, for $seconds s more:"
  bench "$(api_addr 0),$(api_addr 1),$(api_addr 2)"
fi
