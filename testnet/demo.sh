#!/usr/bin/env bash
# The README's first command. The full custody story needs reeld and the reel CLI,
# which are not built yet (see README "What exists today"); until then this builds
# REEL and shows what runs: the consensus core, four replicas with one Byzantine,
# under the deterministic simulator's faults.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
echo "== REEL demo =="
echo "The node daemon and the custody story are not built yet; this demo builds REEL"
echo "and runs the BFT consensus core in the deterministic simulator."
"$root/tests/build.sh"
sim="${REEL_BUILD_DIR:-$root/build}/bin/reel-sim"
if [ ! -x "$sim" ]; then
  echo "reel-sim is not built yet either: the build above is all there is to show." >&2
  exit 0
fi
echo
echo "== 4 validators, 1 Byzantine (equivocating leader, double voter), 50 seeds =="
echo "   Each seed: delays, drops, duplicates, partitions, crashes; then healing."
"$sim" --seeds 50 --first-seed 1 --validators 4 --byzantine 1
echo
echo "The last line counts seeds, safety violations (forks), stalls and commits."
echo "Replay one seed with: $sim --seed 7 --validators 4 --byzantine 1"
