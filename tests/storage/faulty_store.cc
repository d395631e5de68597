#include "tests/storage/faulty_store.h"

#include <algorithm>
#include <mutex>
#include <vector>

namespace reel::storage::testing {

using Op = FaultyStore::Op;
using Fault = FaultyStore::Fault;

// The armed faults. Shared by the store, its snapshots and their iterators, which may
// be used from several threads: one mutex guards it.
class FaultPlan {
 public:
  enum class WriteOutcome : uint8_t { kPass, kFail, kFailAfterUnsyncedWrite };

  explicit FaultPlan(bool sticky_write_errors) : sticky_write_errors_(sticky_write_errors) {}

  void Arm(Fault fault) {
    std::lock_guard<std::mutex> lock(mu_);
    faults_.push_back(std::move(fault));
  }

  void Heal() {
    std::lock_guard<std::mutex> lock(mu_);
    faults_.clear();
    writes_refused_ = false;
  }

  uint64_t failures() const {
    std::lock_guard<std::mutex> lock(mu_);
    return failures_;
  }

  WriteOutcome OnWrite(const WriteBatch& batch, bool sync) {
    std::lock_guard<std::mutex> lock(mu_);
    auto touches = [&](std::string_view prefix) {
      return std::any_of(batch.ops().begin(), batch.ops().end(),
                         [&](const WriteBatch::Op& op) { return op.key.starts_with(prefix); });
    };
    // Both kinds count the write, whichever fires.
    const bool refused = Fires(Op::kWrite, touches);
    const bool unsynced = sync && Fires(Op::kSync, touches);
    WriteOutcome outcome = WriteOutcome::kPass;
    if (writes_refused_ || refused) {
      outcome = WriteOutcome::kFail;
    } else if (unsynced) {
      outcome = WriteOutcome::kFailAfterUnsyncedWrite;
    }
    if (outcome != WriteOutcome::kPass) {
      ++failures_;
      writes_refused_ = sticky_write_errors_;
    }
    return outcome;
  }

  // True if a read that touches `key` must fail.
  bool ReadFails(std::string_view key) {
    std::lock_guard<std::mutex> lock(mu_);
    const bool fails =
        Fires(Op::kRead, [&](std::string_view prefix) { return key.starts_with(prefix); });
    if (fails) ++failures_;
    return fails;
  }

 private:
  // Counts the operation against every armed fault of `op` whose prefix `touches`
  // accepts; true if one of them fires. Spent faults are dropped.
  template <typename Touches>
  bool Fires(Op op, const Touches& touches) {
    bool fired = false;
    for (Fault& fault : faults_) {
      if (fault.op != op || fault.times == 0 || !touches(std::string_view(fault.key_prefix))) {
        continue;
      }
      if (fault.skip > 0) {
        --fault.skip;
        continue;
      }
      if (fault.times != FaultyStore::kForever) --fault.times;
      fired = true;
    }
    std::erase_if(faults_, [](const Fault& fault) { return fault.times == 0; });
    return fired;
  }

  const bool sticky_write_errors_;
  mutable std::mutex mu_;
  std::vector<Fault> faults_;
  bool writes_refused_ = false;
  uint64_t failures_ = 0;
};

namespace {

Status InjectedReadError() {
  return Status::IoError("injected read error (FaultyStore)");
}

// An iterator that fails for good once a move of it matches a read fault.
class FaultyIterator final : public Iterator {
 public:
  FaultyIterator(std::unique_ptr<Iterator> base, std::shared_ptr<FaultPlan> plan)
      : base_(std::move(base)), plan_(std::move(plan)) {}

  bool Valid() const override { return failed_.ok() && base_->Valid(); }
  void SeekToFirst() override {
    Move([&] { base_->SeekToFirst(); }, {});
  }
  void SeekToLast() override {
    Move([&] { base_->SeekToLast(); }, {});
  }
  void Seek(std::string_view target) override {
    Move([&] { base_->Seek(target); }, target);
  }
  void Next() override {
    REEL_ASSERT(Valid());
    Move([&] { base_->Next(); }, {});
  }
  void Prev() override {
    REEL_ASSERT(Valid());
    Move([&] { base_->Prev(); }, {});
  }
  std::string_view key() const override {
    REEL_ASSERT(Valid());
    return base_->key();
  }
  std::string_view value() const override {
    REEL_ASSERT(Valid());
    return base_->value();
  }
  Status status() const override { return failed_.ok() ? base_->status() : failed_; }

 private:
  template <typename F>
  void Move(const F& move, std::string_view sought) {
    if (!failed_.ok()) return;
    move();
    const std::string_view touched = base_->Valid() ? base_->key() : sought;
    if (plan_->ReadFails(touched)) failed_ = InjectedReadError();
  }

  std::unique_ptr<Iterator> base_;
  std::shared_ptr<FaultPlan> plan_;
  Status failed_;
};

Result<std::optional<std::string>> GetUnlessFaulty(const ReadView& base, FaultPlan& plan,
                                                   std::string_view key) {
  if (plan.ReadFails(key)) return InjectedReadError();
  return base.Get(key);
}

class FaultySnapshot final : public Snapshot {
 public:
  FaultySnapshot(std::unique_ptr<Snapshot> base, std::shared_ptr<FaultPlan> plan)
      : base_(std::move(base)), plan_(std::move(plan)) {}

  Result<std::optional<std::string>> Get(std::string_view key) const override {
    return GetUnlessFaulty(*base_, *plan_, key);
  }
  std::unique_ptr<Iterator> NewIterator() const override {
    return std::make_unique<FaultyIterator>(base_->NewIterator(), plan_);
  }

 private:
  std::unique_ptr<Snapshot> base_;
  std::shared_ptr<FaultPlan> plan_;
};

}  // namespace

FaultyStore::FaultyStore(std::unique_ptr<KvStore> base) : FaultyStore(std::move(base), Options{}) {}

FaultyStore::FaultyStore(std::unique_ptr<KvStore> base, Options options)
    : base_(std::move(base)), plan_(std::make_shared<FaultPlan>(options.sticky_write_errors)) {
  REEL_ASSERT(base_ != nullptr);
}

FaultyStore::~FaultyStore() = default;

void FaultyStore::Arm(Fault fault) {
  plan_->Arm(std::move(fault));
}

void FaultyStore::Heal() {
  plan_->Heal();
}

uint64_t FaultyStore::failures() const {
  return plan_->failures();
}

Result<std::optional<std::string>> FaultyStore::Get(std::string_view key) const {
  return GetUnlessFaulty(*base_, *plan_, key);
}

std::unique_ptr<Iterator> FaultyStore::NewIterator() const {
  return std::make_unique<FaultyIterator>(base_->NewIterator(), plan_);
}

std::unique_ptr<Snapshot> FaultyStore::GetSnapshot() const {
  return std::make_unique<FaultySnapshot>(base_->GetSnapshot(), plan_);
}

Status FaultyStore::Write(const WriteBatch& batch, bool sync) {
  switch (plan_->OnWrite(batch, sync)) {
    case FaultPlan::WriteOutcome::kPass:
      return base_->Write(batch, sync);
    case FaultPlan::WriteOutcome::kFail:
      return Status::IoError(
          "injected write error (FaultyStore): nothing of the batch was written");
    case FaultPlan::WriteOutcome::kFailAfterUnsyncedWrite:
      REEL_RETURN_IF_ERROR(base_->Write(batch, /*sync=*/false));
      return Status::IoError(
          "injected sync error (FaultyStore): the batch was written but not synced");
  }
  REEL_ASSERT(false);
  return Status::Internal("unreachable");
}

}  // namespace reel::storage::testing
