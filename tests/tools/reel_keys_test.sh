#!/usr/bin/env bash
# reel keys new|show|list through the real binary: files 0600, passphrases, clear
# errors with non-zero exits for exposed keys, missing folders and unknown flags.
set -uo pipefail
reel="$1"
dir="$(mktemp -d)"
trap 'rm -rf "$dir"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

out=$("$reel" --json keys new alice --dir "$dir/keys") || fail "keys new failed: $out"
pk=$(echo "$out" | sed -n 's/.*"public_key": "\([0-9a-f]*\)".*/\1/p')
[ ${#pk} -eq 64 ] || fail "public key not 64 hex digits: $out"
[ "$(stat -c %a "$dir/keys/alice.key")" = 600 ] || fail "key file mode is not 600"

echo "correct horse" > "$dir/pass"
"$reel" keys new bob --dir "$dir/keys" --passphrase-file "$dir/pass" > /dev/null || fail "encrypted key"
grep -q '"ciphertext"' "$dir/keys/bob.key" || fail "bob.key is not encrypted"

"$reel" keys new alice --dir "$dir/keys" > /dev/null 2>&1 && fail "overwrote an existing key"

show=$("$reel" keys show alice --dir "$dir/keys") || fail "keys show"
echo "$show" | grep -q "$pk" || fail "show does not print the public key: $show"

list=$("$reel" keys list --dir "$dir/keys") || fail "keys list"
echo "$list" | grep -q "^alice .*$pk .*no" || fail "list misses alice: $list"
echo "$list" | grep -q "^bob .*yes" || fail "list misses bob as encrypted: $list"

chmod 644 "$dir/keys/alice.key"
err=$("$reel" keys show alice --dir "$dir/keys" 2>&1) && fail "showed a world-readable key"
echo "$err" | grep -q "chmod 600" || fail "exposed-key error does not say how to fix it: $err"

err=$("$reel" keys list --dir "$dir/none" 2>&1) && fail "listed a missing folder"
echo "$err" | grep -q "no key folder" || fail "missing-folder error unclear: $err"

"$reel" keys new carol --no-such-flag > /dev/null 2>&1 && fail "accepted an unknown flag"
echo "reel keys: all checks passed"
