#!/usr/bin/env bash
# Network namespaces (TESTING.md row 7): four validators under reel-bench load; the
# proposer of the newest committed block is cut off from the other three (every packet
# between them dropped) for 20 s. The three go on committing; once healed, the cut-off
# node catches up; afterwards every node holds one chain with every transaction
# reel-bench saw committed, once.
# Usage: netns_isolate_leader_test.sh BUILD_DIR   (as root; exit 77 without namespaces)
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/netns_lib.sh"
isolation_s=20
blocks_min=5  # the three must commit at least this many blocks while it is cut off
catch_up_s=30

netns_test_start 4
bench_start 30
sleep 5
k="$(latest_proposer 0)"
others="$(echo $all_nodes | tr ' ' '\n' | grep -vx "$k" | tr '\n' ' ')"
netns_partition "$k" "$others"
commits_through "$others" "$isolation_s" "$blocks_min" "node$k, which proposed the newest block, cut off"
target="$(max_height "$others")"
took="$(wait_heights_above "$k" "$target" "$catch_up_s")" ||
  fail "node$k did not catch up past $target within ${catch_up_s} s after healing: $(heights "$all_nodes")"
echo "healed: node$k passed height $target after ${took} s"
bench_finish
echo "the other three committed $phase_blocks blocks during the ${isolation_s} s cut-off"
check_chain
echo "netns isolate-leader test passed"
