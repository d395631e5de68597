# Sourced by testnet/lib.sh: a network of reeld nodes in Linux network namespaces on one
# machine, for `testnet/up.sh --netns` and the network tests (tests/integration/netns_*).
#
# Layout, for the network numbered K (claimed at creation, 0..63):
#   reelK-sw      a "switch" namespace holding the bridge br0
#   reelK-n<i>    node i's namespace: eth0 at 10.77.K.(10+i)/24, veth to the bridge;
#                 segmentation offload off (gso_max_segs 1), so that a packet the rules
#                 drop is one MTU-sized packet, not a 64 KiB burst
#   reelKh        in the root namespace: 10.77.K.1/24, veth to the bridge, so that the
#                 CLI, curl and reel-bench reach every node's API and metrics directly
# A node listens on its own address with testnet/lib.sh's ports (base+10i ..); genesis
# names each validator at its namespace's address. The root namespace gets one link and
# one route, nothing else: the bridge and every rule live in the namespaces, and go
# with them.
#
# Faults, applied in the namespace of the node that receives the packets (nftables,
# table inet reel, chain `faults`, hooked at prerouting before conntrack and NAT), so
# that the sender's TCP sees real loss:
#   netns_drop FROM TO [PERCENT]   packets FROM -> TO dropped (all, or PERCENT%)
#   netns_partition "A.." "B.."    every packet between the two groups dropped
#   netns_oneway FROM TO..         the connections FROM dials to TO are cut: TO no longer
#                                  hears FROM's messages; FROM still hears TO's
#   netns_loss PERCENT             PERCENT% of the packets of every directed link lost
#   netns_heal                     every fault above removed
#   netns_dropped faults|wan       packets the rules have dropped so far
# A WAN profile (netns_wan_start DELAY_MS JITTER_MS LOSS_PERCENT) is separate from the
# faults: one reel-relay per directed peer link, in the receiver's namespace, delays
# each chunk by DELAY_MS plus a jitter that wanders in 0..JITTER_MS (the kernel has no
# netem; tools/relay/delay_model.h); a DNAT rule
# sends the connections i dials to j's peer port through the relay of link i -> j, and
# chain `wan` loses LOSS_PERCENT of every link's packets. netns_heal leaves it on.
#
# State: $run_dir/netns.env (netns_index, netns_nodes, netns_wan) while the namespaces
# exist; /run/reel-netns/K names the owner, so that a set left behind by a killed run
# (owner gone, no process inside) is removed by the next claim.
# Needs root, iproute2 and nftables; netns_unavailable says why not.

netns_registry=/run/reel-netns

netns_name() { echo "reel${netns_index}-n$1"; }
netns_switch() { echo "reel${netns_index}-sw"; }
netns_ip() { echo "10.77.${netns_index}.$((10 + $1))"; }
netns_host_ip() { echo "10.77.${netns_index}.1"; }
netns_p2p_port() { echo $((base_port + 10 * $1)); }
# The relay of link FROM -> TO listens in TO's namespace, above TO's own ports.
netns_relay_port() { echo $((base_port + 10 * $2 + 3 + $1)); }
netns_on() { [ -n "${netns_index:-}" ]; }
# The namespaces of network $1.
netns_list() { ip netns list | awk -v p="reel$1-" 'index($1, p) == 1 { print $1 }'; }

# Prints why namespaces cannot be made here and returns 0, or returns 1 when they can.
netns_unavailable() {
  if [ "$(id -u)" -ne 0 ]; then echo "network namespaces need root"; return 0; fi
  if ! command -v ip > /dev/null; then echo "no ip command (Debian package iproute2)"; return 0; fi
  if ! command -v nft > /dev/null; then echo "no nft command (Debian package nftables)"; return 0; fi
  local probe="reel-probe-$$"
  if ! ip netns add "$probe" 2> /dev/null; then
    echo "ip netns add fails: this kernel or container does not allow network namespaces"
    return 0
  fi
  local why=""
  if ! ip -n "$probe" link add name p0 type veth peer name p1 2> /dev/null; then
    why="no veth links in network namespaces"
  elif ! ip -n "$probe" link add name br0 type bridge 2> /dev/null; then
    why="no bridges in network namespaces"
  elif ! printf 'table inet t {\n chain c {\n  type filter hook prerouting priority -300;\n  %s\n }\n}\n' \
      'numgen random mod 100 < 5 drop' | ip netns exec "$probe" nft -f - 2> /dev/null; then
    why="nftables (with numgen) does not work in network namespaces"
  fi
  ip netns del "$probe"
  [ -n "$why" ] && { echo "$why"; return 0; }
  return 1
}

# Removes network K when its owner is gone and nothing runs in its namespaces.
netns_reap_stale() {
  local k=$1 owner ns namespaces
  namespaces="$(netns_list "$k")"
  [ -n "$namespaces" ] || { rm -f "$netns_registry/$k"; return 0; }
  owner="$(awk '{ print $1 }' "$netns_registry/$k" 2> /dev/null)"
  if [ -n "$owner" ] && kill -0 "$owner" 2> /dev/null; then return 0; fi
  for ns in $namespaces; do
    [ -z "$(ip netns pids "$ns" 2> /dev/null)" ] || return 0
  done
  for ns in $namespaces; do ip netns del "$ns" 2> /dev/null; done
  ip link del "reel${k}h" 2> /dev/null
  rm -f "$netns_registry/$k"
}

# Claims a free network number into netns_index ($1: the one to try first).
netns_claim() {
  local first=${1:-0} k
  mkdir -p "$netns_registry"
  for ((k = first; k < first + 64; k++)); do
    local kk=$((k % 64))
    netns_reap_stale "$kk"
    [ -z "$(netns_list "$kk")" ] || continue
    [ -z "$(ip -4 route show "10.77.$kk.0/24")" ] || continue
    ip link show "reel${kk}h" > /dev/null 2>&1 && continue
    ip netns add "reel$kk-sw" 2> /dev/null || continue
    echo "$$ $run_dir" > "$netns_registry/$kk"
    netns_index=$kk
    return 0
  done
  echo "netns: no free network number (reel0-sw .. reel63-sw all taken)" >&2
  return 1
}

# Creates the switch, the host link and N node namespaces (after netns_claim).
netns_create() {
  local n=$1 i sw
  sw="$(netns_switch)"
  netns_nodes=$n
  mkdir -p "$run_dir"
  ip -n "$sw" link set lo up &&
    ip -n "$sw" link add name br0 type bridge &&
    ip -n "$sw" link set br0 up &&
    ip link add name "reel${netns_index}h" type veth peer name host netns "$sw" &&
    ip -n "$sw" link set host master br0 up &&
    ip addr add "$(netns_host_ip)/24" dev "reel${netns_index}h" &&
    ip link set "reel${netns_index}h" up || return 1
  for ((i = 0; i < n; i++)); do
    local ns
    ns="$(netns_name "$i")"
    ip netns add "$ns" &&
      ip -n "$ns" link set lo up &&
      ip link add name eth0 netns "$ns" type veth peer name "n$i" netns "$sw" &&
      ip -n "$sw" link set "n$i" master br0 up &&
      ip -n "$ns" addr add "$(netns_ip "$i")/24" dev eth0 &&
      ip -n "$ns" link set eth0 gso_max_segs 1 up || return 1
    ip netns exec "$ns" nft -f - << EOF || return 1
table inet reel {
  chain faults {}
  chain wan {}
  chain prerouting {
    type filter hook prerouting priority -300; policy accept;
    jump faults
    jump wan
  }
}
table ip reel_nat {
  chain prerouting { type nat hook prerouting priority dstnat; policy accept; }
}
EOF
  done
  printf 'netns_index=%s\nnetns_nodes=%s\nnetns_wan=%s\n' "$netns_index" "$n" "${netns_wan:-}" \
    > "$run_dir/netns.env"
}

# Points the homes that `reel testnet init` made on 127.0.0.1 at the namespaces'
# addresses: genesis (every copy), nodes.json and each node.toml.
netns_configure_homes() {
  local i f script=""
  for ((i = 0; i < netns_nodes; i++)); do
    local p
    p="$(netns_p2p_port "$i")"
    script+="s/127\\.0\\.0\\.1:($p|$((p + 1))|$((p + 2)))\\b/$(netns_ip "$i"):\\1/g;"
  done
  for f in "$run_dir"/genesis.json "$run_dir"/nodes.json "$run_dir"/node*/config/genesis.json \
      "$run_dir"/node*/config/node.toml; do
    [ -e "$f" ] && sed -E -i "$script" "$f"
  done
}

# Stops every relay and every process left in the namespaces, then removes them (and
# with them the links, the bridge and every rule).
netns_destroy() {
  netns_on || return 0
  local f ns pids
  for f in "$run_dir"/relay*.pid; do
    [ -e "$f" ] || continue
    kill -TERM "$(cat "$f")" 2> /dev/null
    rm -f "$f"
  done
  for ns in $(netns_list "$netns_index"); do
    pids="$(ip netns pids "$ns" 2> /dev/null)"
    [ -n "$pids" ] && kill -KILL $pids 2> /dev/null
    ip netns del "$ns" 2> /dev/null
  done
  ip link del "reel${netns_index}h" 2> /dev/null
  rm -f "$netns_registry/$netns_index" "$run_dir/netns.env"
  netns_index=""
}

# Rules for node $1's namespace, read on stdin, added to chain $2 of table inet reel.
netns_rules() {
  local ns rules=""
  ns="$(netns_name "$1")"
  while read -r rule; do
    [ -n "$rule" ] && rules+="add rule inet reel $2 $rule"$'\n'
  done
  printf '%s' "$rules" | ip netns exec "$ns" nft -f -
}

# "7.5" -> "numgen random mod 1000 < 75": loss in tenths of a percent.
netns_loss_match() {
  awk -v p="$1" 'BEGIN { printf "numgen random mod 1000 < %d", p * 10 + 0.5 }'
}

netns_drop() {
  local from=$1 to=$2 percent=${3:-100} match=""
  [ "$percent" = 100 ] || match="$(netns_loss_match "$percent")"
  echo "ip saddr $(netns_ip "$from") $match counter drop" | netns_rules "$to" faults
}

netns_partition() {
  local a b
  for a in $1; do
    for b in $2; do
      netns_drop "$a" "$b"
      netns_drop "$b" "$a"
    done
  done
}

netns_oneway() {
  local from=$1 to port
  shift
  for to in "$@"; do
    port="$(netns_p2p_port "$to")"
    echo "ip saddr $(netns_ip "$from") tcp dport $port counter drop" | netns_rules "$to" faults
    echo "ip saddr $(netns_ip "$to") tcp sport $port counter drop" | netns_rules "$from" faults
  done
}

netns_loss() {
  local i j
  for ((j = 0; j < netns_nodes; j++)); do
    for ((i = 0; i < netns_nodes; i++)); do
      if [ "$i" -ne "$j" ]; then echo "ip saddr $(netns_ip "$i") $(netns_loss_match "$1") counter drop"; fi
    done | netns_rules "$j" faults
  done
}

# Packets dropped so far by the rules of chain $1 (faults or wan) in every namespace.
netns_dropped() {
  local i total=0 n
  for ((i = 0; i < netns_nodes; i++)); do
    n="$(ip netns exec "$(netns_name "$i")" nft list chain inet reel "$1" |
      awk '{ for (f = 1; f < NF; f++) if ($f == "packets") s += $(f + 1) } END { print s + 0 }')"
    total=$((total + n))
  done
  echo "$total"
}

netns_heal() {
  local i
  for ((i = 0; i < netns_nodes; i++)); do
    ip netns exec "$(netns_name "$i")" nft flush chain inet reel faults
  done
}

# The WAN profile; before the nodes start, so that every peer connection goes through a
# relay. Relay logs and pids: $run_dir/relay<from>-<to>.{log,pid}.
netns_wan_start() {
  local delay=$1 jitter=$2 loss=$3 i j
  for ((j = 0; j < netns_nodes; j++)); do
    local ns port nat=""
    ns="$(netns_name "$j")"
    port="$(netns_p2p_port "$j")"
    for ((i = 0; i < netns_nodes; i++)); do
      [ "$i" -eq "$j" ] && continue
      local relay_port
      relay_port="$(netns_relay_port "$i" "$j")"
      ip netns exec "$ns" "$bin_dir/reel-relay" --listen "$(netns_ip "$j"):$relay_port" \
        --connect "$(netns_ip "$j"):$port" --delay-ms "$delay" --jitter-ms "$jitter" \
        >> "$run_dir/relay$i-$j.log" 2>&1 &
      echo $! > "$run_dir/relay$i-$j.pid"
      nat+="add rule ip reel_nat prerouting ip saddr $(netns_ip "$i") tcp dport $port"
      nat+=" dnat to $(netns_ip "$j"):$relay_port"$'\n'
    done
    printf '%s' "$nat" | ip netns exec "$ns" nft -f - || return 1
    if [ "$(awk -v p="$loss" 'BEGIN { print (p > 0) }')" = 1 ]; then
      for ((i = 0; i < netns_nodes; i++)); do
        if [ "$i" -ne "$j" ]; then echo "ip saddr $(netns_ip "$i") $(netns_loss_match "$loss") counter drop"; fi
      done | netns_rules "$j" wan || return 1
    fi
  done
  netns_wan="$delay:$jitter:$loss"
  sed -i "s/^netns_wan=.*/netns_wan=$netns_wan/" "$run_dir/netns.env"
  # Every relay listens before a node dials through it.
  local deadline=$((SECONDS + 10))
  for ((j = 0; j < netns_nodes; j++)); do
    for ((i = 0; i < netns_nodes; i++)); do
      [ "$i" -eq "$j" ] && continue
      until ip netns exec "$(netns_name "$j")" ss -Hltn "sport = :$(netns_relay_port "$i" "$j")" |
          grep -q LISTEN; do
        if [ $SECONDS -ge $deadline ]; then
          echo "netns: relay $i -> $j does not listen; $run_dir/relay$i-$j.log:" >&2
          cat "$run_dir/relay$i-$j.log" >&2
          return 1
        fi
        sleep 0.05
      done
    done
  done
}
