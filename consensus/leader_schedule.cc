#include "consensus/leader_schedule.h"

#include "base/bytes.h"
#include "crypto/hash.h"

namespace reel::consensus {

namespace {

// (round, height) pairs asked for at once stay few: this round's, the next one's for
// votes, a proposal's. Beyond this the cache starts over.
constexpr size_t kCacheEntriesMax = 64;

}  // namespace

LeaderSchedule::LeaderSchedule(uint64_t epoch, size_t n, bool reputation)
    : epoch_(epoch), n_(n), reputation_(reputation) {
  REEL_ASSERT(n_ >= 1 && n_ <= limits::validators_max);
}

void LeaderSchedule::Reset(const std::vector<BlockHeader>& committed_headers) {
  history_.clear();
  cache_.clear();
  for (const BlockHeader& h : committed_headers) OnCommitted(h);
}

void LeaderSchedule::OnCommitted(const BlockHeader& header) {
  // A gap (a restart that handed fewer headers) starts the history over: it must
  // stay consecutive for Compute to find a height by its distance from the newest.
  if (!history_.empty() && header.height != history_.back().height + 1) history_.clear();
  Entry e;
  e.height = header.height;
  // Genesis is no one's proposal, and another epoch's blocks are not this epoch's
  // history: kept as a placeholder that counts for no one.
  e.proposer = header.height == 0 || header.epoch != epoch_ ? UINT32_MAX : header.proposer_index;
  if (e.proposer != UINT32_MAX) e.voters = header.qc_signers;
  e.digest = crypto::Blake2b256(CanonicalHeaderBytes(header));
  history_.push_back(e);
  while (history_.size() > HistoryBlocksMax(n_)) history_.pop_front();
}

uint32_t LeaderSchedule::LeaderOf(uint64_t round, uint64_t history_height) const {
  const auto key = std::make_pair(round, history_height);
  if (auto it = cache_.find(key); it != cache_.end()) return it->second;
  const uint32_t leader = Compute(round, history_height);
  // Only an answer from a history this replica holds is final: one asked above the
  // newest committed height is round-robin now and may not be after the next commit.
  if (!history_.empty() && history_height <= history_.back().height) {
    if (cache_.size() >= kCacheEntriesMax) cache_.clear();
    cache_.emplace(key, leader);
  }
  return leader;
}

uint32_t LeaderSchedule::Compute(uint64_t round, uint64_t history_height) const {
  const uint32_t round_robin = static_cast<uint32_t>(round % n_);
  if (!reputation_ || history_.empty() || history_height == 0 ||
      history_height > history_.back().height || history_height < history_.front().height) {
    return round_robin;
  }
  std::vector<bool> active(n_, false);
  size_t own = 0;  // blocks of this epoch in the window
  const size_t top = static_cast<size_t>(history_height - history_.front().height);
  const Entry& newest = history_[top];
  for (size_t k = 0; k < Window(n_) && k <= top; ++k) {
    const Entry& e = history_[top - k];
    if (e.proposer == UINT32_MAX) continue;
    ++own;
    if (e.proposer < n_) active[e.proposer] = true;
    for (uint32_t v = 0; v < n_; ++v) {
      if (HasSigner(e.voters, v)) active[v] = true;
    }
  }
  // Too little history: the first blocks of an epoch (or of the chain) carry a root QC
  // with no signers, so a window of a few blocks names only their proposers, and one
  // of them (perhaps a faulty one) would lead almost every round. Round-robin until the
  // window is full of this epoch's blocks.
  if (own < Window(n_)) return round_robin;
  std::vector<uint64_t> weights(n_);
  uint64_t total = 0;
  for (uint32_t v = 0; v < n_; ++v) {
    weights[v] = active[v] ? kActiveWeight : kInactiveWeight;
    total += weights[v];
  }
  std::string seed_bytes = "reel/leader/v1";
  AppendU64BE(seed_bytes, epoch_);
  AppendU64BE(seed_bytes, round);
  seed_bytes.append(crypto::AsBytes(newest.digest));
  const Hash32 seed = crypto::Blake2b256(seed_bytes);
  uint64_t draw = 0;
  for (size_t i = 0; i < 8; ++i) draw = draw << 8 | seed[i];
  draw %= total;
  for (uint32_t v = 0; v < n_; ++v) {
    if (draw < weights[v]) return v;
    draw -= weights[v];
  }
  REEL_ASSERT(false && "the draw is below the total weight");
  return round_robin;
}

}  // namespace reel::consensus
