#include "node/mempool/mempool.h"

#include <chrono>
#include <string>

namespace reel::mempool {

Mempool::Mempool(MempoolLimits limits) : limits_(limits) {
  REEL_ASSERT(limits_.txs_max > 0 && limits_.bytes_max > 0);
}

namespace {

uint64_t SteadyMs() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::steady_clock::now().time_since_epoch())
                                   .count());
}

}  // namespace

Status Mempool::Add(PooledTx tx) {
  REEL_ASSERT(tx.verified != nullptr && tx.envelope != nullptr);
  MutexLock lock(&mu_);
  if (sequence_by_id_.count(tx.id()) != 0) {
    return Status::AlreadyExists("transaction " + crypto::HashToHex(tx.id()) +
                                 " is already in the mempool");
  }
  if (by_sequence_.size() >= limits_.txs_max || bytes_ + tx.bytes() > limits_.bytes_max) {
    return Status::ResourceExhausted(
        "mempool full: " + std::to_string(by_sequence_.size()) + " of " +
        std::to_string(limits_.txs_max) + " transactions, " + std::to_string(bytes_) + " of " +
        std::to_string(limits_.bytes_max) + " bytes; retry after the next blocks commit");
  }
  uint64_t sequence = next_sequence_++;
  bytes_ += tx.bytes();
  tx.added_ms = SteadyMs();
  sequence_by_id_.emplace(tx.id(), sequence);
  by_sequence_.emplace(sequence, std::move(tx));
  return Status::Ok();
}

std::vector<PooledTx> Mempool::Reap(size_t txs_max, size_t bytes_max,
                                    const std::set<crypto::Hash32>& exclude) const {
  std::vector<PooledTx> out;
  size_t bytes = 0;
  MutexLock lock(&mu_);
  for (const auto& [sequence, tx] : by_sequence_) {
    if (out.size() >= txs_max) break;
    if (exclude.count(tx.id()) != 0) continue;
    // A transaction too large for what is left is skipped, not a reason to stop:
    // smaller ones behind it may still fit.
    if (bytes + tx.bytes() > bytes_max) continue;
    bytes += tx.bytes();
    out.push_back(tx);
  }
  return out;
}

void Mempool::OnCommitted(uint64_t height, const std::vector<crypto::Hash32>& committed_ids) {
  MutexLock lock(&mu_);
  for (const crypto::Hash32& id : committed_ids) {
    auto it = sequence_by_id_.find(id);
    if (it == sequence_by_id_.end()) continue;
    if (commit_wait_observer_) {
      const uint64_t added = by_sequence_.at(it->second).added_ms;
      commit_wait_observer_(SteadyMs() - added);
    }
    EraseLocked(it);
  }
  for (auto it = by_sequence_.begin(); it != by_sequence_.end();) {
    const PooledTx& tx = it->second;
    ++it;  // EraseLocked invalidates the erased entry only
    if (tx.expiry_height() != 0 && tx.expiry_height() <= height) {
      EraseLocked(sequence_by_id_.find(tx.id()));
    }
  }
}

void Mempool::Remove(const std::vector<crypto::Hash32>& ids) {
  MutexLock lock(&mu_);
  for (const crypto::Hash32& id : ids) {
    auto it = sequence_by_id_.find(id);
    if (it != sequence_by_id_.end()) EraseLocked(it);
  }
}

void Mempool::EraseLocked(std::map<crypto::Hash32, uint64_t>::iterator by_id) {
  REEL_ASSERT(by_id != sequence_by_id_.end());
  auto entry = by_sequence_.find(by_id->second);
  REEL_ASSERT(entry != by_sequence_.end());
  REEL_ASSERT(bytes_ >= entry->second.bytes());
  bytes_ -= entry->second.bytes();
  by_sequence_.erase(entry);
  sequence_by_id_.erase(by_id);
}

bool Mempool::Contains(const crypto::Hash32& id) const {
  MutexLock lock(&mu_);
  return sequence_by_id_.count(id) != 0;
}

std::shared_ptr<const ledger::VerifiedTx> Mempool::Find(const crypto::Hash32& id) const {
  MutexLock lock(&mu_);
  auto it = sequence_by_id_.find(id);
  if (it == sequence_by_id_.end()) return nullptr;
  return by_sequence_.at(it->second).verified;
}

size_t Mempool::size() const {
  MutexLock lock(&mu_);
  return by_sequence_.size();
}

size_t Mempool::bytes() const {
  MutexLock lock(&mu_);
  return bytes_;
}

}  // namespace reel::mempool
