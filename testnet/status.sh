#!/usr/bin/env bash
# testnet/status.sh: one line per node: running or not, committed height, round.
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
n="$(node_count)"
[ "$n" -gt 0 ] || { echo "no network in $run_dir (start one with testnet/up.sh)"; exit 1; }
for ((i = 0; i < n; i++)); do
  if running "$i"; then
    m="$(curl -s --max-time 2 "http://$(metrics_addr "$i")/metrics")"
    h="$(echo "$m" | awk '/^reel_height / { print $2 }')"
    r="$(echo "$m" | awk '/^reel_round / { print $2 }')"
    echo "node$i running pid=$(pid_of "$i") height=${h:-?} round=${r:-?} api=$(api_addr "$i")"
  else
    echo "node$i stopped"
  fi
done
