#!/usr/bin/env bash
# The named-flag commands against a real 4-validator network (testnet/up.sh on
# ports 27100-27199): transactions signed by a quorum of two keys (one key alone is
# refused with INSUFFICIENT_QUORUM), queries as tables and JSON, a trace as DOT and
# SVG, the generic forms (tx --body, query METHOD --request), --node before or after the
# command, and `reel watch`, which
# ends with 0 on Ctrl-C and non-zero when its node goes away.
# Usage: reel_cli_node_test.sh BUILD_DIR
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
export REEL_BUILD_DIR="$1"
export REEL_BASE_PORT="${REEL_BASE_PORT:-27100}"
tmp="$(mktemp -d)"
export REEL_RUN_DIR="$tmp/net"
source "$root/testnet/lib.sh"
reel="$bin_dir/reel"
watchers=()
cleanup() {
  for pid in "${watchers[@]}"; do kill "$pid" 2> /dev/null; done
  "$root/testnet/down.sh" > /dev/null 2>&1
  rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }

"$root/testnet/up.sh" 4 > /dev/null || fail "up.sh"
export REEL_NODE="$(api_addr 0)"
keys="$run_dir/keys"
year="$(TZ=Asia/Shanghai date +%Y)"

# --node before the command as after it; the command's own wins.
out="$(env -u REEL_NODE "$reel" --node "$(api_addr 1)" status 2>&1)" || fail "reel --node ADDR status: $out"
out="$(env -u REEL_NODE "$reel" --json --node 127.0.0.1:1 status --node "$(api_addr 1)" 2>&1)" ||
  fail "a command's own --node does not win over the one before it: $out"
env -u REEL_NODE "$reel" --node 127.0.0.1:1 status > /dev/null 2>&1 &&
  fail "reel --node 127.0.0.1:1 status did not use the unreachable node it was given"

"$reel" watch --json --from-height 1 --kind extract > "$tmp/events" 2> "$tmp/watch.err" &
watchers+=($!)

tx() {  # tx ACTION FLAGS...: must commit
  local out
  out="$("$reel" tx "$@" 2>&1)" || fail "reel tx $1: $out"
  echo "$out" | grep -q "^status: *TX_STATUS_COMMITTED" || fail "reel tx $1 did not commit: $out"
}
"$reel" keys new dual-1 --dir "$keys" > /dev/null && "$reel" keys new dual-2 --dir "$keys" > /dev/null \
  || fail "keys new"
tx register-org --key "$keys/miit.key" --org-id dual-mining --name "Dual Mining" \
  --kind state-enterprise --role miner --signatory-key "$keys/dual-1.key" \
  --signatory-key "$keys/dual-2.key" --quorum 2
tx register-site --key "$keys/miit.key" --site dual-mine --org dual-mining --name "Dual mine" \
  --kind mine --deposit-type rock --province "Inner Mongolia"
tx set-quota --key "$keys/miit.key" --org dual-mining --year "$year" --category mining-light \
  --amount-g 1000000

extract() {
  "$reel" tx extract "$@" --signer dual-mining --site dual-mine --lot DM-1 --product ore \
    --mass-g 100000 --composition LA=1000,ND=500 2>&1
}
out="$(extract --key "$keys/dual-1.key")" && fail "one key of a quorum of two was enough: $out"
echo "$out" | grep -q "INSUFFICIENT_QUORUM" || fail "wrong quorum without its code: $out"
out="$(extract --key "$keys/dual-1.key" --key "$keys/dual-2.key")" || fail "extract by quorum: $out"
echo "$out" | grep -q "quota_charged_g: *1500" || fail "extract result misses the quota charged: $out"

# Who signed, proved: the answer's proof checks against genesis alone and names both keys.
tx_id="$(echo "$out" | sed -n 's/^tx_id: *//p')"
[ -n "$tx_id" ] || fail "no tx_id in: $out"
genesis="$run_dir/node0/config/genesis.json"
for _ in $(seq 50); do  # the commit proof follows once the next blocks commit
  out="$("$reel" query transaction --tx-id "$tx_id" --genesis "$genesis" 2>&1)" && break
  sleep 0.2
done
echo "$out" | grep -q "^proof: verified" || fail "transaction proof: $out"
for k in dual-1 dual-2; do
  pk="$("$reel" --json keys show "$keys/$k.key" | jq -r .public_key)"
  echo "$out" | grep "^proof: verified" | grep -q "$pk" || fail "proof does not name $k ($pk): $out"
done
[ "$("$reel" query transaction --tx-id "$tx_id" --genesis "$genesis" --json | jq -r .proof.verified)" = true ] \
  || fail "transaction --genesis --json"
jq '.validators[0].public_key as $a | .validators[0].public_key = .validators[1].public_key | .validators[1].public_key = $a' "$genesis" > "$tmp/other-genesis.json"
out="$("$reel" query transaction --tx-id "$tx_id" --genesis "$tmp/other-genesis.json" 2>&1)" \
  && fail "a proof checked against other validator keys was accepted: $out"
echo "$out" | grep -q "proof does not hold" || fail "a failed proof is not said: $out"

out="$("$reel" query lot --id DM-1)" || fail "query lot: $out"
echo "$out" | grep -q "^lot.product: *ORE" || fail "lot record: $out"
echo "$out" | grep -q "^lot.composition: *LA=1000 ND=500" || fail "lot composition: $out"
[ "$("$reel" query lot --id DM-1 --json | jq -r .lot.mass_g)" = 100000 ] || fail "lot --json"
out="$("$reel" query list-orgs --role miner)" || fail "list-orgs: $out"
echo "$out" | grep -q "^dual-mining .*STATE_ENTERPRISE" || fail "list-orgs table: $out"
out="$("$reel" query quota-use --org dual-mining --year "$year")" || fail "quota-use: $out"
echo "$out" | grep -q "MINING_LIGHT .*1000000 .*1500" || fail "quota-use table: $out"
"$reel" query export-stats --by country > /dev/null || fail "export-stats --by country"

out="$("$reel" query trace --lot DM-1 --upstream --dot)" || fail "trace --dot: $out"
echo "$out" | grep -q "^digraph" || fail "trace --dot is not DOT: $out"
echo "$out" | grep -q '"site:dual-mine"' || fail "trace does not reach the mine: $out"
"$reel" query trace --lot DM-1 --svg "$tmp/trace.svg" 2> /dev/null || fail "trace --svg"
grep -q "<svg" "$tmp/trace.svg" || fail "trace.svg is not SVG"

"$reel" tx --key "$keys/miit.key" \
  --body "{\"set_quota\":{\"org_id\":\"dual-mining\",\"year\":$year,\"category\":\"QUOTA_CATEGORY_MINING_LIGHT\",\"amount_g\":\"2000000\"}}" \
  > /dev/null || fail "tx --body"
out="$("$reel" query GetLot --request '{"lot_id":"DM-1"}')" || fail "generic query: $out"
echo "$out" | grep -q '"lot_id": "DM-1"' || fail "generic query answer: $out"

for _ in $(seq 50); do grep -q TX_KIND_EXTRACT "$tmp/events" && break; sleep 0.2; done
grep -q '"lot_ids":\["DM-1"\]' "$tmp/events" || fail "watch did not see the extraction: $(cat "$tmp/events" "$tmp/watch.err")"
kill -INT "${watchers[0]}"
wait "${watchers[0]}" || fail "watch did not end cleanly on SIGINT: $(cat "$tmp/watch.err")"

# From height 1, so that its first event shows it is streaming before the node goes.
"$reel" watch --node "$(api_addr 1)" --from-height 1 > "$tmp/watch2" 2>&1 &
watchers+=($!)
for _ in $(seq 50); do [ -s "$tmp/watch2" ] && break; sleep 0.2; done
[ -s "$tmp/watch2" ] || fail "second watch printed nothing from height 1"
"$root/testnet/down.sh" > /dev/null
wait "${watchers[1]}" && fail "watch ended with 0 when its node went away"
grep -Eq "watch ended|ended the event stream" "$tmp/watch2" || fail "node gone not said: $(cat "$tmp/watch2")"
echo "reel CLI against a network: all checks passed"
