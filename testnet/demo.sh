#!/usr/bin/env bash
# The README's first command: on a fresh Debian 12 clone it installs what is missing,
# builds, brings up a four-validator network on this machine with mutual TLS, and
# tells the custody story from mine to border with the reel CLI (testnet/story.sh).
# The network keeps running afterwards; testnet/down.sh stops it.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/lib.sh"

echo "== REEL demo: building (first run installs Debian packages and compiles; be patient)"
"$root/tests/build.sh" reeld reel reel-relay reel-bench  # the tools, not the tests

echo
echo "== Starting four validators (reeld) with mutual TLS under $run_dir"
"$here/up.sh" 4

"$here/story.sh"

cat <<MSG

== The network is still running.
   Status:        testnet/status.sh
   Query it:      $bin_dir/reel query list-orgs --node $(api_addr 0)
                  $bin_dir/reel query export-stats --by industry --node $(api_addr 1)
                  $bin_dir/reel status --node $(api_addr 2)
                  $bin_dir/reel query --help          (every query; add --json for scripts)
   Follow it:     $bin_dir/reel watch --node $(api_addr 3)
   Metrics:       curl http://$(metrics_addr 0)/metrics
   Logs:          $run_dir/node*.log
   Stop it:       testnet/down.sh
MSG
