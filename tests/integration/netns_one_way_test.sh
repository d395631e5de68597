#!/usr/bin/env bash
# Network namespaces (TESTING.md row 7): faults in one direction only, under reel-bench
# load on four validators.
#  1. For 15 s the connections node1 dials to the other three are cut (both directions
#     of their packets dropped): nobody hears node1's votes, proposals or gossip, while
#     node1 still hears everyone on the connections they dial to it. The others go on
#     committing, and node1 follows the chain it hears.
#  2. For 15 s, 25% of the packets from each node to every higher-numbered node are
#     lost, and none the other way. Every node goes on committing.
# Healed, every transaction reel-bench saw committed is once on every node, and the
# nodes hold one chain.
# Usage: netns_one_way_test.sh BUILD_DIR   (as root; exit 77 without namespaces)
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/netns_lib.sh"
phase_s=15
blocks_min=5  # each phase: every node commits at least this many blocks
loss_percent=25

netns_test_start 4
bench_start 40
sleep 4

netns_oneway 1 0 2 3
commits_through "$all_nodes" "$phase_s" "$blocks_min" "node1's connections to 0, 2, 3 cut"
for ((i = 0; i < 4; i++)); do
  for ((j = i + 1; j < 4; j++)); do netns_drop "$i" "$j" "$loss_percent"; done
done
commits_through "$all_nodes" "$phase_s" "$blocks_min" \
  "${loss_percent}% loss from each node to the higher-numbered ones"

bench_finish
check_chain
echo "netns one-way test passed"
