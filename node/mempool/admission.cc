#include "node/mempool/admission.h"

#include <algorithm>
#include <asio/post.hpp>
#include <asio/thread_pool.hpp>
#include <latch>
#include <memory>
#include <optional>
#include <thread>

#include "base/limits.h"
#include "node/ledger/ledger.h"

namespace reel::mempool {

Admission::Admission(std::string chain_id, Mempool* pool, size_t threads)
    : chain_id_(std::move(chain_id)), pool_(pool) {
  REEL_ASSERT(pool_ != nullptr);
  if (threads == 0) threads = std::max(1u, std::thread::hardware_concurrency());
  threads_ = std::make_unique<asio::thread_pool>(threads);
}

Admission::~Admission() {
  // Without stop(), join() lets every posted check run before the threads end.
  threads_->join();
}

bool Admission::Reserve(size_t count, Source source) {
  if (source == Source::kClient) {
    size_t clients = queued_client_txs_.load();
    do {
      if (clients + count > limits::verify_queue_client_txs_max) return false;
    } while (!queued_client_txs_.compare_exchange_weak(clients, clients + count));
  }
  size_t queued = queued_txs_.load();
  do {
    if (queued + count > limits::verify_queue_txs_max) {
      if (source == Source::kClient) queued_client_txs_.fetch_sub(count);
      return false;
    }
  } while (!queued_txs_.compare_exchange_weak(queued, queued + count));
  return true;
}

void Admission::Release(Source source) {
  queued_txs_.fetch_sub(1);
  if (source == Source::kClient) queued_client_txs_.fetch_sub(1);
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
                                                     uint64_t next_height, Source source) {
  // One transaction (a client's submission) is checked on the calling thread: a hand-off
  // to the pool and back would cost two context switches for no parallelism.
  if (txs.size() == 1) return {AdmitOne(txs[0], committed, next_height)};
  if (!Reserve(txs.size(), source)) {
    const bool client = source == Source::kClient;
    const std::string queued =
        std::to_string(client ? queued_client_txs_.load() : queued_txs_.load());
    const std::string max =
        std::to_string(client ? limits::verify_queue_client_txs_max : limits::verify_queue_txs_max);
    std::vector<Result<crypto::Hash32>> refused;
    for (size_t i = 0; i < txs.size(); ++i) {
      refused.emplace_back(Status::ResourceExhausted(
          "signature check queue full (" + queued + " of " + max + " waiting" +
          (client ? " from clients" : "") + "); retry shortly"));
    }
    return refused;
  }
  std::vector<std::optional<Result<crypto::Hash32>>> answers(txs.size());
  std::latch done(static_cast<std::ptrdiff_t>(txs.size()));
  for (size_t i = 0; i < txs.size(); ++i) {
    asio::post(*threads_, [&, i] {
      answers[i] = AdmitOne(txs[i], committed, next_height);
      Release(source);
      done.count_down();
    });
  }
  done.wait();
  std::vector<Result<crypto::Hash32>> out;
  out.reserve(txs.size());
  for (auto& answer : answers) out.push_back(std::move(*answer));
  return out;
}

}  // namespace reel::mempool
