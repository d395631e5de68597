#!/usr/bin/env bash
# testnet/bench.sh [SECONDS]: bring up the 4-validator network, load it with reel-bench
# (signed extractions from 8 clients to all four nodes, as fast as admission takes
# them) for SECONDS (default 30), and print reel-bench's last line:
#   tps=T p50_ms=A p99_ms=B committed=C errors=E
# REEL_BENCH_RATE sets a fixed rate in transactions per second instead.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/lib.sh"
seconds="${1:-30}"
"$here/up.sh" 4 > /dev/null
nodes="$(api_addr 0),$(api_addr 1),$(api_addr 2),$(api_addr 3)"
"$bin_dir/reel-bench" --nodes "$nodes" --regulator-key "$run_dir/keys/miit.key" \
  --seconds "$seconds" --clients 8 --rate "${REEL_BENCH_RATE:-0}" 2> "$run_dir/bench.log" | tail -1
