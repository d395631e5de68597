// The core simulator's epoch plan (reel-sim --epochs K, sim.h): which members form each
// epoch's validator set and at which height each epoch ends, all drawn from the seed
// before the run starts, so that the simulated application's EpochEndedAt answers from
// committed height alone, alike on every replica and at every restart.
//
// Members are identities 0..pool-1, each with its own key (MemberKey); the first set is
// 0..n-1 in order, and an index is a position in one epoch's set. An epoch lasts a number
// of committed blocks drawn in [1, 2K - 1] (so K on average, and now and then an epoch
// that ends at its first block). Each change from one set to the next is one of:
//   keep     the same members in the same order;
//   add      a member that is not in the set, at a random position (later ones move up);
//   remove   1..f members (f of the set before), never below 4 from a set of 4 or more,
//            and none from a set with f = 0;
//   replace  one member's key by a fresh member's, at the same position;
//   swap     remove one and add another at another position.
// The faulty members (the Byzantine coalition and the twins' key) never exceed the f of
// any set: a change that would break that is drawn again, and after a few tries the set
// is kept. Half the removals and replacements pick a faulty member where there is one
// (the removed validator that keeps sending, sim.h); a faulty member never comes back,
// and joiners are honest: removed honest members may rejoin. Without --epochs the plan is
// one epoch of members 0..n-1 that never ends (Fixed).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "consensus/types.h"
#include "crypto/keys.h"

namespace reel::sim {

// The key of member `member` (the simulator's validator `member` before epochs).
crypto::KeyPair MemberKey(uint32_t member);

struct EpochPlan {
  std::vector<uint32_t> members;     // position i is index i in the epoch's set
  uint64_t end_height = UINT64_MAX;  // the block that ends the epoch; UINT64_MAX: never
  std::string change;                // how the set came from the one before ("" for the first)
};

class EpochSchedule {
 public:
  // One epoch of members 0..n-1 that never ends.
  static EpochSchedule Fixed(uint32_t n);
  // Epochs of about `blocks_per_epoch` committed blocks each, over the first
  // kPlannedHeight heights, from a PRNG of its own seeded with `seed`.
  static EpochSchedule Draw(uint64_t seed, uint32_t n, uint64_t blocks_per_epoch,
                            const std::set<uint32_t>& faulty);
  static constexpr uint64_t kPlannedHeight = 2000;

  // No epoch ends above `height` any more: the epochs that end at or below it stay, and
  // the one after the last of them never ends. Whoever has executed no block above
  // `height` cannot tell the difference (the healing phase ends the changes this way, so
  // that the run has a final set to wait for).
  void StopAfter(uint64_t height);

  uint32_t pool() const { return pool_; }
  uint64_t count() const { return plans_.size(); }
  const EpochPlan& Of(uint64_t epoch) const { return plans_.at(epoch - 1); }
  const consensus::ValidatorSet& Set(uint64_t epoch) const { return sets_.at(epoch - 1); }
  // The epoch whose blocks have this height (>= 1).
  uint64_t EpochAt(uint64_t height) const;
  // The epoch that the block at `height` ends, if one does.
  std::optional<uint64_t> EndedAt(uint64_t height) const;
  std::optional<uint32_t> IndexOf(uint64_t epoch, uint32_t member) const;
  uint32_t MemberAt(uint64_t epoch, uint32_t index) const { return Of(epoch).members.at(index); }

 private:
  void Add(EpochPlan plan);

  uint32_t pool_ = 0;
  std::vector<EpochPlan> plans_;
  std::vector<consensus::ValidatorSet> sets_;
  std::map<uint64_t, uint64_t> ends_;    // end height -> the epoch it ends
  std::vector<crypto::PublicKey> keys_;  // of members 0..pool-1
};

}  // namespace reel::sim
