// FaultyStore: a KvStore that forwards to another one (in tests, the LevelDB store on
// disk) and fails the operations it is told to with kIoError, so that the code that
// handles a store failure runs in tests: ledger::StorageFault, replica::internal::Fatal,
// the API's UNAVAILABLE, block sync's retry. LevelDB's db/fault_injection_test.cc is
// the model.
//
// What it promises
//   - With no fault armed it is the store underneath, unchanged: tests/storage/kv_test.cc
//     runs the KvStore behaviour tests on it.
//   - A Fault names a kind of operation, a key prefix, how many matching operations
//     pass before it fires, and how many it fails. Kinds:
//       kWrite  Write fails before anything reaches the store underneath, as LevelDB's
//               does when it cannot append to its log: none of the batch is written.
//       kSync   a Write with sync = true reaches the store underneath without a sync and
//               then fails, as LevelDB's does when the fsync of its log fails: the batch
//               may be there after a restart, or not. Here it is, at once and after a
//               restart (LevelDB itself shows it only after a restart; a machine crash
//               could lose it). Unsynced writes never match.
//       kRead   Get, or a move of an iterator, on the store or on any snapshot it made.
//               A failed iterator is no longer Valid() and its status() is the error,
//               as a LevelDB iterator's is after a block it cannot read.
//   - Matching a prefix: a Write matches when any key of its batch starts with it, a Get
//     when its key does, an iterator move when the key it lands on does (or, when it
//     lands nowhere, the key it sought). An empty prefix matches every operation.
//   - After a failed write every later Write fails too, until Heal, as LevelDB's do
//     after a log error (kv.h, "Failure"); Options::sticky_write_errors = false turns
//     this off. Reads are never refused for an earlier failure.
//
// Ownership: it owns the store underneath. Snapshots and iterators it makes must be
// destroyed before it, as kv.h requires of any store.
// Thread-safety: as kv.h says; Arm, Heal and the counters may be called from any
// thread, concurrently with the store's use (one mutex guards the armed faults).
#pragma once

#include <cstdint>
#include <limits>
#include <memory>
#include <string>

#include "node/storage/kv.h"

namespace reel::storage::testing {

class FaultPlan;  // faulty_store.cc: the armed faults, shared with snapshots and iterators

class FaultyStore final : public KvStore {
 public:
  enum class Op : uint8_t { kWrite, kSync, kRead };
  static constexpr uint64_t kForever = std::numeric_limits<uint64_t>::max();

  // Fault(Op::kRead).Prefix("b").After(2).Times(3): the 3rd, 4th and 5th reads of a
  // key that starts with "b" fail.
  struct Fault {
    explicit Fault(Op kind) : op(kind) {}
    Fault& Prefix(std::string prefix) {
      key_prefix = std::move(prefix);
      return *this;
    }
    Fault& After(uint64_t passing) {
      skip = passing;
      return *this;
    }
    Fault& Times(uint64_t failing) {
      times = failing;
      return *this;
    }
    Fault& Forever() { return Times(kForever); }

    Op op;
    std::string key_prefix;  // empty: any key
    uint64_t skip = 0;       // matching operations that pass before the first failure
    uint64_t times = 1;      // failures before the fault is spent; kForever: never spent
  };

  struct Options {
    bool sticky_write_errors = true;
  };

  explicit FaultyStore(std::unique_ptr<KvStore> base);
  FaultyStore(std::unique_ptr<KvStore> base, Options options);
  ~FaultyStore() override;
  FaultyStore(const FaultyStore&) = delete;
  FaultyStore& operator=(const FaultyStore&) = delete;

  // Adds a fault; each armed fault counts the operations it matches on its own, and an
  // operation fails if any of them fires.
  void Arm(Fault fault);
  // Disarms every fault and lets writes through again.
  void Heal();
  // Operations failed so far, by this store or a snapshot or iterator it made.
  uint64_t failures() const;

  Result<std::optional<std::string>> Get(std::string_view key) const override;
  std::unique_ptr<Iterator> NewIterator() const override;
  std::unique_ptr<Snapshot> GetSnapshot() const override;
  Status Write(const WriteBatch& batch, bool sync) override;

 private:
  std::unique_ptr<KvStore> base_;
  std::shared_ptr<FaultPlan> plan_;
};

}  // namespace reel::storage::testing
