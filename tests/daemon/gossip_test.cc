// When gossip calls a peer (GossipCallDue, GossipPeerIsFar in node/daemon/peer_glue.h):
// one call at a time with gathered batches to a near peer, calls side by side to a far
// one, so that on a WAN a transaction does not wait for the round trip of the call
// before its own.
#include <gtest/gtest.h>

#include <chrono>
#include <deque>

#include "base/limits.h"
#include "node/daemon/peer_glue.h"

namespace reel::daemon {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr Clock::time_point kNever = Clock::time_point::max();
const Clock::time_point kT0 = Clock::time_point{} + std::chrono::hours(1);

TEST(GossipTest, NothingWaitingMeansNoCall) {
  EXPECT_EQ(GossipCallDue(0, false, 0, kT0, kT0), kNever);
  EXPECT_EQ(GossipCallDue(0, true, 0, kT0, kT0), kNever);
}

TEST(GossipTest, ANearPeerGetsOneCallAtATimeWithGatheredBatches) {
  const milliseconds linger(limits::gossip_linger_ms);
  // A few waiting: they gather for the linger, counted from the end of the last call
  // (a transaction that queued during it still waits, so that the batch doubles)...
  EXPECT_EQ(GossipCallDue(0, false, 3, kT0, kT0 + milliseconds(7)), kT0 + milliseconds(7) + linger);
  // ...or from the first one queued since.
  EXPECT_EQ(GossipCallDue(0, false, 3, kT0 + milliseconds(30), kT0),
            kT0 + milliseconds(30) + linger);
  // A full batch goes at once.
  EXPECT_EQ(GossipCallDue(0, false, limits::gossip_batch_txs, kT0, kT0 + milliseconds(5)), kT0);
  // While a call is in flight, none beside it, however much waits.
  EXPECT_EQ(GossipCallDue(1, false, 3, kT0, kT0), kNever);
  EXPECT_EQ(GossipCallDue(1, false, limits::net_gossip_txs_max, kT0, kT0), kNever);
}

TEST(GossipTest, AFarPeerGetsCallsSideBySide) {
  const milliseconds pipeline(limits::gossip_pipeline_wait_ms);
  EXPECT_EQ(GossipCallDue(1, true, 3, kT0, kT0 - milliseconds(200)), kT0 + pipeline);
  EXPECT_EQ(GossipCallDue(1, true, limits::gossip_batch_txs, kT0, kT0), kT0);
  EXPECT_EQ(GossipCallDue(limits::gossip_calls_per_peer_max - 1, true, 3, kT0, kT0),
            kT0 + pipeline);
  // Bounded: the peer's server keeps room for sync calls.
  EXPECT_EQ(
      GossipCallDue(limits::gossip_calls_per_peer_max, true, limits::net_gossip_txs_max, kT0, kT0),
      kNever);
  // No call in flight: as near, the linger.
  EXPECT_EQ(GossipCallDue(0, true, 3, kT0, kT0), kT0 + milliseconds(limits::gossip_linger_ms));
}

TEST(GossipTest, APeerIsFarOnlyWhenEveryRecentCallTookARoundTrip) {
  const Clock::duration slow = milliseconds(limits::gossip_far_call_ms);
  std::deque<Clock::duration> calls;
  for (size_t k = 0; k + 1 < limits::gossip_far_calls; ++k) calls.push_back(slow);
  EXPECT_FALSE(GossipPeerIsFar(calls)) << "too few calls to judge";
  calls.push_back(slow + milliseconds(100));
  EXPECT_TRUE(GossipPeerIsFar(calls));
  // One fast answer among them: a near node that was busy, not a far one.
  calls[3] = milliseconds(2);
  EXPECT_FALSE(GossipPeerIsFar(calls));
}

}  // namespace
}  // namespace reel::daemon
