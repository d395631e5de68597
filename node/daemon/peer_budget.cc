#include "node/daemon/peer_budget.h"

#include <algorithm>

#include "base/assert.h"

namespace reel::daemon {

PeerBudget::PeerBudget(size_t peers, Bounds bounds)
    : bounds_(bounds), peers_(peers), held_(peers), room_(new CondVar[peers]) {
  REEL_ASSERT(bounds_.items_max > 0 && bounds_.bytes_max > 0);
}

bool PeerBudget::Fits(const Held& held, size_t bytes) const {
  return held.items < bounds_.items_max && bytes <= bounds_.bytes_max - held.bytes;
}

bool PeerBudget::TryTake(uint32_t peer, size_t bytes) {
  return Take(peer, bytes, std::chrono::milliseconds(0));
}

bool PeerBudget::Take(uint32_t peer, size_t bytes, std::chrono::milliseconds wait) {
  MutexLock lock(&mu_);
  REEL_ASSERT(peer < held_.size());
  Held& h = held_[peer];
  if (!Fits(h, bytes)) {
    // An item larger than the whole budget would wait in vain.
    if (wait.count() == 0 || bytes > bounds_.bytes_max) return false;
    const auto deadline = std::chrono::steady_clock::now() + wait;
    while (!Fits(h, bytes)) {
      if (!room_[peer].WaitUntil(&mu_, deadline) && !Fits(h, bytes)) return false;
    }
  }
  ++h.items;
  h.bytes += bytes;
  return true;
}

void PeerBudget::Give(uint32_t peer, size_t bytes) {
  {
    MutexLock lock(&mu_);
    REEL_ASSERT(peer < held_.size());
    Held& h = held_[peer];
    REEL_ASSERT(h.items > 0 && h.bytes >= bytes);
    --h.items;
    h.bytes -= bytes;
  }
  room_[peer].SignalAll();
}

PeerBudget::Held PeerBudget::held(uint32_t peer) const {
  MutexLock lock(&mu_);
  REEL_ASSERT(peer < held_.size());
  return held_[peer];
}

PeerPace::PeerPace(size_t peers, uint64_t bytes_per_second, uint64_t burst_bytes)
    : rate_(static_cast<int64_t>(bytes_per_second)),
      burst_(static_cast<int64_t>(burst_bytes)),
      buckets_(peers, Bucket{static_cast<int64_t>(burst_bytes), Clock::time_point{}}) {
  REEL_ASSERT(rate_ > 0 && burst_ > 0);
}

void PeerPace::Refill(Bucket& bucket, Clock::time_point now) const {
  if (bucket.refilled == Clock::time_point{}) bucket.refilled = now;  // first use: full
  if (now <= bucket.refilled) return;
  const int64_t elapsed_us =
      std::chrono::duration_cast<std::chrono::microseconds>(now - bucket.refilled).count();
  // Saturates long before an overflow: the bucket is full after burst_/rate_ seconds.
  const int64_t added = elapsed_us >= 1'000'000 * (burst_ / rate_ + 1)
                            ? burst_ - bucket.tokens
                            : elapsed_us * rate_ / 1'000'000;
  bucket.tokens = std::min(burst_, bucket.tokens + added);
  bucket.refilled = now;
}

std::chrono::milliseconds PeerPace::Wait(uint32_t peer, Clock::time_point now) {
  MutexLock lock(&mu_);
  REEL_ASSERT(peer < buckets_.size());
  Bucket& bucket = buckets_[peer];
  Refill(bucket, now);
  if (bucket.tokens >= 0) return std::chrono::milliseconds(0);
  return std::chrono::milliseconds((-bucket.tokens * 1000 + rate_ - 1) / rate_);
}

void PeerPace::Charge(uint32_t peer, uint64_t bytes, Clock::time_point now) {
  MutexLock lock(&mu_);
  REEL_ASSERT(peer < buckets_.size());
  Bucket& bucket = buckets_[peer];
  Refill(bucket, now);
  // One answer is at most a few block_bytes_max: the debt stays far from overflow.
  bucket.tokens -= static_cast<int64_t>(std::min<uint64_t>(bytes, INT64_MAX / 4));
}

std::string_view DropKindName(DropKind kind) {
  switch (kind) {
    case DropKind::kProposal:
      return "proposal";
    case DropKind::kVote:
      return "vote";
    case DropKind::kTimeout:
      return "timeout";
    case DropKind::kEmpty:
      return "empty";
    case DropKind::kBlockRequest:
      return "block_request";
    case DropKind::kRangeRequest:
      return "range_request";
  }
  REEL_ASSERT(false);
  return "";
}

DropKind DropKindOf(const v1::ConsensusMessage& message) {
  switch (message.message_case()) {
    case v1::ConsensusMessage::kProposal:
      return DropKind::kProposal;
    case v1::ConsensusMessage::kVote:
      return DropKind::kVote;
    case v1::ConsensusMessage::kTimeout:
      return DropKind::kTimeout;
    case v1::ConsensusMessage::kEpochChangeVote:
      return DropKind::kVote;  // a vote too, once per validator and epoch
    case v1::ConsensusMessage::MESSAGE_NOT_SET:
      return DropKind::kEmpty;
  }
  return DropKind::kEmpty;  // a case added to the proto later
}

PeerDrops::PeerDrops(size_t peers)
    : peers_(peers), counts_(new std::atomic<uint64_t>[peers * kDropKinds]) {
  for (size_t i = 0; i < peers * kDropKinds; ++i) counts_[i].store(0, std::memory_order_relaxed);
}

void PeerDrops::Count(uint32_t peer, DropKind kind) {
  REEL_ASSERT(peer < peers_);
  counts_[peer * kDropKinds + static_cast<size_t>(kind)].fetch_add(1, std::memory_order_relaxed);
}

uint64_t PeerDrops::count(uint32_t peer, DropKind kind) const {
  REEL_ASSERT(peer < peers_);
  return counts_[peer * kDropKinds + static_cast<size_t>(kind)].load(std::memory_order_relaxed);
}

}  // namespace reel::daemon
