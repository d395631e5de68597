// reel-relay's delay model (tools/relay/delay_model.h): bounds, order, and a
// distribution that does not depend on how busy the link is.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <random>
#include <vector>

#include "tools/relay/delay_model.h"

namespace reel::relay {
namespace {

using Clock = DelayModel::Clock;
using std::chrono::milliseconds;

constexpr milliseconds kBase{50};
constexpr milliseconds kJitter{100};

struct Seen {
  std::vector<double> delays_ms;  // sorted
  double mean_ms = 0;
  double Quantile(double q) const {
    return delays_ms[static_cast<size_t>(q * static_cast<double>(delays_ms.size() - 1))];
  }
};

// Feeds chunks read every `every` for `span` of synthetic time; checks each one's bounds
// and order on the way.
Seen Drive(DelayModel* model, Clock::duration every, Clock::duration span) {
  Seen seen;
  const Clock::time_point start{};
  Clock::time_point last_due{};
  double sum = 0;
  for (Clock::time_point now = start + every; now < start + span; now += every) {
    const Clock::time_point due = model->DueFor(now);
    EXPECT_GE(due, last_due) << "a chunk came due before the one read before it";
    EXPECT_GE(due - now, Clock::duration(kBase));
    EXPECT_LE(due - now, Clock::duration(kBase + kJitter));
    last_due = due;
    const double ms = std::chrono::duration<double, std::milli>(due - now).count();
    seen.delays_ms.push_back(ms);
    sum += ms;
  }
  std::sort(seen.delays_ms.begin(), seen.delays_ms.end());
  seen.mean_ms = sum / static_cast<double>(seen.delays_ms.size());
  return seen;
}

TEST(RelayDelayTest, ABusyLinkHasTheLatencyOfAnIdleOne) {
  // Drawn per chunk and kept in order, a chunk every millisecond waits about the largest
  // of the recent draws (through the old relay, a message every 2 ms took 134 ms on
  // average, not 100).
  DelayModel busy(kBase, kJitter, 7);
  DelayModel idle(kBase, kJitter, 7);
  const Seen b = Drive(&busy, milliseconds(1), std::chrono::seconds(2000));
  const Seen i = Drive(&idle, milliseconds(300), std::chrono::seconds(2000));
  DelayModel rare(kBase, kJitter, 7);  // longer gaps than 4 segments: the idle skip
  const Seen r = Drive(&rare, milliseconds(1300), std::chrono::seconds(6000));
  for (const Seen* s : {&b, &i, &r}) {
    EXPECT_NEAR(s->mean_ms, 100, 5);
    // The jitter keeps its range under load: it does not collapse toward the top.
    EXPECT_LT(s->Quantile(0.1), 75);
    EXPECT_GT(s->Quantile(0.9), 125);
  }
  EXPECT_NEAR(b.Quantile(0.5), i.Quantile(0.5), 6);
}

TEST(RelayDelayTest, IrregularTrafficStaysInBoundsAndInOrder) {
  DelayModel model(kBase, kJitter, 11);
  std::mt19937_64 random(3);
  std::exponential_distribution<double> gap_ms(1.0 / 40);  // bursts and long pauses
  Clock::time_point now{}, last_due{};
  for (int k = 0; k < 100000; ++k) {
    now += std::chrono::microseconds(static_cast<int64_t>(gap_ms(random) * 1000));
    const Clock::time_point due = model.DueFor(now);
    ASSERT_GE(due, last_due);
    ASSERT_GE(due - now, Clock::duration(kBase));
    ASSERT_LE(due - now, Clock::duration(kBase + kJitter));
    last_due = due;
  }
}

TEST(RelayDelayTest, NoJitterIsTheBaseDelayExactly) {
  DelayModel model(kBase, milliseconds(0), 1);
  for (int k = 1; k < 100; ++k) {
    const Clock::time_point now = Clock::time_point{} + milliseconds(k);
    EXPECT_EQ(model.DueFor(now) - now, Clock::duration(kBase));
  }
}

TEST(RelayDelayTest, TheSameSeedGivesTheSameDelays) {
  DelayModel a(kBase, kJitter, 42), b(kBase, kJitter, 42), c(kBase, kJitter, 43);
  bool differs = false;
  for (int k = 1; k < 1000; ++k) {
    const Clock::time_point now = Clock::time_point{} + milliseconds(7 * k);
    const Clock::time_point due = a.DueFor(now);
    EXPECT_EQ(due, b.DueFor(now));
    differs |= due != c.DueFor(now);
  }
  EXPECT_TRUE(differs);
}

}  // namespace
}  // namespace reel::relay
