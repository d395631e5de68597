#!/usr/bin/env bash
# reel genesis show|validate on the genesis `reel testnet init` writes, and on a
# broken one: a summary with the chain id and organisations, a clear verdict, and a
# non-zero exit that names the file and field when it is wrong.
set -uo pipefail
reel="$1"
dir="$(mktemp -d)"
trap 'rm -rf "$dir"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

"$reel" testnet init --validators 2 --out "$dir/net" --base-port 31500 > /dev/null || fail "testnet init"
genesis="$dir/net/genesis.json"
out=$("$reel" genesis show --file "$genesis") || fail "genesis show: $out"
echo "$out" | grep -q "^chain_id: *reel-testnet" || fail "show misses the chain id: $out"
echo "$out" | grep -q "^validators (2)" || fail "show misses the validators table: $out"
echo "$out" | grep -q "^miit .*REGULATOR" || fail "show misses miit as regulator: $out"
out=$("$reel" genesis show --file "$genesis" --json) || fail "genesis show --json"
echo "$out" | grep -q '"chain_id": "reel-testnet"' || fail "show --json: $out"
out=$("$reel" genesis validate --file "$genesis") || fail "a good genesis is not valid: $out"
echo "$out" | grep -q "^valid: *yes" || fail "validate does not say valid: $out"

sed 's/"reel-testnet"/""/' "$genesis" > "$dir/bad.json"
out=$("$reel" genesis validate --file "$dir/bad.json" 2>&1) && fail "an empty chain id is valid"
echo "$out" | grep -q "bad.json" || fail "invalid genesis does not name the file: $out"
out=$("$reel" genesis show --file "$dir/none.json" 2>&1) && fail "showed a missing file"
echo "$out" | grep -q "none.json" || fail "missing file not named: $out"
echo "reel genesis: all checks passed"
