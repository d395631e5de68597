# Sourced by the network namespace tests (netns_*_test.sh, TESTING.md row 7), which
# run as root: each reeld in its own network namespace, linked by veth to a bridge
# (testnet/netns.sh), faults from nftables rules, latency from reel-relay. The script
# dies with exit 77 (CTest: skipped) and says why when namespaces cannot be made here.
#
# What it gives a test:
#   netns_test_start N [reel testnet init flags]  homes, namespaces, (WAN if $wan_profile
#                                                  is "DELAY:JITTER:LOSS"), nodes, first commits
#   bench_start SECONDS [reel-bench flags]        reel-bench in the background on every
#                                                  node (or those of $bench_nodes); returns
#                                                  once its measured phase began
#   bench_finish                                  waits for it, prints its figures, sets
#                                                  bench_tps bench_p50 bench_p99 bench_committed
#                                                  bench_errors
#   check_chain                                   chain_check: one chain on every node, every
#                                                  transaction reel-bench saw committed on each
#   heights "I J .."   min_height "I J .."   max_height "I J .."   latest_proposer
#   wait_heights_above "I J .." H SECONDS         every node listed above H; prints seconds taken
#   commits_through "I J .." SECONDS BLOCKS WHAT  with a fault on: every node listed commits
#                                                  BLOCKS within SECONDS; then heals
#   fail MESSAGE
# and the faults of testnet/netns.sh: netns_partition, netns_oneway, netns_drop,
# netns_loss, netns_heal. Cleanup (namespaces, relays, rules, processes, the run folder)
# runs on every exit; a failure first prints the end of every log, and
# REEL_NETNS_KEEP_LOGS=DIR keeps the logs (nodes, relays, reel-bench) there.
#   $1 of the script: the build folder.
default_port=26600  # every node has its own address: the ports collide with nothing
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

bench_pid=""
netns_test_cleanup() {
  local rc=$?
  [ -n "$bench_pid" ] && kill "$bench_pid" 2> /dev/null
  if [ -n "${REEL_NETNS_KEEP_LOGS:-}" ] && [ -d "$run_dir" ]; then
    mkdir -p "$REEL_NETNS_KEEP_LOGS"
    cp "$run_dir"/*.log "$run_dir"/bench.out "$run_dir"/committed.txt "$REEL_NETNS_KEEP_LOGS"/ 2> /dev/null
  fi
  (exit "$rc")
  cleanup  # lib.sh's: the logs on failure, down.sh (which removes the namespaces), the folder
  # down.sh found no netns.env (the set failed half made): still ours, so removed here.
  if netns_on && [ "$(awk '{ print $1 }' "$netns_registry/$netns_index" 2> /dev/null)" = "$$" ]; then
    netns_destroy
  fi
}
trap netns_test_cleanup EXIT

fail() {
  echo "FAIL: $*"
  exit 1
}

all_nodes=""
# The API addresses of the nodes $1 (default: all), comma-separated.
api_list() {
  local i list=""
  for i in ${1:-$all_nodes}; do list+="${list:+,}$(api_addr "$i")"; done
  echo "$list"
}

netns_test_start() {
  local n=$1 i
  shift
  local why
  if why="$(netns_unavailable)"; then
    echo "SKIP: $why"
    exit 77
  fi
  [ -x "$bin_dir/reel-relay" ] && [ -x "$bin_dir/chain_check" ] && [ -x "$bin_dir/reel-bench" ] ||
    fail "build reeld, reel, reel-bench, reel-relay and chain_check first"
  "$bin_dir/reel" testnet init --validators "$n" --out "$run_dir" --base-port "$base_port" "$@" \
    > /dev/null || fail "reel testnet init failed"
  # Numbers from 8 on: an operator's `testnet/up.sh --netns` takes 0 first.
  netns_claim 8 || fail "no network namespace number free"
  netns_create "$n" || fail "could not make the namespaces"
  netns_configure_homes
  all_nodes="$(seq -s ' ' 0 $((n - 1)))"
  if [ -n "${wan_profile:-}" ]; then
    local delay jitter loss
    IFS=: read -r delay jitter loss <<< "$wan_profile"
    netns_wan_start "$delay" "$jitter" "$loss" || fail "could not start the relays"
  fi
  for i in $all_nodes; do start_node "$i"; done
  for i in $all_nodes; do
    wait_height "$i" 2 60 || fail "node$i did not commit within 60 s"
  done
  echo "$n validators up in namespaces $(netns_name 0) .. $(netns_name $((n - 1)))" \
    "(10.77.$netns_index.0/24)${wan_profile:+, WAN $wan_profile (delay:jitter ms:loss %)}"
}

bench_start() {
  local seconds=$1
  shift
  "$bin_dir/reel-bench" --nodes "$(api_list "${bench_nodes:-}")" --regulator-key "$run_dir/keys/miit.key" \
    --duration "$seconds" --committed-out "$run_dir/committed.txt" "$@" \
    > "$run_dir/bench.out" 2> "$run_dir/bench.log" &
  bench_pid=$!
  local deadline=$((SECONDS + 60))
  until grep -q "lanes ready" "$run_dir/bench.log" 2> /dev/null; do
    kill -0 "$bench_pid" 2> /dev/null || fail "reel-bench stopped in its setup: $(cat "$run_dir/bench.log")"
    [ $SECONDS -lt $deadline ] || fail "reel-bench's setup took more than 60 s"
    sleep 0.2
  done
}

bench_finish() {
  wait "$bench_pid"
  local rc=$?
  bench_pid=""
  sed 's/^/  /' "$run_dir/bench.out"
  local line
  line="$(tail -1 "$run_dir/bench.out")"
  [[ "$line" =~ ^tps=([0-9]+)\ p50_ms=([0-9]+)\ p99_ms=([0-9]+)\ committed=([0-9]+)\ errors=([0-9]+)$ ]] ||
    fail "reel-bench ended (exit $rc) without its figures: $(tail -5 "$run_dir/bench.log")"
  bench_tps=${BASH_REMATCH[1]}
  bench_p50=${BASH_REMATCH[2]}
  bench_p99=${BASH_REMATCH[3]}
  bench_committed=${BASH_REMATCH[4]}
  bench_errors=${BASH_REMATCH[5]}
  [ "$bench_errors" -eq 0 ] || grep '^reel-bench:' "$run_dir/bench.log" | sed 's/^/  /'
  [ "$bench_committed" -gt 0 ] || fail "reel-bench saw nothing committed"
}

check_chain() {
  "$bin_dir/chain_check" --nodes "$(api_list)" --committed "$run_dir/committed.txt" --wait-s 60 ||
    fail "the nodes do not hold one chain with every acknowledged transaction"
}

heights() {
  local i out=""
  for i in $1; do out+="${out:+ }node$i=$(height_of "$i")"; done
  echo "$out"
}
min_height() {
  local i h m=""
  for i in $1; do
    h="$(height_of "$i")"
    h="${h:-0}"
    if [ -z "$m" ] || [ "$h" -lt "$m" ]; then m=$h; fi
  done
  echo "$m"
}
max_height() {
  local i h m=0
  for i in $1; do
    h="$(height_of "$i")"
    if [ "${h:-0}" -gt "$m" ]; then m=$h; fi
  done
  echo "$m"
}

# The lowest height that a sample of heights ($1, as `heights` prints it) gives the nodes
# of $2, so that what is printed and what is checked are the same numbers.
lowest_of() {
  local i h m=""
  for i in $2; do
    h="$(echo "$1" | tr ' ' '\n' | awk -F= -v n="node$i" '$1 == n { print $2 }')"
    h="${h:-0}"
    if [ -z "$m" ] || [ "$h" -lt "$m" ]; then m=$h; fi
  done
  echo "$m"
}

# Waits until every node of $1 is above height $2, up to $3 seconds; prints the seconds
# it took. Returns 1 on timeout.
wait_heights_above() {
  local started=$SECONDS deadline=$((SECONDS + $3))
  until [ "$(min_height "$1")" -gt "$2" ]; do
    [ $SECONDS -lt $deadline ] || return 1
    sleep 0.2
  done
  echo $((SECONDS - started))
}

# With a fault in place ($4 says which): waits $2 seconds, heals, and fails unless every
# node of $1 committed at least $3 blocks meanwhile. Sets phase_blocks to how many the
# slowest of them committed.
commits_through() {
  local nodes=$1 seconds=$2 blocks_min=$3 what=$4 before after sample
  sample="$(heights "$all_nodes")"
  before="$(lowest_of "$sample" "$nodes")"
  echo "$what: $sample"
  sleep "$seconds"
  sample="$(heights "$all_nodes")"
  after="$(lowest_of "$sample" "$nodes")"
  echo "  ${seconds} s later: $sample"
  netns_heal
  phase_blocks=$((after - before))
  [ "$phase_blocks" -ge "$blocks_min" ] ||
    fail "$what: nodes $nodes committed $phase_blocks blocks in ${seconds} s (want >= $blocks_min)"
}

# The validator that proposed node $1's newest committed block.
latest_proposer() {
  local h
  h="$(height_of "${1:-0}")"
  "$bin_dir/reel" --json query GetBlock --node "$(api_addr "${1:-0}")" --request "{\"height\": $h}" |
    jq -r '.block.header.proposer_index // 0'
}

metric() {
  curl -s --max-time 2 "http://$(metrics_addr "$1")/metrics" | awk -v m="$2" '$1 == m { print $2 }'
}
