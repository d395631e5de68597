#!/usr/bin/env bash
# reel testnet init: one home per validator with a 0600 validator key and TLS key,
# certificates from one testnet CA, and the same genesis everywhere naming them all.
set -uo pipefail
reel="$1"
dir="$(mktemp -d)"
trap 'rm -rf "$dir"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

"$reel" --json testnet init --validators 4 --out "$dir/net" --base-port 31000 > "$dir/out.json" \
  || fail "init failed: $(cat "$dir/out.json")"
grep -q '"api": "127.0.0.1:31031"' "$dir/out.json" || fail "node3 api port not printed"
for i in 0 1 2 3; do
  home="$dir/net/node$i"
  [ "$(stat -c %a "$home/keys/validator_key.json")" = 600 ] || fail "node$i key not 0600"
  [ "$(stat -c %a "$home/tls/node.key")" = 600 ] || fail "node$i tls key not 0600"
  cmp -s "$home/config/genesis.json" "$dir/net/genesis.json" || fail "node$i genesis differs"
  grep -q "listen = \"127.0.0.1:310${i}0\"" "$home/config/node.toml" || fail "node$i p2p port"
  openssl verify -CAfile "$dir/net/ca/ca.crt" "$home/tls/node.crt" > /dev/null \
    || fail "node$i certificate does not chain to the testnet CA"
done
[ "$(grep -c '"public_key"' "$dir/net/genesis.json")" -eq 4 ] || fail "genesis does not name 4 validators"
for org in miit mofcom gacc; do
  [ -f "$dir/net/keys/$org.key" ] || fail "no signatory key for $org"
done
"$reel" testnet init --validators 4 --out "$dir/net" > /dev/null 2>&1 && fail "overwrote a testnet"
"$reel" testnet init --validators 0 --out "$dir/none" > /dev/null 2>&1 && fail "accepted 0 validators"
echo "reel testnet init: all checks passed"
