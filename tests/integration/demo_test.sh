#!/usr/bin/env bash
# The demo's custody story as a test: up.sh, story.sh (which stops with an error at
# the first step that does not end as the rules say: refusals must carry their
# codes, the trace must reach both mines), down.sh, and no process left behind.
# Usage: demo_test.sh BUILD_DIR
set -uo pipefail
default_port=29700
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
"$testnet/up.sh" 4 || { echo "FAIL: up.sh"; exit 1; }
"$testnet/story.sh" || { echo "FAIL: the story stopped"; tail -3 "$REEL_RUN_DIR"/node0.log; exit 1; }
# The story again on the same chain: new lots, same rules (ids are unique forever).
REEL_STORY_TAG=second "$testnet/story.sh" > /dev/null || { echo "FAIL: second story"; exit 1; }
# Signed with another organisation's key: refused with its code, non-zero exit.
if out="$("$bin_dir/reel" tx --node "$(api_addr 0)" --key "$run_dir/keys/mofcom.key" \
    --body '{"org_id":"miit","set_quota":{"org_id":"ganzhou-re","year":2030,"category":"QUOTA_CATEGORY_SMELTING_SEPARATION","amount_g":"1"}}' 2>&1)"; then
  echo "FAIL: a transaction signed with the wrong key was accepted"; exit 1
fi
echo "$out" | grep -Eq "UNKNOWN_SIGNATORY|INSUFFICIENT_QUORUM" || { echo "FAIL: wrong key: $out"; exit 1; }
echo "wrong signer refused: $(echo "$out" | tail -1)"
"$testnet/down.sh"
if pgrep -f "reeld start --home $REEL_RUN_DIR" > /dev/null; then
  echo "FAIL: a reeld is still running after down.sh"
  exit 1
fi
echo "demo story passed"
