// An in-memory KvStore for pure logic tests (the ledger's custody rules, the
// consensus safety store), behaving like the LevelDB store where a caller could
// tell the difference: bytewise key order, atomic batches, snapshots that never
// see later writes, iterators that read the moment they were made.
//
// Nothing survives the object: `sync` is accepted and ignored. Thread-safety is
// as kv.h says; one mutex guards the live map, and snapshots and iterators pin an
// immutable version of it (copy on write: a Write copies the map only while some
// snapshot or iterator still holds the current version).
#pragma once

#include <memory>

#include "node/storage/kv.h"

namespace reel::storage {

std::unique_ptr<KvStore> NewMemoryStore();

}  // namespace reel::storage
