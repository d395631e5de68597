#!/usr/bin/env bash
# Runs one fuzz target for a short time from a copy of its seed corpus, so that the
# inputs it finds do not land in the repository. A crash, leak, timeout or UBSan report
# fails the run (libFuzzer exits non-zero); the input that caused it is kept in
# ARTIFACT_DIR, to be copied to tests/fuzz/crashes/<target>/ and reported.
#   run_fuzz.sh BINARY SEED_DIR SECONDS ARTIFACT_DIR
set -euo pipefail
binary="$1" seeds="$2" seconds="$3" artifacts="$4"
corpus="$(mktemp -d "${TMPDIR:-/tmp}/reel-fuzz.XXXXXX")"
trap 'rm -rf "$corpus"' EXIT
cp -R "$seeds"/. "$corpus"/
mkdir -p "$artifacts"
"$binary" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
  -artifact_prefix="$artifacts"/ "$corpus"
