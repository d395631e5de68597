#!/usr/bin/env bash
# A damaged disk is noticed (TESTING.md row 6). Four validators on a fast chain; one
# at a time is stopped, its LevelDB store in <home>/data damaged, and restarted while
# the other three keep committing:
#   (a) node3, killed with SIGKILL: its newest write-ahead log is cut inside the
#       record of its last committed block, as a torn write leaves it. LevelDB drops
#       the torn record: the node starts one block lower, catches up, agrees.
#   (b) a flipped byte inside the log (node2), in the index at the tail of a table
#       (node3), at the tail of the MANIFEST (node1). Paranoid checks refuse each:
#       reeld exits with status 1 and a message that names the data folder and says
#       to move it away and restart to resync from peers; done so, the node syncs
#       from genesis and agrees.
# Either way a node never serves a header other than node0's: the agreement check
# is checked to tell two different headers apart.
# Usage: damaged_disk_test.sh BUILD_DIR
set -uo pipefail
default_port=30100
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
reel="$bin_dir/reel"

fail() {
  echo "FAIL: $*"
  for i in 0 1 2 3; do echo "--- node$i log tail"; tail -5 "$run_dir/node$i.log" 2>/dev/null; done
  exit 1
}
data_of() { echo "$run_dir/node$1/data"; }
newest() { ls "$(data_of "$1")"/$2 2>/dev/null | sort | tail -1; }

# Stops node $1 with SIGKILL, so that its log holds its newest blocks.
kill_node() {
  local pid
  pid="$(pid_of "$1")"
  kill -KILL "$pid"
  wait "$pid" 2>/dev/null
  running "$1" && fail "node$1 survived SIGKILL"
}

# "offset height" of each commit_height record in LevelDB log $1: a block's batch
# ends with the put of 0x01 "commit_height" (KEYS.md), here as tag 0x01, key length
# 14, the key, value length 8, then the u64 big-endian height.
commit_records() {
  local offset
  LC_ALL=C grep -obaP '\x0e\x01commit_height\x08' "$1" | cut -d: -f1 | while read -r offset; do
    echo "$offset $((16#$(od -An -tx1 -j $((offset + 16)) -N8 "$1" | tr -d ' \n')))"
  done
}

flip_byte() {  # file offset
  local byte
  byte="$(od -An -tu1 -j "$2" -N1 "$1" | tr -d ' ')"
  printf "$(printf '\\%03o' $((byte ^ 255)))" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}

# The committed height node $1 last reported opening its store at.
opened_height() {
  grep 'store opened' "$run_dir/node$1.log" | tail -1 | sed -n 's/.*height=\([0-9]*\).*/\1/p'
}

same_header() { [ -n "$1" ] && [ "$1" != null ] && [ "$1" = "$2" ]; }
# Node $1 serves the header node0 serves at each height after it.
agrees() {
  local i=$1 h reference got
  shift
  for h in "$@"; do
    reference="$(header_at 0 "$h")"
    got="$(header_at "$i" "$h")"
    same_header "$reference" "$got" || fail "node$i serves at height $h '$got'; node0 '$reference'"
  done
}

# The other three commit while node $1 is down.
others_commit() {
  local i target=$(( $(height_of 0) + 10 ))
  for i in 0 1 2 3; do
    [ "$i" = "$1" ] && continue
    # 60 s: right after a validator resynced from an empty store, the next kill leaves
    # it in the quorum while it may still be catching up (a stall seen once under load;
    # see the stop note of issue 11).
    wait_height "$i" "$target" 60 || fail "node$i stopped committing while node$1 was down"
  done
}

# Starts node $1 on its damaged store; sets `outcome` to "recovered" (it serves its
# height) or "refused" (it exited; then with status 1 and a message that names its
# data folder and says to move it away and resync from peers).
start_damaged() {
  local i=$1 log="$run_dir/node$1.log" lines pid status message deadline=$((SECONDS + 30))
  lines="$(wc -l < "$log")"
  start_node "$i"
  pid="$(pid_of "$i")"
  while :; do
    if ! running "$i"; then
      wait "$pid"
      status=$?
      message="$(tail -n +$((lines + 1)) "$log" | grep 'reeld: start-up refused' | tail -1)"
      echo "node$i refused to start (exit status $status): $message"
      [ "$status" = 1 ] || fail "node$i exited with status $status on a damaged store"
      [[ "$message" == *"$(data_of "$i")"* ]] ||
        fail "node$i's refusal does not name its data folder"
      [[ "$message" == *"move"*"resync"* ]] || fail "node$i's refusal does not say what to do"
      outcome=refused
      return
    fi
    if [ -n "$(height_of "$i")" ]; then
      echo "node$i started on its damaged store at height $(opened_height "$i")"
      outcome=recovered
      return
    fi
    [ $SECONDS -ge $deadline ] && fail "node$i neither started nor refused within 30 s"
    sleep 0.2
  done
}

# Node $1 reaches node0's height and agrees with it at heights 1, $2.. and the top.
catches_up() {
  local i=$1 target started=$SECONDS
  shift
  target="$(height_of 0)"
  wait_height "$i" "$target" 90 || fail "node$i did not catch up to $target (at $(height_of "$i"))"
  echo "node$i caught up to $target in $((SECONDS - started)) s"
  agrees "$i" 1 "$@" "$target"
}

# Damage to the store: refused, the message is followed (the folder moved away), and
# the node resyncs from genesis; or recovered in place. Either way it agrees.
recovers() {
  local i=$1
  start_damaged "$i"
  if [ "$outcome" = refused ]; then
    mv "$(data_of "$i")" "$(data_of "$i").damaged"
    start_node "$i"
  fi
  catches_up "$i" "$2"
}

"$reel" testnet init --validators 4 --out "$run_dir" --base-port "$base_port" \
  --block-interval-ms 10 --idle-block-interval-ms 20 --round-timeout-ms 200 > /dev/null ||
  fail "testnet init failed"
for i in 0 1 2 3; do start_node "$i"; done
for i in 0 1 2 3; do wait_height "$i" 30 || fail "node$i did not reach height 30"; done
same_header "$(header_at 0 5)" "$(header_at 0 6)" &&
  fail "the agreement check does not tell two headers apart"
same_header "" "" && fail "the agreement check takes no answer for agreement"

# (a) A torn tail of the write-ahead log.
kill_node 3
log="$(newest 3 '*.log')"
records="$(commit_records "$log")"
[ "$(echo "$records" | wc -l)" -ge 2 ] || fail "node3's log $log holds fewer than 2 blocks"
read -r last_offset last_height <<< "$(echo "$records" | tail -1)"
previous_height="$(echo "$records" | tail -2 | head -1 | cut -d' ' -f2)"
size="$(stat -c %s "$log")"
truncate -s $((last_offset + 8)) "$log"
echo "(a) node3 killed at height $last_height; its log cut by $((size - last_offset - 8)) of" \
  "$size bytes, inside that block's record"
others_commit 3
start_damaged 3
[ "$outcome" = recovered ] || fail "a torn log tail, as a crash leaves it, stopped node3"
opened="$(opened_height 3)"
# (at the block before the torn record; "at least" in case a record split over two
# of the log's 32 KiB blocks hid one from commit_records)
[ -n "$opened" ] && [ "$opened" -ge "$previous_height" ] && [ "$opened" -lt "$last_height" ] ||
  fail "node3 opened at height '$opened', not $previous_height (the block before the torn record)"
catches_up 3 "$opened" "$last_height"

# (b) Flipped bytes. Inside the log, a record that later ones follow: skipped, it
# would leave a store with a block missing under the ones after it.
kill_node 2
log="$(newest 2 '*.log')"
read -r offset height <<< "$(commit_records "$log" | tail -3 | head -1)"
flip_byte "$log" $((offset + 6))
echo "(b) node2: a byte flipped in the record of block $height of its log, two blocks from the end"
others_commit 2
start_damaged 2
[ "$outcome" = refused ] || fail "node2 opened a log with a damaged record in it"
mv "$(data_of 2)" "$(data_of 2).damaged"
start_node 2
catches_up 2 "$height"

# Flips the byte $3 bytes from the end of file $2 of the stopped node $1; it must
# come back (recovered or resynced) while the others commit, and agree.
flip_tail_and_recover() {
  local i=$1 file=$2
  [ -n "$file" ] || fail "node$i has no such file to damage"
  flip_byte "$file" $(( $(stat -c %s "$file") - $3 ))
  echo "(b) node$i: a byte flipped $3 bytes from the end of $(basename "$file")"
  others_commit "$i"
  recovers "$i" "$last_height"
  echo "node$i: $outcome"
}

# In the index block at the tail of a table: node3's oldest table (written when it
# reopened in (a)) holds the chain id, which reeld reads first.
kill_node 3
flip_tail_and_recover 3 "$(ls "$(data_of 3)"/*.ldb 2>/dev/null | sort | head -1)" 60

# At the tail of the MANIFEST, LevelDB's list of files.
kill_node 1
flip_tail_and_recover 1 "$(newest 1 'MANIFEST-*')" 3

# All four go on together and agree.
target=$(( $(height_of 0) + 10 ))
for i in 0 1 2 3; do wait_height "$i" "$target" || fail "node$i stalled at the end"; done
for i in 1 2 3; do agrees "$i" "$last_height" "$target"; done
"$testnet/down.sh" > /dev/null
for i in 0 1 2 3; do running "$i" && fail "node$i still running after down.sh"; done
echo "damaged disk test passed"
