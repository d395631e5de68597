#!/usr/bin/env bash
# testnet/down.sh: stop every reeld of the local network (SIGTERM, then SIGKILL
# after 10 s) and leave its files in testnet/.run for the next up.sh. A network started
# with `up.sh --netns` loses its namespaces, links, relays and rules too.
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
n="$(node_count)"
# Observers first: they only follow the validators.
for pidfile in "$run_dir"/observer*.pid; do
  [ -e "$pidfile" ] || continue
  p="$(cat "$pidfile")"
  if kill -TERM "$p" 2>/dev/null; then
    deadline=$((SECONDS + 10))
    while kill -0 "$p" 2>/dev/null && [ $SECONDS -lt $deadline ]; do sleep 0.1; done
    kill -KILL "$p" 2>/dev/null
  fi
  rm -f "$pidfile"
done
for ((i = 0; i < n; i++)); do
  running "$i" && kill -TERM "$(pid_of "$i")"
done
deadline=$((SECONDS + 10))
for ((i = 0; i < n; i++)); do
  while running "$i" && [ $SECONDS -lt $deadline ]; do sleep 0.1; done
  if running "$i"; then
    echo "node$i did not stop on SIGTERM; killing it" >&2
    kill -KILL "$(pid_of "$i")"
  fi
  rm -f "$run_dir/node$i.pid"
done
if netns_on; then
  netns="$(netns_switch) and $n node namespaces"
  netns_destroy
  echo "removed $netns"
fi
echo "stopped $n node(s); files and logs stay in $run_dir"
