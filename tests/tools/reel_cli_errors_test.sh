#!/usr/bin/env bash
# The CLI's errors a person can act on, each with a non-zero exit: an unreachable
# node, a missing key file, a body that is not a transaction, an unknown query, an
# unknown flag, a missing required flag, a gram amount that is not a number, an
# enum value that does not exist, and --svg without Graphviz.
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

# Named flags: each mistake names the flag and, for enums, what is allowed.
extract() {
  "$reel" tx extract --node 127.0.0.1:1 --key "$dir/signer.key" --chain-id c \
    --site bayan-obo --lot L1 "$@" 2>&1
}
out=$(extract --product ORE --mass-g 5 --composition ND=5 --no-such-flag 1) && fail "accepted an unknown flag"
echo "$out" | grep -q -- "--no-such-flag" || fail "unknown flag not named: $out"
out=$(extract --product ORE --mass-g 5) && fail "accepted a missing required flag"
echo "$out" | grep -q -- "--composition is required" || fail "missing flag not named: $out"
out=$(extract --product ORE --mass-g 5kg --composition ND=5) && fail "accepted 5kg as grams"
echo "$out" | grep -q -- "--mass-g: '5kg' is not a whole number" || fail "bad grams not explained: $out"
out=$(extract --product GOLD --mass-g 5 --composition ND=5) && fail "accepted an unknown product"
echo "$out" | grep -q -- "--product: 'GOLD' is not one of ORE|CONCENTRATE" || fail "bad enum: $out"
out=$(extract --product ORE --mass-g 5 --composition Xx=5) && fail "accepted an unknown element"
echo "$out" | grep -q "is not one of LA|CE" || fail "bad element not explained: $out"
out=$("$reel" tx process --node 127.0.0.1:1 --key "$dir/signer.key" --chain-id c --input-lot A \
      --output B:MAGNET 2>&1) && fail "accepted an output of two parts"
echo "$out" | grep -q "LOT_ID:PRODUCT:MASS_G:COMPOSITION" || fail "bad output not explained: $out"
out=$("$reel" tx 2>&1) && fail "reel tx without an action or body succeeded"
echo "$out" | grep -q "reel tx --help" || fail "reel tx alone does not point to help: $out"

out=$("$reel" query lot --node 127.0.0.1:1 2>&1) && fail "query lot without an id succeeded"
echo "$out" | grep -q -- "--lot-id is required" || fail "missing lot id not named: $out"
out=$("$reel" query export-stats --node 127.0.0.1:1 --by planet 2>&1) && fail "accepted --by planet"
echo "$out" | grep -q "COUNTRY|END_USER|INDUSTRY|ELEMENT" || fail "bad --by not explained: $out"
out=$(PATH=/nonexistent "$reel" query trace --node 127.0.0.1:1 --lot L1 --svg "$dir/t.svg" 2>&1) \
  && fail "--svg without Graphviz succeeded"
echo "$out" | grep -q "Graphviz" || fail "missing Graphviz not said: $out"
out=$("$reel" watch --node 127.0.0.1:1 2>&1) && fail "watching an unreachable node succeeded"
echo "$out" | grep -q "unreachable" || fail "watch: unreachable node not said: $out"
echo "reel CLI errors: all checks passed"
