#!/usr/bin/env bash
# `reel validators` against a real 4-validator network (reel testnet init: MIIT and
# MOFCOM govern, two approvals needed; GACC does not govern). `list` shows epoch 0 and
# the four; MIIT proposes new timings (pending, 1 of 2, shown by `list` and `show`);
# MOFCOM proposes other timings and withdraws them; the refusals carry the ledger's reason
# (GACC approving: NOT_GOVERNING_ORG; MIIT approving its own proposal: ALREADY_APPROVED;
# a removal below four: TOO_FEW_VALIDATORS; MIIT withdrawing MOFCOM's: NOT_PROPOSER); a
# new member made with `reel node request --validator` and `reel ca sign` is proposed
# from its folder and stays pending (adding a member to a running network waits for the
# peer transport: docs/DECISIONS.md, "Epochs"); files that are not what a flag needs are
# named; and MOFCOM's approval of the timings ends epoch 0: `list` shows epoch 1 with the
# new timing and the others kept, and the four go on committing.
# Usage: reel_validators_test.sh BUILD_DIR
set -uo pipefail
default_port=30800
source "$(dirname "${BASH_SOURCE[0]}")/../integration/lib.sh"
reel="$bin_dir/reel"
keys="$run_dir/keys"
fail() {
  echo "FAIL: $*"
  exit 1
}
# Runs reel, which must succeed; its output in $out.
ok() { out="$("$reel" "$@" 2>&1)" || fail "reel $*: $out"; }
# Runs reel, which must fail saying $1; its output in $out.
refused() {
  local want="$1"
  shift
  out="$("$reel" "$@" 2>&1)" && fail "reel $* was not refused: $out"
  echo "$out" | grep -q -- "$want" || fail "reel $* does not say $want: $out"
}
has() { echo "$out" | grep -Eq -- "$1" || fail "${2:-output} lacks /$1/: $out"; }

"$reel" testnet init --validators 4 --out "$run_dir" --base-port "$base_port" \
  --block-interval-ms 20 --idle-block-interval-ms 100 --round-timeout-ms 400 > /dev/null ||
  fail "testnet init failed"
for i in 0 1 2 3; do start_node "$i"; done
for i in 0 1 2 3; do wait_height "$i" 2 || fail "node$i did not reach height 2"; done
export REEL_NODE="$(api_addr 0)"

ok validators list
has "^epoch: +0$" "list"
has "^approvals_required: +2$" "list"
has "^governing_orgs: +miit, mofcom$" "list"
has "^consensus.round_timeout_ms: +400$" "list"
has "^2 +node2 +gacc +127.0.0.1:$((base_port + 20)) " "list"
has "^no pending changes$" "list"
ok validators list --json
[ "$(echo "$out" | jq '.validators | length')" = 4 ] || fail "list --json: not 4 validators: $out"
[ "$(echo "$out" | jq -r '.epoch')" = 0 ] || fail "list --json: not epoch 0"
ok validators show --name node2
has "^index: +2$" "show --name"
refused "no validator 'node9'" validators show --name node9

# MIIT proposes new timings: pending, 1 of 2; the timings not named keep their value.
ok validators propose timings --key "$keys/miit.key" --change-id timings-1 --round-timeout-ms 600
has "^status: +PENDING$" "propose timings"
has "^approvals: +1 of 2$" "propose timings"
has "^waiting_for: +mofcom$" "propose timings"
ok validators list
has "^timings-1 +PENDING +timings: .*round_timeout_ms=600.* +miit +1 of 2 +miit " "list"
ok validators show timings-1 --json
[ "$(echo "$out" | jq -r '.change.change.consensus.round_timeout_ms')" = 600 ] || fail "show --json: $out"
[ "$(echo "$out" | jq -r '.change.change.consensus.block_interval_min_ms')" = 20 ] ||
  fail "propose timings did not keep the block interval: $out"
[ "$(echo "$out" | jq -r '.approvals_required')" = 2 ] || fail "show --json approvals: $out"
refused "validator change 'ghost' does not exist" validators show ghost

# Refusals carry the ledger's reason.
refused "NOT_GOVERNING_ORG" validators approve timings-1 --key "$keys/gacc.key"
refused "ALREADY_APPROVED" validators approve timings-1 --key "$keys/miit.key"

refused "TOO_FEW_VALIDATORS: removing 'node3' would leave 3" validators propose remove \
  --key "$keys/mofcom.key" --change-id remove-node3 --name node3

# MOFCOM proposes other timings and withdraws them; only the proposer may.
ok validators propose timings --key "$keys/mofcom.key" --change-id timings-2 --idle-block-interval-ms 150
has "^status: +PENDING$" "propose timings by MOFCOM"
refused "NOT_PROPOSER" validators withdraw timings-2 --key "$keys/miit.key"
ok validators withdraw timings-2 --key "$keys/mofcom.key" --reason "not now"
has "^status: +WITHDRAWN$" "withdraw"
ok validators show timings-2
has "^status: +WITHDRAWN$" "show after withdraw"
has "^effect: +withdrawn at block" "show after withdraw"

# A new member: its request, signed by the chain's CA, proposed from its folder.
member="$(dirname "$run_dir")/member"
ok node request --home "$member" --dns node9.example --validator
ok ca sign --ca "$run_dir/ca" --csr "$member/tls/node.csr" --dns node9.example --out "$member/tls/node.crt"
refused "--tls-cert: .*validator_key.pub: not a PEM certificate" validators propose add \
  --key "$keys/miit.key" --org gacc --address 127.0.0.1:1 \
  --public-key "$member/keys/validator_key.pub" --tls-cert "$member/keys/validator_key.pub"
refused "--public-key: 'abcd' is neither a public key" validators propose add \
  --key "$keys/miit.key" --org gacc --address 127.0.0.1:1 --public-key abcd \
  --tls-cert "$member/tls/node.crt"
ok validators propose add --key "$keys/miit.key" --change-id add-node9 --org gacc \
  --from-request "$member" --address "127.0.0.1:$((base_port + 90))"
has "^status: +PENDING$" "propose add"
has "^change: +add node9.example \(org gacc" "propose add"
ok validators list --json
[ "$(echo "$out" | jq -r '[.changes[].change_id] | join(",")')" = "add-node9,timings-1" ] ||
  fail "pending changes by id: $out"
pub="$(cat "$member/keys/validator_key.pub")"
[ "$(echo "$out" | jq -r '.changes[0].change.add.public_key' | base64 -d | od -An -tx1 | tr -d ' \n')" = "$pub" ] ||
  fail "the proposed key is not the member's $pub: $out"

# MOFCOM approves the timings: the approving block ends epoch 0.
ok validators approve timings-1 --key "$keys/mofcom.key"
has "^status: +APPROVED$" "approve"
has "^approvals: +2 of 2$" "approve"
has "^effect: +epoch 1 began with it at the end of block [0-9]+$" "approve"
ok validators list
has "^epoch: +1$" "list after approval"
has "^consensus.round_timeout_ms: +600$" "list after approval"
has "^consensus.block_interval_min_ms: +20$" "list after approval"
has "^add-node9 +PENDING " "list after approval"
ok validators list --status all --json
[ "$(echo "$out" | jq -r '[.changes[] | .change_id + "=" + .status] | join(",")')" = \
  "add-node9=VALIDATOR_CHANGE_STATUS_PENDING,timings-1=VALIDATOR_CHANGE_STATUS_APPROVED,timings-2=VALIDATOR_CHANGE_STATUS_WITHDRAWN" ] ||
  fail "list --status all: $out"
# The network goes on in epoch 1 with the new timings.
target=$(($(height_of 0) + 5))
for i in 0 1 2 3; do wait_height "$i" "$target" 30 || fail "node$i stalled in epoch 1"; done
echo "reel validators: all checks passed"
