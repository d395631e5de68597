# Sourced by the integration scripts, after they set `default_port`: a private run
# folder for the network, the testnet helpers, and cleanup (down.sh, then the folder)
# when the script exits however it exits.
#   $1 of the script: the build folder.
here="$(cd "$(dirname "${BASH_SOURCE[1]}")" && pwd)"
testnet="$here/../../testnet"
export REEL_BUILD_DIR="$1"
export REEL_RUN_DIR="$(mktemp -d)/net"
export REEL_BASE_PORT="${REEL_BASE_PORT:-$default_port}"
source "$testnet/lib.sh"
# A failed script shows the end of every node's log before the folder goes: a node that
# died leaves no other trace.
cleanup() {
  local rc=$?
  if [ "$rc" -ne 0 ]; then
    for f in "$REEL_RUN_DIR"/*.log; do
      [ -e "$f" ] || continue
      echo "--- $(basename "$f") (last 15 lines)"
      tail -15 "$f"
    done
  fi
  "$testnet/down.sh" > /dev/null 2>&1
  rm -rf "$(dirname "$REEL_RUN_DIR")"
}
trap cleanup EXIT

# Waits until node $1 reports a height of at least $2, up to $3 seconds (default 60).
wait_height() {
  local deadline=$((SECONDS + ${3:-60})) h
  while :; do
    h="$(height_of "$1")"
    [ -n "$h" ] && [ "$h" -ge "$2" ] && return 0
    [ $SECONDS -ge $deadline ] && return 1
    sleep 0.2
  done
}

# The header of the committed block at height $2, as node $1 serves it (JSON).
header_at() {
  "$bin_dir/reel" --json query GetBlock --node "$(api_addr "$1")" --request "{\"height\": $2}" |
    jq -c '.block.header'
}
