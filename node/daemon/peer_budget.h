// What one peer may make this node hold at once, and what was dropped beyond it.
//
// A validator holding its key and TLS certificate can send as fast as its link allows.
// The peer server bounds streams, calls and message sizes (node/net); what a peer's
// messages become after that (closures queued on the node's one loop, block requests
// waiting for it) is bounded here, per peer, so that one flooding peer costs the node a
// fixed amount of memory and never takes another peer's share.
//
// PeerBudget promises
//   - TryTake(peer, bytes) takes one item of `bytes` from `peer`'s budget when, after
//     it, the peer holds at most items_max items and at most bytes_max bytes; otherwise
//     it takes nothing and returns false. An item larger than bytes_max never fits.
//   - Give(peer, bytes) hands back what one successful TryTake took. Each is given back
//     exactly once, by whoever finishes with the item (a peer's holdings never go below
//     zero: asserted).
//   - Take(peer, bytes, wait) is TryTake that waits up to `wait` for Give to make
//     room; it is how a peer over its budget is slowed down rather than read and
//     dropped at the speed of its link (the caller's stream is not read meanwhile, so
//     flow control holds the sender back).
//   - Peers are independent: a peer at its bound never makes TryTake fail for another,
//     and never wakes or delays a Take of another.
//
// PeerPace promises (a token bucket per peer, in bytes): Charge(peer, bytes, now) spends
// what a peer made the node read and send; Wait(peer, now) is how long that peer must
// wait before more, zero while it has spent less than `burst_bytes` beyond what
// `bytes_per_second` has refilled since. Peers are independent. Time is given by the
// caller (steady clock in the node, any clock in tests).
//
// PeerDrops promises: a monotonic count per (peer, kind) of what was refused.
//
// Thread safety: every method of both may be called from any thread. Only Take blocks,
// up to its `wait`; the rest are an O(1) update under one mutex (PeerBudget) or an
// atomic (PeerDrops).
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "base/mutex.h"
#include "reel/v1/peer.pb.h"

namespace reel::daemon {

class PeerBudget {
 public:
  struct Bounds {
    size_t items_max = 0;
    size_t bytes_max = 0;
  };
  struct Held {
    size_t items = 0;
    size_t bytes = 0;
  };

  // One budget of `bounds` for each of the peers 0 .. peers-1.
  PeerBudget(size_t peers, Bounds bounds);

  bool TryTake(uint32_t peer, size_t bytes);
  bool Take(uint32_t peer, size_t bytes, std::chrono::milliseconds wait);
  void Give(uint32_t peer, size_t bytes);

  Held held(uint32_t peer) const;
  const Bounds& bounds() const { return bounds_; }
  size_t peers() const { return peers_; }

 private:
  bool Fits(const Held& held, size_t bytes) const;

  const Bounds bounds_;
  const size_t peers_;  // held_.size(), which never changes
  mutable Mutex mu_;
  std::vector<Held> held_ REEL_GUARDED_BY(mu_);
  // One per peer, so that a Give wakes only the Takes of its own peer.
  std::unique_ptr<CondVar[]> room_;
};

class PeerPace {
 public:
  using Clock = std::chrono::steady_clock;
  PeerPace(size_t peers, uint64_t bytes_per_second, uint64_t burst_bytes);

  std::chrono::milliseconds Wait(uint32_t peer, Clock::time_point now);
  void Charge(uint32_t peer, uint64_t bytes, Clock::time_point now);

 private:
  struct Bucket {
    int64_t tokens = 0;  // bytes; below zero while the peer is in debt
    Clock::time_point refilled{};
  };
  void Refill(Bucket& bucket, Clock::time_point now) const;

  const int64_t rate_;   // bytes per second
  const int64_t burst_;  // bytes
  Mutex mu_;
  std::vector<Bucket> buckets_ REEL_GUARDED_BY(mu_);
};

// What a peer sent that the node dropped, by what it was.
enum class DropKind : uint8_t {
  kProposal,
  kVote,
  kTimeout,
  kEmpty,         // a ConsensusMessage with none of the above set
  kBlockRequest,  // GetBlock
  kRangeRequest,  // GetBlocks
};
inline constexpr size_t kDropKinds = 6;

// The `kind` label on /metrics: proposal, vote, timeout, empty, block_request,
// range_request.
std::string_view DropKindName(DropKind kind);
DropKind DropKindOf(const v1::ConsensusMessage& message);

class PeerDrops {
 public:
  explicit PeerDrops(size_t peers);

  void Count(uint32_t peer, DropKind kind);
  uint64_t count(uint32_t peer, DropKind kind) const;
  size_t peers() const { return peers_; }

 private:
  const size_t peers_;
  std::unique_ptr<std::atomic<uint64_t>[]> counts_;  // peers_ x kDropKinds
};

}  // namespace reel::daemon
