#!/usr/bin/env bash
# Network namespaces (TESTING.md row 7): four validators under reel-bench load are split
# 2|2 (every packet between {node0, node1} and {node2, node3} dropped) for 20 s. Neither
# half has a quorum: after a settling time no node's height moves. Healed, every node
# commits again within the bound below; afterwards every node holds one chain with
# every transaction reel-bench saw committed, once.
# Usage: netns_split_test.sh BUILD_DIR   (as root; exit 77 without namespaces)
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/netns_lib.sh"
settle_s=5    # a commit already in flight when the split begins may still land
watch_s=15    # then no height may move for this long
resume_s=30   # the bound: after healing, every node commits a new block within it

netns_test_start 4
bench_start 40
sleep 5
netns_partition "0 1" "2 3"
echo "split {0,1} | {2,3} at $(heights "$all_nodes")"
sleep "$settle_s"
frozen="$(heights "$all_nodes")"
top="$(max_height "$all_nodes")"
sleep "$watch_s"
now="$(heights "$all_nodes")"
echo "after ${settle_s} s: $frozen; ${watch_s} s later: $now"
[ "$now" = "$frozen" ] || fail "a node committed during the split: $frozen, then $now"
netns_heal
took="$(wait_heights_above "$all_nodes" "$top" "$resume_s")" ||
  fail "commits did not resume within ${resume_s} s of healing: $(heights "$all_nodes") (split at $top)"
echo "healed: every node passed height $top after ${took} s (bound ${resume_s} s)"
bench_finish
check_chain
echo "netns split test passed"
