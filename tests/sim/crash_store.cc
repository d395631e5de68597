#include "tests/sim/crash_store.h"

#include "node/storage/memory_store.h"

namespace reel::sim {

CrashStore::CrashStore() : live_(storage::NewMemoryStore()) {}

Result<std::optional<std::string>> CrashStore::Get(std::string_view key) const {
  return live_->Get(key);
}

std::unique_ptr<storage::Iterator> CrashStore::NewIterator() const {
  return live_->NewIterator();
}

std::unique_ptr<storage::Snapshot> CrashStore::GetSnapshot() const {
  return live_->GetSnapshot();
}

Status CrashStore::Write(const storage::WriteBatch& batch, bool sync) {
  if (sync) {
    undo_.clear();  // the sync covers every earlier write
    return live_->Write(batch, true);
  }
  // Read every prior value before the batch changes any: a key the batch writes twice
  // is then restored to what it held before the batch.
  storage::WriteBatch undo;
  for (const storage::WriteBatch::Op& op : batch.ops()) {
    Result<std::optional<std::string>> prior = live_->Get(op.key);
    if (!prior.ok()) return prior.status();
    if (prior->has_value()) {
      undo.Put(op.key, **prior);
    } else {
      undo.Delete(op.key);
    }
  }
  REEL_RETURN_IF_ERROR(live_->Write(batch, false));
  undo_.push_back(std::move(undo));
  return Status::Ok();
}

size_t CrashStore::LoseUnsyncedWrites() {
  const size_t lost = undo_.size();
  for (auto it = undo_.rbegin(); it != undo_.rend(); ++it) {
    const Status s = live_->Write(*it, true);
    REEL_ASSERT(s.ok());  // the memory store never fails a write
  }
  undo_.clear();
  return lost;
}

}  // namespace reel::sim
