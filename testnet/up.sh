#!/usr/bin/env bash
# testnet/up.sh [--loopback | --netns | --wan DELAY_MS:JITTER_MS:LOSS_PERCENT] [N]: make
# the files of an N-validator network (default 4) under testnet/.run with `reel testnet
# init`, start N reeld with mutual TLS (on loopback, or each in its own network namespace,
# optionally behind a WAN profile: testnet/netns.sh), wait until every node commits, and
# print where each one listens. Builds REEL first when the binaries are missing. A
# network already made with N nodes is restarted as it is. --help lists the options.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() {
  cat << 'EOF'
Usage: testnet/up.sh [--loopback | --netns | --wan DELAY_MS:JITTER_MS:LOSS_PERCENT] [N]

Starts N validators (default 4) under $REEL_RUN_DIR (default testnet/.run); stop them
with testnet/down.sh.

  (no option)   every node on 127.0.0.1, ports from $REEL_BASE_PORT (default 26600)
  --loopback    back to 127.0.0.1 for a run folder made with --netns (made anew)
  --netns       every node in its own network namespace (reelK-n<i>, address
                10.77.K.(10+i), same ports), linked by veth to a bridge; this shell
                reaches them at those addresses. Needs root, iproute2 and nftables.
  --wan D:J:L   --netns, and a WAN between the nodes: each peer link goes through its
                own reel-relay, which delays every chunk by D ms plus a jitter that
                wanders in 0..J ms (mean D + J/2 at any load, never reordering a
                connection), and L percent of the packets of every link are lost
                (nftables). Example: --wan 50:100:1 gives 50-150 ms one way and 1%
                loss.
  -h, --help    this text

Without an option the run folder's network starts as it was made (loopback, or
namespaces with the same WAN profile). Environment: REEL_NETNS=1 is --netns,
REEL_WAN=D:J:L is --wan D:J:L. testnet/down.sh stops the nodes and removes the
namespaces, relays and rules; testnet/bench.sh and testnet/status.sh work on either
kind of network.
EOF
}

n=4
kind=""  # loopback or netns; empty: as the network in the run folder was made
wan=""
[ "${REEL_NETNS:-0}" = 0 ] || kind=netns
[ -z "${REEL_WAN:-}" ] || { kind=netns; wan="$REEL_WAN"; }
while [ $# -gt 0 ]; do
  case "$1" in
    -h | --help) usage; exit 0 ;;
    --loopback) kind=loopback; wan="" ;;
    --netns) kind=netns ;;
    --wan | --wan=*)
      if [ "$1" = --wan ]; then
        [ $# -ge 2 ] || { echo "up.sh: --wan needs DELAY_MS:JITTER_MS:LOSS_PERCENT" >&2; exit 2; }
        wan="$2"
        shift
      else
        wan="${1#--wan=}"
      fi
      kind=netns
      [[ "$wan" =~ ^[0-9]+:[0-9]+:[0-9]+(\.[0-9])?$ ]] || {
        echo "up.sh: --wan: expected DELAY_MS:JITTER_MS:LOSS_PERCENT (e.g. 50:100:1), got '$wan'" >&2
        exit 2
      }
      ;;
    [0-9]*) n="$1" ;;
    *) echo "up.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
  shift
done
# $run_dir/network: "loopback", or "netns K [WAN]" (the namespace number the homes name).
made_as="$(cat "$run_dir/network" 2> /dev/null || echo loopback)"
if [ -z "$kind" ]; then
  read -r kind _ wan <<< "$made_as"
  wan="${wan:-}"
fi
mode="$kind"
use_netns=""
[ "$mode" = netns ] && use_netns=1

if [ -n "$use_netns" ] && why="$(netns_unavailable)"; then
  echo "up.sh --netns: $why" >&2
  exit 1
fi
if [ ! -x "$bin_dir/reeld" ] || [ ! -x "$bin_dir/reel" ] ||
    { [ -n "$use_netns" ] && [ ! -x "$bin_dir/reel-relay" ]; }; then
  "$root/tests/build.sh" reeld reel reel-relay reel-bench  # the tools, not the tests
fi

here="$(dirname "${BASH_SOURCE[0]}")"
# Namespaces recorded but gone (after a reboot) are forgotten.
if netns_on && [ -z "$(netns_list "$netns_index")" ]; then
  rm -f "$run_dir/netns.env"
  netns_index=""
fi
# A network of another size or kind is made anew; one running with another WAN profile
# is stopped first (down.sh removes its namespaces).
fresh=""
[ "$(node_count)" -eq "$n" ] || fresh=1
[ "${made_as%% *}" = "$mode" ] || fresh=1
if [ -n "$fresh" ] || { netns_on && { [ "$mode" != netns ] || [ "${netns_wan:-}" != "$wan" ]; }; }; then
  "$here/down.sh" > /dev/null 2>&1 || true
  netns_index=""
fi
if [ "$mode" = netns ] && ! netns_on; then
  recorded=0
  [ "${made_as%% *}" != netns ] || read -r _ recorded _ <<< "$made_as"
  netns_claim "$recorded"
  trap '[ $? -eq 0 ] || netns_destroy' EXIT
  netns_wan="$wan"
  netns_create "$n"
  # The homes name the nodes' addresses: made for another network number, made anew.
  read -r _ made_index _ <<< "$made_as"
  [ "${made_as%% *}" = netns ] && [ "$made_index" = "$netns_index" ] || fresh=1
fi
if [ -n "$fresh" ]; then
  state="$(cat "$run_dir/netns.env" 2> /dev/null || true)"
  rm -rf "$run_dir"
  "$bin_dir/reel" testnet init --validators "$n" --out "$run_dir" --base-port "$base_port" > /dev/null
  if netns_on; then
    echo "$state" > "$run_dir/netns.env"
    netns_configure_homes
  fi
fi
if netns_on; then echo "netns $netns_index $wan" > "$run_dir/network"; else echo loopback > "$run_dir/network"; fi
if netns_on && [ -n "$wan" ] && ! ls "$run_dir"/relay*.pid > /dev/null 2>&1; then
  IFS=: read -r delay jitter loss <<< "$wan"
  netns_wan_start "$delay" "$jitter" "$loss"
fi
for ((i = 0; i < n; i++)); do
  running "$i" || start_node "$i"
done

# Every node must commit past where it started, within a minute.
deadline=$((SECONDS + 60))
for ((i = 0; i < n; i++)); do
  until h="$(height_of "$i")" && [ -n "$h" ] && [ "$h" -ge 2 ]; do
    if ! running "$i"; then
      echo "node$i exited; its log ($run_dir/node$i.log) ends with:" >&2
      tail -5 "$run_dir/node$i.log" >&2
      exit 1
    fi
    if [ $SECONDS -ge $deadline ]; then
      echo "node$i did not commit within 60 s; see $run_dir/node$i.log" >&2
      exit 1
    fi
    sleep 0.2
  done
done
for ((i = 0; i < n; i++)); do
  echo "node$i api=$(api_addr "$i") metrics=$(metrics_addr "$i") home=$run_dir/node$i"
done
if netns_on; then
  echo "namespaces $(netns_name 0) .. $(netns_name $((n - 1))) on 10.77.$netns_index.0/24" \
    "(ip netns exec NAME ... runs a command inside one)${wan:+; WAN $wan (delay:jitter ms:loss %)}"
fi
