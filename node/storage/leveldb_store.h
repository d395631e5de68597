// The on-disk KvStore: one LevelDB database per node (layout: KEYS.md).
//
// OpenLevelDb creates the directory (and its parents) if it is missing and opens
// the database with paranoid checks: LevelDB then refuses to open a damaged
// database, and stops accepting writes after an error, rather than carry on with
// state it cannot trust. Reads verify block checksums when `verify_checksums` is
// set (the default).
//
// Failure on open, as a Status whose message names the directory:
//   - kFailedPrecondition: the directory is locked by another open store, in this
//     process or another one (another reeld may be running on the same data
//     directory); or it does not exist and create_if_missing is off.
//   - kCorruption: the database is damaged (a checksum fails in the MANIFEST, in a
//     log record that is whole, or in a table read while opening); the message
//     names the directory and says what to do: move it away and restart to resync
//     from peers, or restore it from a backup. A torn last record of the log, as a
//     crash mid-write leaves it, is not damage: it is dropped, and the store opens
//     as of the batch before it.
//   - kIoError: anything else the file system refused.
// Damage in a table that opening does not read shows later: the Get or iterator
// that reads it returns kCorruption with the same message; a compaction that reads
// it makes every later Write fail so.
//
// Thread-safety and lifetimes: as kv.h says. LevelDB serialises writers itself and
// lets reads, iterators and snapshots run concurrently with a Write.
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include "base/status.h"
#include "node/storage/kv.h"

namespace reel::storage {

struct LevelDbOptions {
  bool create_if_missing = true;
  bool error_if_exists = false;
  bool verify_checksums = true;
  size_t block_cache_bytes = 32 * 1024 * 1024;
  // A larger memtable means fewer, larger level-0 files and less compaction work per
  // block written; it costs memory and replay time at open (bounded by the size).
  size_t write_buffer_bytes = 32 * 1024 * 1024;
  size_t max_file_bytes = 8 * 1024 * 1024;
  // Off: most of what a node stores is signatures, hashes and ids, which do not
  // compress; Snappy then only spends CPU at every flush, compaction and read.
  bool compress = false;
  int max_open_files = 500;
  // Bits per key of the Bloom filter; point lookups (transaction ids, block ids)
  // then skip most tables that cannot hold the key. 0 turns it off.
  int bloom_bits_per_key = 10;
};

Result<std::unique_ptr<KvStore>> OpenLevelDb(const std::string& dir,
                                             const LevelDbOptions& options = {});

}  // namespace reel::storage
