// CrashStore: the memory store (node/storage/memory_store.h) with the one fault the
// whole-node simulator needs from a disk: a machine crash that loses every write since
// the last synced one, as LevelDB's log does on power loss (kv.h: "without sync a
// machine crash may lose it (never a part)"). A synced write makes every earlier write
// durable too, as a sync of the log does.
//
// It keeps, for each unsynced batch, the values its keys held before it (an undo
// batch); LoseUnsyncedWrites applies them newest first. Reads, snapshots and iterators
// are the memory store's. Single-threaded use only (the simulator's thread).
#pragma once

#include <memory>
#include <vector>

#include "node/storage/kv.h"

namespace reel::sim {

class CrashStore final : public storage::KvStore {
 public:
  CrashStore();

  Result<std::optional<std::string>> Get(std::string_view key) const override;
  std::unique_ptr<storage::Iterator> NewIterator() const override;
  std::unique_ptr<storage::Snapshot> GetSnapshot() const override;
  Status Write(const storage::WriteBatch& batch, bool sync) override;

  // The machine crashed: what was written without a sync since the last synced write
  // is gone. Returns how many batches were lost.
  size_t LoseUnsyncedWrites();

 private:
  std::unique_ptr<storage::KvStore> live_;
  std::vector<storage::WriteBatch> undo_;  // one per unsynced batch, oldest first
};

}  // namespace reel::sim
