#!/usr/bin/env bash
# Network namespaces (TESTING.md row 7): 5% of the packets of every link between four
# validators lost (nftables numgen; TCP absorbs duplication and reordering, so loss is
# what reaches the node, as retransmissions and stalls) for 25 s under reel-bench load.
# Every node goes on committing; every transaction reel-bench saw committed is once on
# every node, none is lost, and the nodes hold one chain. Prints reel-bench's figures
# under loss (not asserted).
# Usage: netns_loss_test.sh BUILD_DIR   (as root; exit 77 without namespaces)
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/netns_lib.sh"
loss_s=25
loss_percent=5
blocks_min=10  # every node commits at least this many blocks under loss

netns_test_start 4
netns_loss "$loss_percent"
before="$(min_height "$all_nodes")"
echo "${loss_percent}% loss on every link from $(heights "$all_nodes")"
bench_start "$loss_s"
bench_finish
after="$(min_height "$all_nodes")"
echo "under ${loss_percent}% loss: $(heights "$all_nodes"); tps=$bench_tps p50_ms=$bench_p50 p99_ms=$bench_p99"
[ "$after" -ge $((before + blocks_min)) ] ||
  fail "under ${loss_percent}% loss some node committed only $((after - before)) blocks (want >= $blocks_min)"
[ "$bench_errors" -eq 0 ] || fail "reel-bench counted $bench_errors errors under loss"
dropped="$(netns_dropped faults)"
echo "$dropped packets dropped"
[ "$dropped" -gt 0 ] || fail "the loss rules dropped nothing"
netns_heal
check_chain
echo "netns loss test passed"
