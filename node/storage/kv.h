// The key-value store under the ledger, the consensus safety store and the node.
//
// What it promises
//   - Keys and values are arbitrary byte strings. Keys are ordered bytewise
//     (unsigned memcmp, shorter first on a common prefix), as LevelDB's default
//     comparator orders them; node/storage/keys.h builds keys so that this order is
//     the numeric order of the heights inside them.
//   - KvStore::Write applies a WriteBatch atomically: a reader, a snapshot, or the
//     store reopened after a crash sees all of the batch or none of it. With
//     sync = true the batch is on stable storage when Write returns OK.
//   - A Snapshot is a consistent view of one moment: it never sees a later write.
//     An Iterator made from the live store also reads one moment (the moment it
//     was made), as LevelDB's do.
//
// Two implementations: OpenLevelDb (leveldb_store.h) on disk, NewMemoryStore
// (memory_store.h) for pure logic tests. Both pass the same behaviour tests
// (tests/storage/kv_test.cc).
//
// Ownership and lifetimes
//   The caller owns every Snapshot and Iterator it is given, and must destroy them
//   before the store that made them (an Iterator also before the Snapshot it was
//   made from). The store checks this with REEL_ASSERT when it is destroyed, since
//   with LevelDB the alternative is a use after free.
//
// Thread-safety
//   Get, NewIterator and GetSnapshot may be called from any thread, concurrently
//   with each other and with Write. Write may be called from any thread; writes are
//   serialised (the node has one writer: the thread that runs consensus and
//   execution). A single Iterator is not thread-safe: use it from one thread at a
//   time. A Snapshot may be shared between threads for Get and NewIterator.
//
// Failure
//   Expected failures (I/O errors, a damaged store, a locked directory) come back as
//   a Status; nothing throws across this API. After a failed Write the store may
//   refuse every later write (LevelDB stops writing after a log error to protect
//   the data); the node must then stop rather than continue with state it could not
//   persist.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace reel::storage {

// An ordered cursor over the keys of one view, LevelDB style. A fresh Iterator is
// not positioned: call one of the Seek functions first. key() and value() may be
// called only while Valid(), and the views they return stay valid only until the
// next move or the Iterator's destruction.
class Iterator {
 public:
  virtual ~Iterator();

  virtual bool Valid() const = 0;
  virtual void SeekToFirst() = 0;
  virtual void SeekToLast() = 0;
  // Positions at the first key >= target (not Valid() if there is none).
  virtual void Seek(std::string_view target) = 0;
  virtual void Next() = 0;  // requires Valid()
  virtual void Prev() = 0;  // requires Valid()
  virtual std::string_view key() const = 0;
  virtual std::string_view value() const = 0;
  // Not OK if iteration stopped because of an error (a damaged block on disk);
  // check it once Valid() turns false, before trusting that the scan was complete.
  virtual Status status() const = 0;
};

// A consistent view: a snapshot, or the live store.
class ReadView {
 public:
  virtual ~ReadView();

  // The value stored under `key`, nullopt if there is none; an error Status only
  // for a failure to read (I/O, corruption), never for a missing key.
  virtual Result<std::optional<std::string>> Get(std::string_view key) const = 0;
  virtual std::unique_ptr<Iterator> NewIterator() const = 0;
};

// A view of the store at the moment GetSnapshot was called. Releases what it pins
// (LevelDB's snapshot, or the memory store's version) when destroyed.
class Snapshot : public ReadView {};

// A sequence of puts and deletes applied in order, atomically, by KvStore::Write.
// Store-independent, so the ledger builds one without knowing which store it has.
// Not thread-safe; a plain value.
class WriteBatch {
 public:
  enum class OpKind : uint8_t { kPut, kDelete };
  struct Op {
    OpKind kind;
    std::string key;
    std::string value;  // empty for kDelete
  };

  void Put(std::string_view key, std::string_view value);
  void Delete(std::string_view key);
  void Clear();

  size_t count() const { return ops_.size(); }
  bool empty() const { return ops_.empty(); }
  // Bytes of keys and values held: what the batch costs to write, roughly.
  size_t payload_bytes() const { return payload_bytes_; }
  const std::vector<Op>& ops() const { return ops_; }

 private:
  std::vector<Op> ops_;
  size_t payload_bytes_ = 0;
};

class KvStore : public ReadView {
 public:
  // Applies `batch` atomically (all or nothing). With sync = true it returns only
  // once the batch is on stable storage: a crash after that keeps it. Without
  // sync a process crash keeps it but a machine crash may lose it (never a part).
  virtual Status Write(const WriteBatch& batch, bool sync) = 0;
  virtual std::unique_ptr<Snapshot> GetSnapshot() const = 0;
};

// --- Range helpers, for both implementations ----------------------------------

// The smallest key greater than every key that starts with `prefix`; empty when
// there is none (a prefix of only 0xff bytes), meaning "to the end".
std::string PrefixEnd(std::string_view prefix);

// Visits the keys in [begin, end) in order (end empty = to the last key), until
// `visit` returns false. Returns the iterator's status: not OK means the scan may
// have stopped early because of a read error.
using KeyValueVisitor = std::function<bool(std::string_view key, std::string_view value)>;
Status ScanRange(const ReadView& view, std::string_view begin, std::string_view end,
                 const KeyValueVisitor& visit);
// Visits every key that starts with `prefix`, in order.
Status ScanPrefix(const ReadView& view, std::string_view prefix, const KeyValueVisitor& visit);

}  // namespace reel::storage
