#include "node/mempool/admission.h"

#include <latch>
#include <memory>
#include <optional>

#include "base/limits.h"
#include "node/ledger/ledger.h"

namespace reel::mempool {

Admission::Admission(std::string chain_id, Mempool* pool, size_t threads)
    : chain_id_(std::move(chain_id)), pool_(pool) {
  REEL_ASSERT(pool_ != nullptr);
  if (threads == 0) threads = std::max(1u, std::thread::hardware_concurrency());
  for (size_t i = 0; i < threads; ++i) threads_.emplace_back([this] { Worker(); });
}

Admission::~Admission() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  work_ready_.notify_all();
  for (std::thread& t : threads_) t.join();
}

void Admission::Worker() {
  for (;;) {
    std::function<void()> job;
    {
      std::unique_lock<std::mutex> lock(mu_);
      work_ready_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
      if (jobs_.empty()) return;  // stopping, and nothing left to finish
      job = std::move(jobs_.front());
      jobs_.pop_front();
    }
    job();
  }
}

Result<crypto::Hash32> Admission::AdmitOne(const v1::Transaction& tx,
                                           const storage::ReadView& committed,
                                           uint64_t next_height) {
  Result<ledger::VerifiedTx> verified = ledger::Verify(tx, chain_id_);
  verified_.fetch_add(1, std::memory_order_relaxed);
  if (!verified.ok()) return verified.status();
  REEL_RETURN_IF_ERROR(ledger::Check(*verified, committed, next_height));
  crypto::Hash32 id = verified->id;
  PooledTx pooled{std::make_shared<const ledger::VerifiedTx>(std::move(verified).value()),
                  std::make_shared<const v1::Transaction>(tx)};
  REEL_RETURN_IF_ERROR(pool_->Add(std::move(pooled)));
  return id;
}

std::vector<Result<crypto::Hash32>> Admission::Admit(const std::vector<v1::Transaction>& txs,
                                                     const storage::ReadView& committed,
                                                     uint64_t next_height) {
  // One transaction (a client's submission) is checked on the calling thread: a hand-off
  // to the pool and back would cost two context switches for no parallelism.
  if (txs.size() == 1) return {AdmitOne(txs[0], committed, next_height)};
  std::vector<std::optional<Result<crypto::Hash32>>> answers(txs.size());
  std::latch done(static_cast<std::ptrdiff_t>(txs.size()));
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (queued_txs_ + txs.size() > limits::verify_queue_txs_max) {
      std::vector<Result<crypto::Hash32>> refused;
      for (size_t i = 0; i < txs.size(); ++i) {
        refused.emplace_back(Status::ResourceExhausted(
            "signature check queue full (" + std::to_string(queued_txs_) + " of " +
            std::to_string(limits::verify_queue_txs_max) + " waiting); retry shortly"));
      }
      return refused;
    }
    queued_txs_ += txs.size();
    for (size_t i = 0; i < txs.size(); ++i) {
      jobs_.emplace_back([&, i] {
        answers[i] = AdmitOne(txs[i], committed, next_height);
        {
          std::lock_guard<std::mutex> inner(mu_);
          --queued_txs_;
        }
        done.count_down();
      });
    }
  }
  work_ready_.notify_all();
  done.wait();
  std::vector<Result<crypto::Hash32>> out;
  out.reserve(txs.size());
  for (auto& answer : answers) out.push_back(std::move(*answer));
  return out;
}

}  // namespace reel::mempool
