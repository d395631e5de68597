#include "consensus/leader_schedule.h"

#include <algorithm>

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
  e.round = header.round;
  e.committed_height = header.committed_height;
  PutFailures(e);
  history_.push_back(std::move(e));
  while (history_.size() > HistoryBlocksMax(n_)) history_.pop_front();
}

// The validators of the rounds `e` skipped after its parent (history_.back()).
void LeaderSchedule::PutFailures(Entry& e) const {
  if (!reputation_ || e.proposer == UINT32_MAX) return;  // no one's block: nothing to say
  if (history_.empty() || history_.back().height + 1 != e.height) {
    e.failures_known = false;  // the parent is not here
    return;
  }
  const Entry& parent = history_.back();
  // The first block of an epoch: its parent's round is of the epoch before.
  if (parent.proposer == UINT32_MAX || e.round <= parent.round + 1) return;
  const uint64_t last_few = e.round > kFailedRoundsMax ? e.round - kFailedRoundsMax : 0;
  const uint64_t first = std::max(parent.round + 1, last_few);
  for (uint64_t s = first; s < e.round; ++s) {
    const Draw draw = Compute(s, parent.committed_height, /*with_failures=*/false);
    if (!draw.exact) {
      e.failures_known = false;
      e.failed.clear();
      return;
    }
    if (std::find(e.failed.begin(), e.failed.end(), draw.leader) == e.failed.end())
      e.failed.push_back(draw.leader);
  }
}

uint32_t LeaderSchedule::LeaderOf(uint64_t round, uint64_t history_height) const {
  const auto key = std::make_pair(round, history_height);
  if (auto it = cache_.find(key); it != cache_.end()) return it->second;
  const Draw draw = Compute(round, history_height, /*with_failures=*/true);
  // Only an exact answer is final: one asked above the newest committed height is
  // round-robin now and may not be after the next commit.
  if (draw.exact) {
    if (cache_.size() >= kCacheEntriesMax) cache_.clear();
    cache_.emplace(key, draw.leader);
  }
  return draw.leader;
}

LeaderSchedule::Draw LeaderSchedule::Compute(uint64_t round, uint64_t history_height,
                                             bool with_failures) const {
  const Draw round_robin{static_cast<uint32_t>(round % n_), true};
  if (!reputation_ || history_height == 0) return round_robin;
  // History this replica does not hold (yet, or any more): round-robin, not exact.
  if (history_.empty() || history_height > history_.back().height ||
      history_height < history_.front().height) {
    return Draw{round_robin.leader, false};
  }
  std::vector<bool> active(n_, false);
  std::vector<bool> failed(n_, false);
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
    if (!with_failures) continue;
    if (!e.failures_known) return Draw{round_robin.leader, false};
    for (uint32_t v : e.failed) {
      if (v < n_) failed[v] = true;
    }
  }
  // Too little history: the first blocks of an epoch (or of the chain) carry a root QC
  // with no signers, so a window of a few blocks names only their proposers, and one
  // of them (perhaps a faulty one) would lead almost every round. Round-robin until the
  // window is full of this epoch's blocks. The window reaching below the oldest header
  // held, in a chain that has blocks there, is history this replica lacks.
  if (own < Window(n_)) {
    const bool lacking = top + 1 < Window(n_) && history_.front().height > 0 &&
                         history_.front().proposer != UINT32_MAX;
    return Draw{round_robin.leader, !lacking};
  }
  std::vector<uint64_t> weights(n_);
  uint64_t total = 0;
  for (uint32_t v = 0; v < n_; ++v) {
    weights[v] = failed[v] ? kFailedWeight : active[v] ? kActiveWeight : kInactiveWeight;
    total += weights[v];
  }
  // Rounds go in groups of GroupSize(n); a group's leaders are drawn by weight without
  // replacement, so no validator leads two rounds of a group.
  const uint64_t group_size = GroupSize(n_);
  const uint64_t group = round / group_size;
  const uint64_t position = round % group_size;
  std::string seed_prefix = "reel/leader/v2";
  AppendU64BE(seed_prefix, epoch_);
  AppendU64BE(seed_prefix, group);
  seed_prefix.append(crypto::AsBytes(newest.digest));
  for (uint64_t i = 0;; ++i) {
    std::string seed_bytes = seed_prefix;
    AppendU64BE(seed_bytes, i);
    const Hash32 seed = crypto::Blake2b256(seed_bytes);
    uint64_t draw = 0;
    for (size_t b = 0; b < 8; ++b) draw = draw << 8 | seed[b];
    draw %= total;
    uint32_t v = 0;
    for (; v < n_; ++v) {
      if (draw < weights[v]) break;
      draw -= weights[v];
    }
    REEL_ASSERT(v < n_ && "the draw is below the total weight");
    if (i == position) return Draw{v, true};
    total -= weights[v];  // drawn: out of the group's later rounds
    weights[v] = 0;
  }
}

}  // namespace reel::consensus
