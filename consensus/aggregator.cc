#include "consensus/aggregator.h"

#include <set>

namespace reel::consensus {
namespace {

template <typename Signers>
bool HasSigner(const Signers& signers, uint32_t index) {
  for (const auto& s : signers) {
    if (s.index == index) return true;
  }
  return false;
}

template <typename Signers>
std::vector<uint32_t> Indices(const Signers& signers) {
  std::vector<uint32_t> out;
  for (const auto& s : signers) out.push_back(s.index);
  return out;
}

}  // namespace

bool VoteAggregator::Add(const Vote& vote, const VerifyContext& ctx) {
  auto [first, fresh] = first_vote_.emplace(std::make_pair(vote.round, vote.signer), vote.block_id);
  if (!fresh && first->second != vote.block_id) return false;  // equivocation: first one stands
  Entry& e = entries_[{vote.round, vote.block_id}];
  if (HasSigner(e.signers, vote.signer) && !ctx.count_duplicate_signers) return false;
  e.signers.push_back({vote.signer, vote.signature});
  return true;
}

std::optional<QuorumCert> VoteAggregator::TryForm(uint64_t round, const Hash32& block_id,
                                                  uint64_t height, const VerifyContext& ctx) {
  auto it = entries_.find({round, block_id});
  if (it == entries_.end() || it->second.formed) return std::nullopt;
  if (!IsQuorum(Indices(it->second.signers), ctx)) return std::nullopt;
  it->second.formed = true;
  QuorumCert qc;
  qc.block_id = block_id;
  qc.round = round;
  qc.height = height;
  qc.epoch = ctx.epoch;
  qc.signers = it->second.signers;
  return qc;
}

void VoteAggregator::PruneBelow(uint64_t round) {
  while (!first_vote_.empty() && first_vote_.begin()->first.first < round) {
    first_vote_.erase(first_vote_.begin());
  }
  while (!entries_.empty() && entries_.begin()->first.first < round) {
    entries_.erase(entries_.begin());
  }
}

bool TimeoutAggregator::Add(const Timeout& timeout, const VerifyContext& ctx) {
  Entry& e = entries_[timeout.round];
  if (HasSigner(e.signers, timeout.signer) && !ctx.count_duplicate_signers) return false;
  e.signers.push_back({timeout.signer, timeout.high_qc.round, timeout.signature});
  return true;
}

size_t TimeoutAggregator::Count(uint64_t round) const {
  auto it = entries_.find(round);
  if (it == entries_.end()) return 0;
  std::set<uint32_t> distinct;
  for (const auto& s : it->second.signers) distinct.insert(s.index);
  return distinct.size();
}

std::optional<TimeoutCert> TimeoutAggregator::TryForm(uint64_t round, const VerifyContext& ctx) {
  auto it = entries_.find(round);
  if (it == entries_.end() || it->second.formed) return std::nullopt;
  if (!IsQuorum(Indices(it->second.signers), ctx)) return std::nullopt;
  it->second.formed = true;
  TimeoutCert tc;
  tc.epoch = ctx.epoch;
  tc.round = round;
  tc.signers = it->second.signers;
  return tc;
}

void TimeoutAggregator::PruneBelow(uint64_t round) {
  while (!entries_.empty() && entries_.begin()->first < round) entries_.erase(entries_.begin());
}

}  // namespace reel::consensus
