// The one-way delay reel-relay gives each chunk: a pure model, driven by the caller's
// clock, so that a test can check its distribution without sockets or sleeps.
//
// Promise: every chunk is due between `base` and `base + jitter` after it was read
// (never earlier than a chunk read before it on the same direction), and the delay a
// chunk sees has the same distribution whatever the traffic: mean base + jitter / 2,
// whether a link carries one message a second or a thousand.
//
// Why a wandering delay rather than one drawn per chunk: a stream cannot reorder, so a
// chunk drawn a short delay must wait for the one before it. Drawn per chunk, a busy
// link then gives each chunk about the largest of the delays drawn in the last
// `base + jitter`: measured through the relay at 50 + [0, 100] ms, a message every 2 ms
// took 134 ms on average (p10 122 ms) where an idle link gave 103 ms. The WAN's latency
// grew with its load, which no real link between two provinces does. Here the delay
// instead moves in straight lines between targets drawn uniformly in
// [base, base + jitter], one target every `jitter` of time: it never falls faster than
// time passes, so `read time + delay` never decreases and nothing has to wait for an
// earlier chunk. Queueing on a real path behaves alike: its delay drifts; it does not
// jump per packet.
#pragma once

#include <chrono>
#include <cstdint>
#include <random>

namespace reel::relay {

class DelayModel {
 public:
  using Clock = std::chrono::steady_clock;

  DelayModel(std::chrono::milliseconds base, std::chrono::milliseconds jitter, uint64_t seed)
      : base_(base), span_(jitter), random_(seed), from_(Draw()), to_(Draw()) {}

  // When a chunk read at `now` is due. `now` never goes back between calls.
  Clock::time_point DueFor(Clock::time_point now) {
    if (span_.count() == 0) return Later(now + base_);
    if (!started_) {
      segment_start_ = now;
      started_ = true;
    }
    // Idle for many segments: the delay then is a fresh draw's walk, as if it had
    // wandered all along (skipping the segments keeps a call O(1)).
    if (now - segment_start_ >= 4 * span_) {
      segment_start_ = now - (now - segment_start_) % span_;
      from_ = Draw();
      to_ = Draw();
    }
    while (now - segment_start_ >= span_) {
      segment_start_ += span_;
      from_ = to_;
      to_ = Draw();
    }
    // In microseconds: a product of two nanosecond counts would overflow from a jitter
    // of about 3 s (relay.cc bounds it at 10 minutes: 6e8 us squared fits).
    using std::chrono::microseconds;
    const int64_t into = std::chrono::duration_cast<microseconds>(now - segment_start_).count();
    const int64_t from = std::chrono::duration_cast<microseconds>(from_).count();
    const int64_t to = std::chrono::duration_cast<microseconds>(to_).count();
    const int64_t span = std::chrono::duration_cast<microseconds>(span_).count();
    const microseconds delay(from + (to - from) * into / span);
    return Later(now + base_ + delay);
  }

 private:
  // A delay above base, uniform in [0, jitter], in whole microseconds.
  Clock::duration Draw() {
    const int64_t span_us = std::chrono::duration_cast<std::chrono::microseconds>(span_).count();
    std::uniform_int_distribution<int64_t> pick(0, span_us);
    return std::chrono::microseconds(pick(random_));
  }
  // Never before the chunk read before it: a TCP stream keeps its order (rounding aside,
  // the walk already guarantees it).
  Clock::time_point Later(Clock::time_point due) {
    if (due < last_due_) due = last_due_;
    last_due_ = due;
    return due;
  }

  const Clock::duration base_;
  const Clock::duration span_;  // the jitter: range of the walk, and one segment's length
  std::mt19937_64 random_;
  Clock::duration from_, to_;  // the delay above base at the ends of the current segment
  Clock::time_point segment_start_{};
  bool started_ = false;
  Clock::time_point last_due_{};
};

}  // namespace reel::relay
