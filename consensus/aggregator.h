// Vote and timeout aggregation: collect verified signatures, count each
// validator once, and form a QC or TC at exactly a quorum. The caller verifies
// signatures before Add (so a bad one never counts) and bounds the rounds it
// passes in (limits::consensus_future_rounds_max); PruneBelow drops old rounds.
// With the planted double-count bug (VerifyContext::count_duplicate_signers) a
// repeated signer counts again; the simulator must catch that.
#pragma once

#include <map>
#include <optional>
#include <utility>
#include <vector>

#include "consensus/types.h"

namespace reel::consensus {

class VoteAggregator {
 public:
  // False if this signer's vote for (round, block) was already held, or if it
  // already voted for another block in that round: only a validator's first
  // vote of a round counts, so a round holds at most n entries however many
  // blocks an equivocating signer votes for.
  bool Add(const Vote& vote, const VerifyContext& ctx);
  // The QC for `block` (round `round`) once a quorum is held, the first time only.
  std::optional<QuorumCert> TryForm(uint64_t round, const Hash32& block_id, uint64_t height,
                                    const VerifyContext& ctx);
  void PruneBelow(uint64_t round);

 private:
  struct Entry {
    std::vector<SignerSignature> signers;
    bool formed = false;
  };
  std::map<std::pair<uint64_t, Hash32>, Entry> entries_;
  std::map<std::pair<uint64_t, uint32_t>, Hash32> first_vote_;  // (round, signer) -> block
};

class TimeoutAggregator {
 public:
  // False if this signer's timeout for the round was already held.
  bool Add(const Timeout& timeout, const VerifyContext& ctx);
  // Distinct signers held for `round`.
  size_t Count(uint64_t round) const;
  // The TC of `round` once a quorum is held, the first time only.
  std::optional<TimeoutCert> TryForm(uint64_t round, const VerifyContext& ctx);
  void PruneBelow(uint64_t round);

 private:
  struct Entry {
    std::vector<TimeoutSignature> signers;
    bool formed = false;
  };
  std::map<uint64_t, Entry> entries_;
};

}  // namespace reel::consensus
