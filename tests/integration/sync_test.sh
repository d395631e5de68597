#!/usr/bin/env bash
# Block sync with real reeld processes: four validators and one observer on a chain
# that makes blocks every few tens of milliseconds. A validator stopped while the
# others commit hundreds of blocks catches up by block sync (ranges of committed
# blocks, each proved) when it comes back, and agrees with them; a validator that
# lost its whole data folder syncs the chain from genesis; the observer, which holds
# no validator key, follows the chain and answers queries.
# (With one of four validators down, round-robin leaders make three rounds in four
# time out or lose their block, so the outage is kept to a few hundred blocks.)
# Usage: sync_test.sh BUILD_DIR
set -uo pipefail
default_port=29900
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
reel="$bin_dir/reel"
observer=4  # the observer listens as node number 4
outage_blocks="${REEL_SYNC_TEST_BLOCKS:-400}"

fail() {
  echo "FAIL: $*"
  for f in "$run_dir"/node[0-3].log "$run_dir"/observer0.log; do
    echo "--- $(basename "$f") tail"
    tail -5 "$f" 2>/dev/null
  done
  exit 1
}
metric() { curl -s --max-time 2 "http://$(metrics_addr "$1")/metrics" | awk -v m="$2" '$1 == m { print $2 }'; }

"$reel" testnet init --validators 4 --observers 1 --out "$run_dir" --base-port "$base_port" \
  --block-interval-ms 10 --idle-block-interval-ms 20 --round-timeout-ms 200 > /dev/null || fail "testnet init failed"
for i in 0 1 2 3; do start_node "$i"; done
start_observer 0
for i in 0 1 2 3; do wait_height "$i" 20 || fail "node$i did not reach height 20"; done
wait_height "$observer" 20 || fail "the observer did not follow the chain to height 20"

# node3 stops; the other three go on for more than a thousand blocks.
kill -TERM "$(pid_of 3)"
while running 3; do sleep 0.1; done
stopped_at="$(height_of 0)"
target=$((stopped_at + outage_blocks))
started=$SECONDS
wait_height 0 "$target" 240 || fail "the three did not commit $outage_blocks blocks (at $(height_of 0))"
echo "node3 stopped at height ~$stopped_at; the others reached $(height_of 0) in $((SECONDS - started)) s"

start_node 3
target="$(height_of 0)"
started=$SECONDS
wait_height 3 "$target" 120 || fail "node3 did not catch up to $target (at $(height_of 3))"
synced="$(metric 3 reel_synced_blocks)"
echo "node3 caught up to $target in $((SECONDS - started)) s, $synced blocks by block sync"
[ -n "$synced" ] && [ "$synced" -ge $((outage_blocks / 2)) ] ||
  fail "node3 applied only '${synced}' blocks by block sync: it did not catch up by sync"

# It takes part again: the chain goes on with it, and every node agrees.
target=$(( $(height_of 0) + 20 ))
for i in 0 1 2 3 "$observer"; do wait_height "$i" "$target" || fail "node $i stalled after the catch-up"; done
for h in 1 "$stopped_at" $((stopped_at + outage_blocks / 2)) "$target"; do
  reference="$(header_at 0 "$h")"
  [ -n "$reference" ] && [ "$reference" != null ] || fail "node0 has no block $h"
  for i in 1 2 3 "$observer"; do
    [ "$(header_at "$i" "$h")" = "$reference" ] || fail "node $i disagrees with node0 at height $h"
  done
done

# node2 loses its data folder (a new disk): it syncs the whole chain from genesis.
kill -TERM "$(pid_of 2)"
while running 2; do sleep 0.1; done
rm -rf "$run_dir/node2/data"
start_node 2
target="$(height_of 0)"
started=$SECONDS
wait_height 2 "$target" 120 || fail "node2 did not sync from genesis to $target (at $(height_of 2))"
echo "node2 synced $(metric 2 reel_synced_blocks) blocks from genesis to $target in $((SECONDS - started)) s"
[ "$(header_at 2 "$stopped_at")" = "$(header_at 0 "$stopped_at")" ] || fail "node2 disagrees at $stopped_at"

# The observer answers queries about what validators committed, with a proof that
# checks against the validator keys (the CLI checks it with the genesis in the home).
body='{"set_quota": {"org_id": "gacc", "year": 2027, "category": "QUOTA_CATEGORY_MINING_LIGHT", "amount_g": 5}}'
committed="$("$reel" --json tx --node "$(api_addr 1)" --key "$run_dir/keys/miit.key" \
  --chain-id reel-testnet --body "$body")" || fail "the transaction was not committed: $committed"
tx_id="$(echo "$committed" | jq -r '.tx_id')"
tx_b64="$tx_id"  # proto JSON writes bytes in base64; hex is converted
if [[ "$tx_id" =~ ^[0-9a-f]{64}$ ]]; then
  tx_b64="$(printf "$(echo "$tx_id" | sed 's/../\\x&/g')" | base64 -w0)"
fi
deadline=$((SECONDS + 30))
until answer="$("$reel" --json query GetTransaction --node "$(api_addr "$observer")" \
    --request "{\"tx_id\": \"$tx_b64\"}" 2>/dev/null)" &&
    [ "$(echo "$answer" | jq -r '.status')" = TX_STATUS_COMMITTED ]; do
  [ $SECONDS -ge $deadline ] && fail "the observer does not know transaction $tx_id: $answer"
  sleep 0.2
done
[ "$(echo "$answer" | jq '.commit_proof.descendants | length')" -ge 1 ] ||
  fail "the observer gave no commit proof: $answer"
if refused="$("$reel" --json tx --node "$(api_addr "$observer")" --key "$run_dir/keys/miit.key" \
    --chain-id reel-testnet --body "${body/2027/2028}" 2>&1)"; then
  fail "the observer accepted a transaction it cannot order: $refused"
fi
echo "$refused" | grep -q observer || fail "the observer's refusal does not say why: $refused"
echo "the observer follows at $(height_of "$observer") and serves transaction $tx_id with its proof"

# Operations: the validator that admitted the transaction timed its commit, and
# GetStatus reports the round (an observer has none).
[ "$(metric 1 reel_commit_latency_ms_count)" -ge 1 ] || fail "node1 recorded no commit latency"
[ "$(metric 0 reel_view_changes_total)" -ge 1 ] || fail "node0 counted no view change while node3 was down"
deadline=$((SECONDS + 30))  # node2's restart broke node0's stream to it: it reconnects
until [ "$(metric 0 reel_peers)" = 3 ]; do
  [ $SECONDS -ge $deadline ] && fail "node0 reports $(metric 0 reel_peers) connected peers, not 3"
  sleep 0.5
done
status_round() { "$reel" --json query GetStatus --node "$(api_addr "$1")" --request '{}' | jq -r '.round // "0"'; }
[ "$(status_round 0)" -gt 0 ] || fail "GetStatus of node0 reports no round"
[ "$(status_round "$observer")" = 0 ] || fail "GetStatus of the observer reports a round"

"$testnet/down.sh" > /dev/null
for i in 0 1 2 3; do running "$i" && fail "node$i still running after down.sh"; done
pgrep -f "reeld start --home $run_dir" > /dev/null && fail "a reeld of this network is still running"
echo "sync test passed"
