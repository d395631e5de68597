#!/usr/bin/env bash
# Members join and leave a running network by the ministries' signatures alone (issue 13):
# four validators under reel-bench load grow to five, then to seven; then one is removed
# and another's key is replaced. No validator restarts but the one whose key changes.
# Each new member's node is made as an operator would (README, "Adding a member's
# node"): `reel node request`, the chain's CA signs it, genesis copied, reeld started
# before the change; it follows the chain as a validator to be, and votes and proposes
# from the epoch that adds it. Checks:
#   - commits never stop for long: no two consecutive blocks further apart than
#     max_gap_ms in block time, across every change (chain_check --max-gap-ms);
#   - reel-bench counts no error (a transaction refused, failed, or acknowledged and never
#     committed), no acknowledged transaction is lost, and every node, old and new, holds the same
#     blocks and state roots (chain_check);
#   - each new member proposes blocks and its votes are in QCs of the epochs that name it;
#   - a node refuses transactions before it is added and after it is removed, and takes
#     them while it is a validator (Submit's membership follows the committed height);
#   - the removed node's Push streams are refused (reel-peer-flood with its credentials),
#     it reports no validator index and follows the chain;
#   - after the key replacement the node with the old key stops voting; restarted with
#     the new key it votes again;
#   - an observer started at the end syncs from genesis across every epoch.
# Usage: epoch_membership_test.sh BUILD_DIR
set -uo pipefail
default_port=31600
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
reel="$bin_dir/reel"
reeld="$bin_dir/reeld"
observer=7         # the observer listens as node number 7
max_gap_ms=3000    # "a few rounds": round timer 400 ms, x1.5 a round: 400+600+900+1350

# Submits a register-org transaction (org id $2) through node $1; prints what reel said
# and returns its status. A validator still catching up answers "catching up" for a
# moment (UNAVAILABLE, api.proto) whatever its membership: retried for up to 60 s.
submit_org() {
  local out rc deadline=$((SECONDS + 60))
  while :; do
    out="$("$reel" tx register-org --node "$(api_addr "$1")" --key "$run_dir/keys/miit.key" \
      --org-id "$2" --name "$2" --kind ministry --role regulator --signatory-key \
      "$run_dir/keys/miit.key" --quorum 1 2>&1)"
    rc=$?
    if [ "$rc" -ne 0 ] && [[ "$out" == *"catching up"* ]] && [ $SECONDS -lt $deadline ]; then
      sleep 1
      continue
    fi
    echo "$out"
    return "$rc"
  done
}

# To stderr, so that a failure inside $(...) is seen (the caller then exits too).
fail() {
  echo "FAIL: $*" >&2
  exit 1
}
status_of() { "$reel" --json status --node "$(api_addr "$1")" 2> /dev/null; }
epoch_of() { status_of "$1" | jq -r '.epoch // "0"'; }
self_index_of() { status_of "$1" | jq -r '.selfValidatorIndex // .self_validator_index // "-1"'; }
metric() { curl -s --max-time 2 "http://$(metrics_addr "$1")/metrics" | awk -v m="$2" '$1 == m { print $2 }'; }
# wait_epoch NODE EPOCH: until the node's committed state is in that epoch (or later).
wait_epoch() {
  local deadline=$((SECONDS + 60)) e
  while :; do
    e="$(epoch_of "$1")"
    [ -n "$e" ] && [ "$e" -ge "$2" ] && return 0
    [ $SECONDS -lt $deadline ] || fail "node$1 is not in epoch $2 (it says ${e:-nothing})"
    sleep 0.2
  done
}
# governed CHANGE_ID FLAGS...: MIIT proposes, MOFCOM approves (the testnet's two governing
# organisations); prints the height of the approving block.
governed() {
  local id=$1 out
  shift
  out="$("$reel" tx propose-validator-change --node "$(api_addr 0)" --key "$run_dir/keys/miit.key" \
    --change-id "$id" "$@" 2>&1)" || fail "MIIT's proposal $id was not committed: $out"
  out="$("$reel" --json tx approve-validator-change --node "$(api_addr 3)" \
    --key "$run_dir/keys/mofcom.key" --change-id "$id" 2>&1)" ||
    fail "MOFCOM's approval of $id was not committed: $out"
  echo "$out" | jq -r '.height'
}
# The node home of member $1 (node number $1), made the way an operator makes one.
make_member() {
  local i=$1 home="$run_dir/node$1"
  "$reel" node request --home "$home" --dns "node$i" --validator > /dev/null ||
    fail "node request for node$i"
  "$reel" ca sign --ca "$run_dir/ca" --csr "$home/tls/node.csr" --dns "node$i" \
    --out "$home/tls/node.crt" > /dev/null || fail "the CA did not sign node$i's request"
  cp "$run_dir/genesis.json" "$home/config/genesis.json"
}
start_member() {
  local i=$1
  "$reeld" start --home "$run_dir/node$i" --p2p.listen "127.0.0.1:$((base_port + 10 * i))" \
    --api.listen "$(api_addr "$i")" --metrics.listen "$(metrics_addr "$i")" \
    "${@:2}" >> "$run_dir/node$i.log" 2>&1 &
  echo $! > "$run_dir/node$i.pid"
}
# add_member I: MIIT and MOFCOM add node I as the README's step by step does, with
# `reel validators` and the member's folder; prints the height of the approving block.
add_member() {
  local i=$1 out
  out="$("$reel" validators propose add --node "$(api_addr 0)" --key "$run_dir/keys/miit.key" \
    --change-id "add-node$i" --org miit --from-request "$run_dir/node$i" \
    --address "127.0.0.1:$((base_port + 10 * i))" 2>&1)" || fail "MIIT's proposal to add node$i: $out"
  echo "$out" | grep -q "PENDING" || fail "the proposal to add node$i is not pending: $out"
  out="$("$reel" --json validators approve "add-node$i" --node "$(api_addr 3)" \
    --key "$run_dir/keys/mofcom.key" 2>&1)" || fail "MOFCOM's approval to add node$i: $out"
  echo "$out" | jq -r '.height'
}
# Heights from $2 to the node's height at which validator index $3 proposed a block, or
# whose QC holds its vote (qc_signers bit), as node $1 serves them: "proposed voted".
participation() {
  local node=$1 from=$2 index=$3 to h header proposed=0 voted=0 byte bits
  to="$(height_of "$node")"
  for ((h = from; h <= to; h++)); do
    header="$(header_at "$node" "$h")"
    [ "$(echo "$header" | jq -r '.proposerIndex // .proposer_index // 0')" = "$index" ] &&
      proposed=$((proposed + 1))
    bits="$(echo "$header" | jq -r '.qcSigners // .qc_signers // ""' | base64 -d 2> /dev/null |
      od -An -tu1 -v | tr -s ' \n' ' ')"
    byte="$(echo "$bits" | awk -v k=$((index / 8 + 1)) '{ print $k + 0 }')"
    [ $(((byte >> (index % 8)) & 1)) = 1 ] && voted=$((voted + 1))
  done
  echo "$proposed $voted"
}

"$reel" testnet init --validators 4 --out "$run_dir" --base-port "$base_port" \
  --block-interval-ms 20 --idle-block-interval-ms 100 --round-timeout-ms 400 > /dev/null ||
  fail "testnet init failed"
for i in 0 1 2 3; do start_node "$i"; done
for i in 4 5 6; do make_member "$i"; done
for i in 0 1 2 3; do wait_height "$i" 5 || fail "node$i did not reach height 5"; done

# The members to be start before the ministries decide: they follow the chain.
for i in 4 5 6; do start_member "$i"; done
for i in 4 5 6; do
  wait_height "$i" 5 || fail "node$i (not yet a validator) does not follow the chain"
  [ "$(self_index_of "$i")" = -1 ] || fail "node$i claims a validator index before it is added"
done
out="$("$reel" tx register-org --node "$(api_addr 4)" --key "$run_dir/keys/miit.key" \
  --org-id early --name Early --kind ministry --role regulator --signatory-key \
  "$run_dir/keys/miit.key" --quorum 1 2>&1)" && fail "node4 ordered a transaction before it was a validator: $out"
echo "$out" | grep -q "not in the validator set" || fail "node4's refusal does not say why: $out"

"$bin_dir/reel-bench" --nodes "$(api_addr 0),$(api_addr 3)" --regulator-key "$run_dir/keys/miit.key" \
  --duration 75 --rate 100 --committed-out "$run_dir/committed.txt" > "$run_dir/bench.out" \
  2> "$run_dir/bench.log" &
bench_pid=$!
sleep 3
start_height="$(height_of 0)"

# 4 -> 5: node4 joins in epoch 1.
h1="$(add_member 4)" || exit 1
echo "node4 added by the block at height $h1"
for i in 0 1 2 3 4; do wait_epoch "$i" 1; done
[ "$(status_of 0 | jq '.validators | length')" = 5 ] || fail "epoch 1 does not have five validators"
[ "$(self_index_of 4)" = 4 ] || fail "node4 is not validator 4 of epoch 1: $(status_of 4)"
# It refused transactions before; a validator now, it takes them (what it knew of its
# membership was of an older height).
out="$(submit_org 4 joined)" || fail "node4, a validator now, refused a transaction: $out"
target=$(($(height_of 0) + 30))
for i in 0 1 2 3 4; do wait_height "$i" "$target" 60 || fail "node$i stalled in epoch 1"; done
read -r proposed voted <<< "$(participation 0 $((h1 + 1)) 4)"
echo "node4 in epoch 1: proposed $proposed blocks, in $voted QCs"
[ "$proposed" -gt 0 ] || fail "node4 proposed no block in epoch 1"
[ "$voted" -gt 0 ] || fail "node4's votes are in no QC of epoch 1"

# 5 -> 7: node5 and node6 join (in one epoch or two, as the approvals fall).
h2="$(add_member 5)" || exit 1
h3="$(add_member 6)" || exit 1
echo "node5 and node6 added by the blocks at heights $h2 and $h3"
seven=$(($(epoch_of 0) > 2 ? 3 : 2))
for i in 0 1 2 3 4 5 6; do wait_epoch "$i" "$seven"; done
[ "$(status_of 0 | jq '.validators | length')" = 7 ] || fail "there are not seven validators"
for i in 5 6; do [ "$(self_index_of "$i")" = "$i" ] || fail "node$i is not validator $i"; done
target=$(($(height_of 0) + 30))
for i in 0 1 2 3 4 5 6; do wait_height "$i" "$target" 60 || fail "node$i stalled with seven validators"; done
for i in 5 6; do
  read -r proposed voted <<< "$(participation 0 $((h3 + 1)) "$i")"
  echo "node$i with seven validators: proposed $proposed blocks, in $voted QCs"
  [ "$proposed" -gt 0 ] || fail "node$i proposed no block"
  [ "$voted" -gt 0 ] || fail "node$i's votes are in no QC"
done

# 7 -> 6: node1 is removed. It notices, stops voting and follows; its streams are refused.
# A validator until then, it takes transactions (so its refusal below is a change).
out="$(submit_org 1 before-removal)" || fail "node1, still a validator, refused a transaction: $out"
epoch_before="$(epoch_of 0)"
h4="$(governed remove-node1 --remove-name node1)" || exit 1
echo "node1 removed by the block at height $h4"
for i in 0 1 2 3 4 5 6; do wait_epoch "$i" $((epoch_before + 1)); done
status_of 0 | jq -r '.validators[].name' | grep -qx node1 && fail "node1 is still a validator"
[ "$(self_index_of 1)" = -1 ] || fail "node1 still reports a validator index: $(status_of 1)"
out="$(submit_org 1 late)" && fail "node1 ordered a transaction after its removal: $out"
echo "$out" | grep -q "not in the validator set" || fail "node1's refusal does not say why: $out"
flood="$("$bin_dir/reel-peer-flood" --home "$run_dir/node1" --target 0 --seconds 2 --streams 1 \
  --block-request-threads 0 --proposals false 2>&1 | tail -1)"
echo "node1's credentials after its removal: $flood"
[[ "$flood" =~ streams_accepted=0\  ]] || fail "node0 accepted a Push stream from removed node1: $flood"
[[ "$flood" =~ streams_refused=[1-9] ]] || fail "node1's streams were not refused: $flood"
[ "$(metric 0 reel_epoch_unreachable)" -gt 0 ] || fail "node0 does not count node1's refused calls"

# node2's key is replaced: with the old key it stops voting; restarted with the new one
# it votes again.
"$reel" keys new node2-new --dir "$run_dir/node2/keys" > /dev/null || fail "keys new node2-new"
epoch_before="$(epoch_of 0)"
h5="$(governed rekey-node2 --replace-name node2 \
  --replace-public-key "$run_dir/node2/keys/node2-new.pub")" || exit 1
echo "node2's key replaced by the block at height $h5"
for i in 0 2 3 4 5 6; do wait_epoch "$i" $((epoch_before + 1)); done
[ "$(self_index_of 2)" = -1 ] || fail "node2 still votes with its replaced key"
kill "$(pid_of 2)"
for _ in $(seq 50); do running 2 || break; sleep 0.2; done
start_member 2 --p2p.validator_key_file keys/node2-new.key
deadline=$((SECONDS + 30))
until [ "$(self_index_of 2)" = 1 ]; do
  [ $SECONDS -lt $deadline ] || fail "node2 with its new key is not validator 1: $(status_of 2)"
  sleep 0.3
done
restart_height="$(height_of 2)"
target=$(($(height_of 0) + 30))
for i in 0 2 3 4 5 6; do wait_height "$i" "$target" 60 || fail "node$i stalled after the new key"; done
read -r proposed voted <<< "$(participation 0 $((restart_height + 1)) 1)"
echo "node2 with its new key: proposed $proposed blocks, in $voted QCs"
[ $((proposed + voted)) -gt 0 ] || fail "node2 does not vote with its new key"

wait "$bench_pid"
line="$(tail -1 "$run_dir/bench.out")"
echo "reel-bench across the changes: $line"
[[ "$line" =~ committed=([0-9]+)\ errors=([0-9]+)$ ]] || fail "reel-bench gave no figures: $(tail -3 "$run_dir/bench.log")"
[ "${BASH_REMATCH[1]}" -gt 0 ] || fail "reel-bench saw nothing committed"
# Every transaction a node acknowledged committed (none "never committed"), and none was
# refused or failed: the changes cost the clients nothing.
[ "${BASH_REMATCH[2]}" -eq 0 ] ||
  fail "reel-bench counted ${BASH_REMATCH[2]} errors across the changes: $(grep -E 'never committed|refused|failed' "$run_dir/bench.log" | head -5)"

# An observer started now syncs from genesis across every epoch.
"$reel" node request --home "$run_dir/node$observer" --dns observer > /dev/null ||
  fail "node request for the observer"
"$reel" ca sign --ca "$run_dir/ca" --csr "$run_dir/node$observer/tls/node.csr" --dns observer \
  --out "$run_dir/node$observer/tls/node.crt" > /dev/null || fail "the CA did not sign the observer"
cp "$run_dir/genesis.json" "$run_dir/node$observer/config/genesis.json"
start_member "$observer" --p2p.validator_key_file ""
wait_height "$observer" "$(height_of 0)" 120 || fail "the observer did not sync across the epochs"
[ "$(epoch_of "$observer")" = "$(epoch_of 0)" ] || fail "the observer is not in the last epoch"

all=""
for i in 0 1 2 3 4 5 6 "$observer"; do all+="${all:+,}$(api_addr "$i")"; done
"$bin_dir/chain_check" --nodes "$all" --committed "$run_dir/committed.txt" --wait-s 60 \
  --max-gap-ms "$max_gap_ms" --gap-from-height "$start_height" ||
  fail "the nodes do not hold one chain with every acknowledged transaction, without a long pause"
echo "epoch membership test passed: 4 -> 5 (epoch 1 at $h1) -> 7 -> node1 removed ($h4)" \
  "-> node2 re-keyed ($h5), $(epoch_of 0) epochs; the observer synced from genesis"
