// What the simulators share (sim.cc for the consensus core, whole_node.cc for the
// whole node): their only source of chance, and the fingerprint of a run.
//
// Rng is xoshiro256** seeded through splitmix64: the same seed gives the same
// numbers on every machine and compiler, which is what lets a seed replay a run.
// EventHash folds every logged event into 64 bits, order included: two runs of one
// seed that print the same hash took the same steps.
#pragma once

#include <cstdint>
#include <initializer_list>

namespace reel::sim {

class Rng {
 public:
  explicit Rng(uint64_t seed) {
    for (uint64_t& s : state_) {
      seed += 0x9e3779b97f4a7c15ULL;
      uint64_t z = seed;
      z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
      z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
      s = z ^ (z >> 31);
    }
  }
  uint64_t Next() {
    const uint64_t result = Rotl(state_[1] * 5, 7) * 9;
    const uint64_t t = state_[1] << 17;
    state_[2] ^= state_[0];
    state_[3] ^= state_[1];
    state_[1] ^= state_[2];
    state_[0] ^= state_[3];
    state_[2] ^= t;
    state_[3] = Rotl(state_[3], 45);
    return result;
  }
  // Uniform in [lo, hi].
  uint64_t Uniform(uint64_t lo, uint64_t hi) { return lo + Next() % (hi - lo + 1); }
  bool Chance(double p) { return static_cast<double>(Next() >> 11) * 0x1.0p-53 < p; }

 private:
  static uint64_t Rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  uint64_t state_[4];
};

class EventHash {
 public:
  void Add(std::initializer_list<uint64_t> fields) {
    for (uint64_t x : fields) {
      hash_ ^= x;
      hash_ *= 0x100000001b3ULL;
      hash_ ^= hash_ >> 29;
    }
  }
  uint64_t value() const { return hash_; }

 private:
  uint64_t hash_ = 0xcbf29ce484222325ULL;
};

}  // namespace reel::sim
