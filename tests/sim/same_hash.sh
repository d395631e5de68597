#!/bin/sh
# Passes only if one seed, run twice, gives the same event-log hash.
# usage: same_hash.sh path/to/reel-sim [reel-sim arguments, including --seed X]
first=$("$@" | grep '^seed=' | sed 's/.*hash=\([0-9a-f]*\).*/\1/')
second=$("$@" | grep '^seed=' | sed 's/.*hash=\([0-9a-f]*\).*/\1/')
echo "first=$first second=$second"
[ -n "$first" ] && [ "$first" = "$second" ]
