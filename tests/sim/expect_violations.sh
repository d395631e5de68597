#!/bin/sh
# Passes only if reel-sim, run with the given arguments, exits non-zero AND
# reports violations > 0: a planted bug must be caught as a safety violation,
# not merely as a stall. Prints the seeds that caught it.
# usage: expect_violations.sh path/to/reel-sim [reel-sim arguments...]
out=$("$@")
status=$?
printf '%s\n' "$out" | grep '^FAIL' | head -5
last=$(printf '%s\n' "$out" | tail -n 1)
echo "$last"
violations=$(printf '%s\n' "$last" | sed -n 's/.*violations=\([0-9]*\).*/\1/p')
if [ "$status" -eq 0 ] || [ -z "$violations" ] || [ "$violations" -eq 0 ]; then
  echo "planted bug NOT caught (exit $status)"
  exit 1
fi
echo "planted bug caught"
