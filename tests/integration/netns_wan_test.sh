#!/usr/bin/env bash
# Network namespaces (TESTING.md row 7): four validators on a WAN: every peer link goes
# through its own reel-relay, which delays each chunk by 50 ms plus a jitter wandering
# in 0-100 ms (50-150 ms one way, 100 ms on average at any load, never reordering a
# connection), and 1% of every link's
# packets are lost. Under reel-bench load, every transaction it saw committed is once on
# every node, none is lost, and the nodes hold one chain. Prints throughput and p50/p99
# commit latency (figures, not asserted).
# reel-bench runs with a wider outstanding window than its default 750: at about a
# second of commit latency, 750 uncommitted transactions would cap the rate near
# 750 tx/s, measuring the client rather than the chain. Its clients send up to 100
# transactions per SubmitTransactions call: on two cores shared by four nodes, one call
# per transaction costs the nodes and reel-bench about a third more CPU per transaction
# (docs/DECISIONS.md, "Batched submissions"). REEL_WAN_BATCH=1 measures one call each,
# REEL_WAN_OUTSTANDING another window.
# Usage: netns_wan_test.sh BUILD_DIR   (as root; exit 77 without namespaces)
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/netns_lib.sh"
wan_profile=50:100:1
bench_s=20
outstanding="${REEL_WAN_OUTSTANDING:-2000}"
batch="${REEL_WAN_BATCH:-100}"

netns_test_start 4
bench_start "$bench_s" --max-outstanding "$outstanding" --batch "$batch"
bench_finish
echo "WAN $wan_profile (delay:jitter ms:loss %), 8 clients, ${bench_s} s, up to $outstanding outstanding," \
  "up to $batch per call: tps=$bench_tps p50_ms=$bench_p50 p99_ms=$bench_p99"
[ "$bench_errors" -eq 0 ] || fail "reel-bench counted $bench_errors errors on the WAN"
dropped="$(netns_dropped wan)"
echo "$dropped packets lost on the links"
[ "$dropped" -gt 0 ] || fail "the WAN's loss rules dropped nothing"
# Each validator executes the block the next QC commits while that QC is on its way
# (DECISIONS, "A block is executed while its commit is on the way"): on a WAN nearly
# every commit should find its execution done. Half is the bound, to leave room for
# forks and a slow start; a build that never prepares shows 0.
sleep 1  # the metrics refresh every half second
for i in $all_nodes; do
  prepared="$(metric "$i" reel_prepared_commits)"
  committed="$(metric "$i" reel_height)"
  echo "node$i: $prepared of $committed blocks committed with their execution done ahead"
  [ -n "$prepared" ] && [ $((2 * prepared)) -ge "$committed" ] ||
    fail "node$i executed most blocks only at their commit (${prepared:-no} prepared of $committed)"
done
check_chain
echo "netns WAN test passed"
