#!/usr/bin/env bash
# The CLI's errors a person can act on, each with a non-zero exit: an unreachable
# node, a missing key file, a body that is not a transaction, an unknown query.
set -uo pipefail
reel="$1"
dir="$(mktemp -d)"
trap 'rm -rf "$dir"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

out=$("$reel" status --node 127.0.0.1:1 2>&1) && fail "status of an unreachable node succeeded"
echo "$out" | grep -q "unreachable" || fail "unreachable node not said: $out"

"$reel" keys new signer --dir "$dir" > /dev/null || fail "keys new"
out=$("$reel" tx --node 127.0.0.1:1 --key "$dir/nobody.key" --chain-id c \
      --body '{"org_id":"miit","set_quota":{"org_id":"x","year":2026}}' 2>&1) && fail "signed with a missing key"
echo "$out" | grep -q "nobody.key" || fail "missing key file not named: $out"

out=$("$reel" tx --node 127.0.0.1:1 --key "$dir/signer.key" --chain-id c --body '{"no_such_field":1}' 2>&1) \
  && fail "accepted a body that is not a TxBody"
echo "$out" | grep -q "reel.v1.TxBody" || fail "bad body not explained: $out"

out=$("$reel" query --node 127.0.0.1:1 NoSuchQuery 2>&1) && fail "accepted an unknown query"
echo "$out" | grep -q "TraceLot" || fail "unknown query does not list the queries: $out"
echo "reel CLI errors: all checks passed"
