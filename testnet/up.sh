#!/usr/bin/env bash
# testnet/up.sh [N]: make the files of an N-validator network (default 4) under
# testnet/.run with `reel testnet init`, start N reeld with mutual TLS, wait until
# every node commits, and print where each one listens. Builds REEL first when the
# binaries are missing. A network already made with N nodes is restarted as it is.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
n="${1:-4}"

if [ ! -x "$bin_dir/reeld" ] || [ ! -x "$bin_dir/reel" ]; then
  "$root/tests/build.sh"
fi
if [ "$(node_count)" -ne "$n" ]; then
  "$(dirname "${BASH_SOURCE[0]}")/down.sh" > /dev/null 2>&1 || true
  rm -rf "$run_dir"
  "$bin_dir/reel" testnet init --validators "$n" --out "$run_dir" --base-port "$base_port" > /dev/null
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
