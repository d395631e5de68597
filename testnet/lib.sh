# Shared by the testnet scripts: where things are, and small helpers.
# REEL_RUN_DIR (default testnet/.run) holds the network's files, logs and pids;
# REEL_BASE_PORT (default 26600) is node0's p2p port (node i: +10i, api +1, metrics +2).
# A network started with `up.sh --netns` has each node in its own network namespace at
# its own address (testnet/netns.sh; $run_dir/netns.env says which), on the same ports.
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
run_dir="${REEL_RUN_DIR:-$root/testnet/.run}"
bin_dir="${REEL_BIN_DIR:-${REEL_BUILD_DIR:-$root/build}/bin}"
base_port="${REEL_BASE_PORT:-26600}"
host=127.0.0.1
source "$(dirname "${BASH_SOURCE[0]}")/netns.sh"
netns_index=""
[ -e "$run_dir/netns.env" ] && source "$run_dir/netns.env"

node_count() { ls -d "$run_dir"/node[0-9]*/ 2>/dev/null | wc -l; }
node_host() { if netns_on; then netns_ip "$1"; else echo "$host"; fi; }
api_addr() { echo "$(node_host "$1"):$((base_port + 10 * $1 + 1))"; }
metrics_addr() { echo "$(node_host "$1"):$((base_port + 10 * $1 + 2))"; }
pid_of() { cat "$run_dir/node$1.pid" 2>/dev/null; }
# Alive and not a zombie (a killed child of this shell stays one until waited for).
running() {
  local p s
  p="$(pid_of "$1")"
  [ -n "$p" ] || return 1
  s="$(ps -o stat= -p "$p" 2>/dev/null)" || return 1
  [ -n "$s" ] && [ "${s#Z}" = "$s" ]
}

# The committed height a node reports on /metrics, or empty when it does not answer.
height_of() {
  curl -s --max-time 2 "http://$(metrics_addr "$1")/metrics" 2>/dev/null |
    awk '/^reel_height / { print $2 }'
}

# Observers (homes observer<j>, from `reel testnet init --observers`) listen after the
# validators: observer j uses the ports of node number (validators + j).
observer_count() { ls -d "$run_dir"/observer[0-9]*/ 2>/dev/null | wc -l; }
start_observer() {
  local j=$1
  "$bin_dir/reeld" start --home "$run_dir/observer$j" >> "$run_dir/observer$j.log" 2>&1 &
  echo $! > "$run_dir/observer$j.pid"
}

start_node() {
  local i=$1
  if netns_on; then
    ip netns exec "$(netns_name "$i")" "$bin_dir/reeld" start --home "$run_dir/node$i" \
      >> "$run_dir/node$i.log" 2>&1 &
  else
    "$bin_dir/reeld" start --home "$run_dir/node$i" >> "$run_dir/node$i.log" 2>&1 &
  fi
  echo $! > "$run_dir/node$i.pid"
}
