#include "tests/sim/epochs.h"

#include <algorithm>

#include "tests/sim/rng.h"

namespace reel::sim {

crypto::KeyPair MemberKey(uint32_t member) {
  std::string seed(32, 's');
  seed[0] = static_cast<char>(member);
  seed[1] = static_cast<char>(member >> 8);
  return std::move(crypto::KeyPair::FromSeed(seed).value());
}

void EpochSchedule::Add(EpochPlan plan) {
  while (keys_.size() < pool_)
    keys_.push_back(MemberKey(static_cast<uint32_t>(keys_.size())).public_key());
  consensus::ValidatorSet set;
  for (uint32_t m : plan.members) set.keys.push_back(keys_.at(m));
  sets_.push_back(std::move(set));
  plans_.push_back(std::move(plan));
}

EpochSchedule EpochSchedule::Fixed(uint32_t n) {
  EpochSchedule s;
  s.pool_ = n;
  EpochPlan plan;
  for (uint32_t m = 0; m < n; ++m) plan.members.push_back(m);
  s.Add(std::move(plan));
  return s;
}

namespace {

size_t FaultyIn(const std::vector<uint32_t>& set, const std::set<uint32_t>& faulty) {
  return static_cast<size_t>(
      std::count_if(set.begin(), set.end(), [&](uint32_t m) { return faulty.count(m) != 0; }));
}

size_t FOf(size_t n) {
  return n == 0 ? 0 : (n - 1) / 3;
}

// A position in `set`, of a faulty member half the time when there is one.
size_t PickPosition(Rng& rng, const std::vector<uint32_t>& set, const std::set<uint32_t>& faulty) {
  std::vector<size_t> bad;
  for (size_t i = 0; i < set.size(); ++i) {
    if (faulty.count(set[i]) != 0) bad.push_back(i);
  }
  if (!bad.empty() && rng.Chance(0.5)) return bad[rng.Uniform(0, bad.size() - 1)];
  return rng.Uniform(0, set.size() - 1);
}

std::string Name(uint32_t member) {
  return "m" + std::to_string(member);
}

}  // namespace

EpochSchedule EpochSchedule::Draw(uint64_t seed, uint32_t n, uint64_t blocks_per_epoch,
                                  const std::set<uint32_t>& faulty) {
  REEL_ASSERT(n >= 1 && blocks_per_epoch >= 1);
  Rng rng(seed ^ 0x65706f6368733a31ULL);  // a stream of its own: the rest of the run's is unchanged
  EpochSchedule s;
  s.pool_ = std::min<uint32_t>(n + 3, limits::validators_max);
  const size_t size_max = s.pool_;
  EpochPlan first;
  for (uint32_t m = 0; m < n; ++m) first.members.push_back(m);
  uint64_t height = 0;
  while (true) {
    const uint64_t length = rng.Uniform(1, 2 * blocks_per_epoch - 1);
    const std::vector<uint32_t> set = first.members;
    if (height + length > kPlannedHeight) {
      s.Add(std::move(first));  // the last epoch never ends
      break;
    }
    height += length;
    first.end_height = height;
    s.ends_[height] = s.plans_.size() + 1;
    s.Add(std::move(first));

    // The next set. Joiners: members not in the set, never a faulty one.
    std::vector<uint32_t> candidates;
    for (uint32_t m = 0; m < s.pool_; ++m) {
      if (faulty.count(m) == 0 && std::find(set.begin(), set.end(), m) == set.end())
        candidates.push_back(m);
    }
    const size_t f = FOf(set.size());
    EpochPlan next{set, UINT64_MAX, "keep"};
    for (int attempt = 0; attempt < 4; ++attempt) {
      std::vector<uint32_t> to = set;
      std::string change;
      size_t removed = 0;
      const uint64_t kind = rng.Uniform(0, 9);
      auto take_candidate = [&]() {
        const size_t k = rng.Uniform(0, candidates.size() - 1);
        return candidates[k];
      };
      if (kind < 3) {
        change = "keep";
      } else if (kind < 5) {  // add
        if (candidates.empty() || to.size() >= size_max) continue;
        const uint32_t m = take_candidate();
        const size_t at = rng.Uniform(0, to.size());
        to.insert(to.begin() + static_cast<ptrdiff_t>(at), m);
        change = "add " + Name(m) + " at " + std::to_string(at);
      } else if (kind < 7) {  // remove 1..f
        if (f == 0) continue;
        const size_t k = rng.Uniform(1, f);
        change = "remove";
        for (size_t i = 0; i < k; ++i) {
          const size_t at = PickPosition(rng, to, faulty);
          change += " " + Name(to[at]);
          to.erase(to.begin() + static_cast<ptrdiff_t>(at));
        }
        removed = k;
      } else if (kind < 9) {  // replace one's key by a fresh member's
        if (candidates.empty()) continue;
        const size_t at = PickPosition(rng, to, faulty);
        const uint32_t m = take_candidate();
        change = "replace " + Name(to[at]) + " by " + Name(m);
        to[at] = m;
      } else {  // swap: remove one, add another elsewhere
        if (f == 0 || candidates.empty()) continue;
        const size_t at = PickPosition(rng, to, faulty);
        change = "swap " + Name(to[at]);
        to.erase(to.begin() + static_cast<ptrdiff_t>(at));
        const uint32_t m = take_candidate();
        const size_t in = rng.Uniform(0, to.size());
        to.insert(to.begin() + static_cast<ptrdiff_t>(in), m);
        change += " for " + Name(m) + " at " + std::to_string(in);
        removed = 1;
      }
      // The governance bounds (LEDGER.md): never below 4 from 4 or more, never more than f
      // removed at once; and the simulator's own: the faulty stay within the new set's f.
      if (to.empty() || (set.size() >= 4 && to.size() < 4) || removed > f) continue;
      if (FaultyIn(to, faulty) > FOf(to.size())) continue;
      next.members = std::move(to);
      next.change = std::move(change);
      break;
    }
    first = std::move(next);
  }
  return s;
}

void EpochSchedule::StopAfter(uint64_t height) {
  uint64_t keep = 1;
  for (const auto& [end, epoch] : ends_) {
    if (end <= height) keep = epoch + 1;
  }
  REEL_ASSERT(keep <= plans_.size());
  plans_.resize(keep);
  sets_.resize(keep);
  plans_.back().end_height = UINT64_MAX;
  ends_.erase(ends_.upper_bound(height), ends_.end());
}

uint64_t EpochSchedule::EpochAt(uint64_t height) const {
  // The first epoch whose end is at or above `height`.
  auto it = ends_.lower_bound(height);
  return it == ends_.end() ? plans_.size() : it->second;
}

std::optional<uint64_t> EpochSchedule::EndedAt(uint64_t height) const {
  auto it = ends_.find(height);
  if (it == ends_.end()) return std::nullopt;
  return it->second;
}

std::optional<uint32_t> EpochSchedule::IndexOf(uint64_t epoch, uint32_t member) const {
  const std::vector<uint32_t>& set = Of(epoch).members;
  auto it = std::find(set.begin(), set.end(), member);
  if (it == set.end()) return std::nullopt;
  return static_cast<uint32_t>(it - set.begin());
}

}  // namespace reel::sim
