#!/usr/bin/env bash
# Epoch changes with real reeld processes, decided by the ministries' signatures alone,
# on a running network with no restart: five validators under reel-bench load; MIIT
# proposes new consensus timings and MOFCOM approves them (the two governing
# organisations of the testnet's genesis). The approving block ends epoch 0 on every
# node: the validators go on in epoch 1 with the new timings, reel status and /metrics
# show the epoch, reel-bench counts no error (nothing refused, failed or acknowledged
# and never committed), every acknowledged transaction is on every node (chain_check), and
# commit proofs check with the right epoch's keys only. Then they remove node4: in epoch
# 2 the other four commit without it, node4 stops voting and follows the chain, and an
# observer started afterwards syncs from genesis across both epochs.
# After each change every node (node4 and the observer too) serves a chain of
# epoch-change proofs that `reel query epochs --genesis` verifies up to its current
# epoch, and `reel query transaction --genesis` proves transactions of epochs 0 and 1
# through it, and refuses them with a genesis whose validators are not the chain's.
# Members that genesis does not name join in epoch_membership_test.sh.
# Usage: epoch_test.sh BUILD_DIR
set -uo pipefail
default_port=30600
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
reel="$bin_dir/reel"
observer=5  # the observer listens as node number 5

fail() {
  echo "FAIL: $*"
  exit 1
}
metric() { curl -s --max-time 2 "http://$(metrics_addr "$1")/metrics" | awk -v m="$2" '$1 == m { print $2 }'; }
epoch_of() { "$reel" --json status --node "$(api_addr "$1")" 2> /dev/null | jq -r '.epoch // "0"'; }
voters="0 1 2 3 4"
# Node $1 serves epoch-change proofs that verify from genesis up to epoch $2 (waits for
# them: a proof is made once a quorum of the ended epoch has signed).
proofs_reach() {
  local out deadline=$((SECONDS + 30))
  while true; do
    out="$("$reel" query epochs --json --node "$(api_addr "$1")" --genesis "$run_dir/genesis.json" 2>&1)" &&
      [ "$(echo "$out" | jq -r '.reached_epoch')" = "$2" ] && return 0
    [ $SECONDS -lt $deadline ] || { echo "node$1: $out"; return 1; }
    sleep 0.3
  done
}
nodes() {
  local i out=""
  for i in $voters; do out+="${out:+,}$(api_addr "$i")"; done
  echo "$out"
}

"$reel" testnet init --validators 5 --observers 1 --out "$run_dir" --base-port "$base_port" \
  --block-interval-ms 20 --idle-block-interval-ms 100 --round-timeout-ms 400 > /dev/null ||
  fail "testnet init failed"
for i in $voters; do start_node "$i"; done
for i in $voters; do wait_height "$i" 5 || fail "node$i did not reach height 5"; done
for i in $voters; do [ "$(epoch_of "$i")" = 0 ] || fail "node$i does not start in epoch 0"; done

"$bin_dir/reel-bench" --nodes "$(nodes)" --regulator-key "$run_dir/keys/miit.key" --duration 12 \
  --rate 200 --committed-out "$run_dir/committed.txt" > "$run_dir/bench.out" 2> "$run_dir/bench.log" &
bench_pid=$!
sleep 3

node0="$(api_addr 0)"
"$reel" tx propose-validator-change --node "$node0" --key "$run_dir/keys/miit.key" \
  --change-id timings-1 --consensus-round-timeout-ms 600 > /dev/null ||
  fail "MIIT's proposal was not committed"
[ "$(epoch_of 0)" = 0 ] || fail "one approval of two ended the epoch"
approved="$("$reel" --json tx approve-validator-change --node "$(api_addr 1)" \
  --key "$run_dir/keys/mofcom.key" --change-id timings-1)" || fail "MOFCOM's approval was not committed"
approving="$(echo "$approved" | jq -r '.height')"
echo "MOFCOM's approval committed at height $approving"
for i in $voters; do
  deadline=$((SECONDS + 30))
  until [ "$(epoch_of "$i")" = 1 ]; do
    [ $SECONDS -lt $deadline ] || fail "node$i is not in epoch 1 (status says $(epoch_of "$i"))"
    sleep 0.2
  done
done
status="$("$reel" --json status --node "$node0")"
[ "$(echo "$status" | jq '.validators | length')" = 5 ] || fail "epoch 1 does not have the five validators"

# Commits go on in epoch 1 on every validator; blocks of epoch 1 follow the approving one.
target=$(( $(height_of 0) + 20 ))
for i in $voters; do wait_height "$i" "$target" 60 || fail "node$i stalled in epoch 1"; done
[ "$(header_at 0 "$approving" | jq -r '.epoch // "0"')" = 0 ] || fail "the approving block is not of epoch 0"
[ "$(header_at 0 $((approving + 1)) | jq -r '.epoch // "0"')" = 1 ] || fail "the block after it is not of epoch 1"
for i in $voters; do
  [ "$(metric "$i" reel_epoch)" = 1 ] || fail "node$i's /metrics does not show epoch 1"
done

wait "$bench_pid"
line="$(tail -1 "$run_dir/bench.out")"
echo "reel-bench across the change: $line"
[[ "$line" =~ committed=([0-9]+)\ errors=([0-9]+)$ ]] || fail "reel-bench gave no figures: $(tail -3 "$run_dir/bench.log")"
[ "${BASH_REMATCH[1]}" -gt 0 ] || fail "reel-bench saw nothing committed"
# Every transaction a node acknowledged committed (none "never committed"), and none was
# refused or failed: the changes cost the clients nothing.
[ "${BASH_REMATCH[2]}" -eq 0 ] ||
  fail "reel-bench counted ${BASH_REMATCH[2]} errors across the changes: $(grep -E 'never committed|refused|failed' "$run_dir/bench.log" | head -5)"
"$bin_dir/chain_check" --nodes "$(nodes)" --committed "$run_dir/committed.txt" --wait-s 60 ||
  fail "the validators do not hold one chain with every acknowledged transaction"

# Every validator holds the proof of epoch 0's end: from genesis, it proves epoch 1's set.
for i in $voters; do proofs_reach "$i" 1 || fail "node$i serves no chain of proofs to epoch 1"; done
"$reel" query epochs --node "$node0" --genesis "$run_dir/genesis.json" | tee "$run_dir/epochs.txt" |
  grep -q "verified from genesis" || fail "reel query epochs did not say it verified the chain"

# The commit proof of a transaction of epoch 0 checks with genesis' keys; one of epoch 1
# with epoch 1's, which the chain of proofs gives. A genesis whose validators are in
# another order proves neither.
first_tx="$(head -1 "$run_dir/committed.txt" | awk '{print $1}')"
last_tx="$(tail -1 "$run_dir/committed.txt" | awk '{print $1}')"
first_height="$(head -1 "$run_dir/committed.txt" | awk '{print $2}')"
last_height="$(tail -1 "$run_dir/committed.txt" | awk '{print $2}')"
jq '.validators |= ([.[1], .[0]] + .[2:])' "$run_dir/genesis.json" > "$run_dir/other-genesis.json"
if [ "$first_height" -lt "$approving" ]; then
  "$reel" query transaction --node "$node0" --tx-id "$first_tx" --genesis "$run_dir/genesis.json" \
    > /dev/null || fail "the proof of a transaction of epoch 0 does not check with genesis"
fi
[ "$last_height" -gt "$approving" ] || fail "reel-bench committed nothing in epoch 1"
"$reel" query transaction --node "$node0" --tx-id "$last_tx" --genesis "$run_dir/genesis.json" \
  > "$run_dir/epoch1-tx.txt" || fail "the proof of a transaction of epoch 1 does not check through the chain"
grep -q "through epoch 1" "$run_dir/epoch1-tx.txt" || fail "reel did not check the epoch-1 proof with epoch 1"
if "$reel" query transaction --node "$node0" --tx-id "$last_tx" --genesis "$run_dir/other-genesis.json" \
  > "$run_dir/forged.txt" 2>&1; then
  fail "a proof of epoch 1 was accepted from another genesis"
fi
grep -q "does not verify from genesis" "$run_dir/forged.txt" ||
  fail "reel refused the other genesis without saying why: $(cat "$run_dir/forged.txt")"

# MIIT and MOFCOM remove node4: epoch 2 runs on the other four, without a restart.
"$reel" tx propose-validator-change --node "$node0" --key "$run_dir/keys/miit.key" \
  --change-id remove-node4 --remove-name node4 > /dev/null || fail "the removal was not proposed"
removing="$("$reel" --json tx approve-validator-change --node "$(api_addr 1)" \
  --key "$run_dir/keys/mofcom.key" --change-id remove-node4)" || fail "the removal was not approved"
removed_at="$(echo "$removing" | jq -r '.height')"
echo "node4 removed by the block at height $removed_at"
voters="0 1 2 3"
for i in $voters; do
  deadline=$((SECONDS + 30))
  until [ "$(epoch_of "$i")" = 2 ]; do
    [ $SECONDS -lt $deadline ] || fail "node$i is not in epoch 2"
    sleep 0.2
  done
done
status="$("$reel" --json status --node "$node0")"
[ "$(echo "$status" | jq '.validators | length')" = 4 ] || fail "epoch 2 does not have four validators"
echo "$status" | jq -r '.validators[].name' | grep -qx node4 && fail "node4 is still a validator"
target=$(( $(height_of 0) + 20 ))
for i in $voters; do wait_height "$i" "$target" 60 || fail "node$i stalled without node4"; done
# node4, still running, no longer votes (no validator index, round 0) but follows the chain.
deadline=$((SECONDS + 30))
until [ "$(epoch_of 4)" = 2 ]; do
  [ $SECONDS -lt $deadline ] || fail "node4 did not follow the chain into epoch 2"
  sleep 0.2
done
node4="$("$reel" --json status --node "$(api_addr 4)")"
[ "$(echo "$node4" | jq -r '.selfValidatorIndex // .self_validator_index // "-1"')" = -1 ] ||
  fail "node4 still reports a validator index: $node4"
"$bin_dir/chain_check" --nodes "$(nodes)" --wait-s 60 || fail "the four do not hold one chain"

for i in $voters 4; do proofs_reach "$i" 2 || fail "node$i serves no chain of proofs to epoch 2"; done

# An observer started now syncs from genesis across both epochs, to the same blocks.
start_observer 0
target="$(height_of 0)"
wait_height "$observer" "$target" 120 || fail "the observer did not sync across the epochs to $target"
[ "$(epoch_of "$observer")" = 2 ] || fail "the observer is not in epoch 2"
for h in "$approving" $((approving + 1)) "$removed_at" $((removed_at + 1)) "$target"; do
  [ "$(header_at "$observer" "$h")" = "$(header_at 0 "$h")" ] || fail "the observer disagrees at height $h"
done
# It got both proofs by block sync: its chain verifies, and proves the epoch-1 transaction.
proofs_reach "$observer" 2 || fail "the observer serves no chain of proofs to epoch 2"
"$reel" query transaction --node "$(api_addr "$observer")" --tx-id "$last_tx" \
  --genesis "$run_dir/genesis.json" > /dev/null || fail "the observer's proof of epoch 1 does not check"
echo "epoch test passed: epoch 0 ended at $approving, epoch 1 at $removed_at (node4 removed)," \
  "the observer synced to $target"
