// Leader reputation (consensus/leader_schedule.h): round-robin without history,
// the same answer on every replica that holds the history (with failed rounds in it
// too), a silent validator dropped within a window and chosen again once it votes, the
// leader of a skipped round dropped from the commit that shows it, no validator twice
// in a group of rounds; and on the tests' network, a crashed validator stops costing
// rounds.
#include "consensus/leader_schedule.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "tests/consensus/consensus_test_util.h"

namespace reel::consensus {
namespace {

using testing::TestNet;

// A committed header at `height`, proposed by `proposer`, whose QC `voters` signed.
BlockHeader Header(uint64_t height, uint32_t proposer, const std::vector<uint32_t>& voters) {
  BlockHeader h;
  h.epoch = 1;
  h.height = height;
  h.round = height;
  h.committed_height = height >= 2 ? height - 2 : 0;
  h.proposer_index = proposer;
  for (uint32_t v : voters) h.qc_signers[v / 8] |= static_cast<uint8_t>(1u << (v % 8));
  return h;
}

// `count` committed blocks on genesis in which validators `who` take turns proposing
// and all of `who` vote.
std::vector<BlockHeader> Chain(uint64_t count, const std::vector<uint32_t>& who) {
  std::vector<BlockHeader> chain = {Header(0, 0, {})};
  for (uint64_t h = 1; h <= count; ++h) chain.push_back(Header(h, who[h % who.size()], who));
  return chain;
}

// How many of rounds [1000, 3000) `who` leads for a child of a block whose committed
// height is `height`.
int Chosen(const LeaderSchedule& s, uint64_t height, uint32_t who) {
  int count = 0;
  for (uint64_t r = 1000; r < 3000; ++r) count += s.LeaderOf(r, height) == who ? 1 : 0;
  return count;
}

TEST(LeaderScheduleTest, RoundRobinWithoutHistory) {
  LeaderSchedule s(1, 4);
  s.Reset({Header(0, 0, {})});
  for (uint64_t r = 1; r < 20; ++r) EXPECT_EQ(s.LeaderOf(r, 0), r % 4);
  // A height this replica has not committed: round-robin, and not remembered.
  EXPECT_EQ(s.LeaderOf(7, 5), 3u);
}

TEST(LeaderScheduleTest, ReplicasThatHoldTheHistoryAgreeHoweverFarTheyAre) {
  const std::vector<BlockHeader> chain = Chain(100, {0, 1, 2, 3});
  LeaderSchedule behind(1, 4), ahead(1, 4), restarted(1, 4);
  behind.Reset({chain.begin(), chain.begin() + 41});        // committed up to 40
  for (const BlockHeader& h : chain) ahead.OnCommitted(h);  // up to 100, incrementally
  // A restart hands only the newest HistoryBlocksMax headers.
  const size_t keep = LeaderSchedule::HistoryBlocksMax(4);
  restarted.Reset({chain.end() - static_cast<std::ptrdiff_t>(keep), chain.end()});
  for (uint64_t r = 41; r < 200; ++r) {
    EXPECT_EQ(behind.LeaderOf(r, 40), ahead.LeaderOf(r, 40)) << "round " << r;
    EXPECT_EQ(ahead.LeaderOf(r, 90), restarted.LeaderOf(r, 90)) << "round " << r;
  }
}

TEST(LeaderScheduleTest, ASilentValidatorIsDroppedAndComesBackWhenItVotes) {
  const uint32_t n = 4;
  // Validator 3 proposed and voted until height 20, then went silent.
  std::vector<BlockHeader> chain = Chain(20, {0, 1, 2, 3});
  for (uint64_t h = 21; h <= 60; ++h)
    chain.push_back(Header(h, static_cast<uint32_t>(h % 3), {0, 1, 2}));
  LeaderSchedule s(1, n);
  s.Reset(chain);
  // While it is in the window, it leads about a quarter of the rounds.
  EXPECT_GT(Chosen(s, 20 + LeaderSchedule::Window(n) - 1, 3), 350);
  // Once the window holds none of its votes or proposals: about 1 in 300.
  const int silent = Chosen(s, 60, 3);
  EXPECT_LT(silent, 30) << "a silent validator still leads " << silent << " of 2000 rounds";
  EXPECT_GT(Chosen(s, 60, 0), 550);
  // It votes again (one QC at height 61): active again.
  s.OnCommitted(Header(61, 1, {0, 1, 3}));
  EXPECT_GT(Chosen(s, 61, 3), 350);
}

TEST(LeaderScheduleTest, TheLeaderOfASkippedRoundIsDroppedFromTheCommitThatShowsIt) {
  const uint32_t n = 4;
  std::vector<BlockHeader> chain = Chain(30, {0, 1, 2, 3});
  LeaderSchedule s(1, n);
  s.Reset(chain);
  // Block 31 extends block 30 (round 30) in round 32: round 31's leader failed. Who that
  // was, every replica reads from block 30's history.
  const uint32_t failed = s.LeaderOf(31, chain.back().committed_height);
  EXPECT_GT(Chosen(s, 30, failed), 400);
  BlockHeader skipping = Header(31, (failed + 1) % n, {0, 1, 2, 3});
  skipping.round = 32;
  s.OnCommitted(skipping);
  // At once about 1 round in 3000, though its votes keep it active.
  const int after = Chosen(s, 31, failed);
  EXPECT_LT(after, 10) << "the failed leader still leads " << after << " of 2000 rounds";
  // A window later, with no more failures, it leads its share again.
  for (uint64_t h = 32; h <= 31 + LeaderSchedule::Window(n); ++h) {
    BlockHeader next = Header(h, static_cast<uint32_t>(h % n), {0, 1, 2, 3});
    next.round = h + 1;
    s.OnCommitted(next);
  }
  EXPECT_GT(Chosen(s, 31 + LeaderSchedule::Window(n), failed), 400);
}

TEST(LeaderScheduleTest, RoundsSkippedEarlyInTheChainCountToo) {
  // Block 3 extends block 2 (round 2) in round 5: rounds 3 and 4 failed. With no history
  // below them, their leaders are round-robin's: validators 3 and 0.
  std::vector<BlockHeader> chain = {Header(0, 0, {})};
  for (uint64_t h = 1; h <= 10; ++h) {
    BlockHeader b = Header(h, static_cast<uint32_t>(h % 4), {0, 1, 2, 3});
    if (h >= 3) b.round = h + 2;
    chain.push_back(b);
  }
  LeaderSchedule s(1, 4);
  s.Reset(chain);
  // Two of four failed: each group of three rounds takes the two others first, so the
  // failed ones share its third round (a sixth of the rounds each, a quarter without).
  for (uint32_t v : {0u, 3u}) EXPECT_LT(Chosen(s, 10, v), 400) << "validator " << v;
  for (uint32_t v : {1u, 2u}) EXPECT_GT(Chosen(s, 10, v), 600) << "validator " << v;
}

TEST(LeaderScheduleTest, NoValidatorLeadsTwoRoundsOfAGroup) {
  for (uint32_t n : {4u, 7u, 10u}) {
    std::vector<uint32_t> all(n);
    for (uint32_t v = 0; v < n; ++v) all[v] = v;
    LeaderSchedule s(1, n);
    s.Reset(Chain(3 * n, all));
    const uint64_t g = LeaderSchedule::GroupSize(n);
    ASSERT_EQ(g, n - (n - 1) / 3);
    size_t longest_run = 1, run = 1;
    for (uint64_t r = 1; r < 3000; ++r) {
      const uint32_t leader = s.LeaderOf(r, 3 * n);
      for (uint64_t q = r - r % g; q < r; ++q) {
        ASSERT_NE(s.LeaderOf(q, 3 * n), leader) << "n " << n << " rounds " << q << ", " << r;
      }
      run = leader == s.LeaderOf(r - 1, 3 * n) ? run + 1 : 1;
      longest_run = std::max(longest_run, run);
    }
    EXPECT_LE(longest_run, 2u) << "n " << n;
  }
}

TEST(LeaderScheduleTest, ReplicasAgreeWithFailuresInTheHistory) {
  // Every fifth block skips a round, whose leader is put down as failed.
  std::vector<BlockHeader> chain = {Header(0, 0, {})};
  uint64_t round = 0;
  for (uint64_t h = 1; h <= 120; ++h) {
    round += h % 5 == 0 ? 2 : 1;
    BlockHeader b = Header(h, static_cast<uint32_t>(h % 3), {0, 1, 2});
    b.round = round;
    chain.push_back(b);
  }
  LeaderSchedule ahead(1, 4), restarted(1, 4), plain(1, 4);
  for (const BlockHeader& h : chain) ahead.OnCommitted(h);
  const size_t keep = LeaderSchedule::HistoryBlocksMax(4);
  restarted.Reset({chain.end() - static_cast<std::ptrdiff_t>(keep), chain.end()});
  for (BlockHeader h : chain) {  // the same chain with no round skipped
    h.round = h.height;
    plain.OnCommitted(h);
  }
  int differ = 0;
  for (uint64_t height = 120 - LeaderSchedule::kKeptBeyondWindow; height <= 120; ++height) {
    for (uint64_t r = 200; r < 260; ++r) {
      ASSERT_EQ(ahead.LeaderOf(r, height), restarted.LeaderOf(r, height))
          << "round " << r << " height " << height;
      differ += ahead.LeaderOf(r, height) != plain.LeaderOf(r, height) ? 1 : 0;
    }
  }
  EXPECT_GT(differ, 100) << "the failures changed no draw";
}

TEST(LeaderScheduleTest, OtherVotersOrHistoryChangeTheDraw) {
  LeaderSchedule a(1, 4), b(1, 4);
  std::vector<BlockHeader> ca = Chain(30, {0, 1, 2, 3});
  std::vector<BlockHeader> cb = ca;
  cb.back().qc_signers = Header(0, 0, {0, 1, 2}).qc_signers;  // another quorum at 30
  a.Reset(ca);
  b.Reset(cb);
  int differ = 0;
  for (uint64_t r = 31; r < 131; ++r) differ += a.LeaderOf(r, 30) != b.LeaderOf(r, 30) ? 1 : 0;
  EXPECT_GT(differ, 20) << "the seed does not depend on the newest header";
}

// Four cores; validator 0, whose votes are in every QC of this in-order network (a
// validator whose votes always come last is never in a QC here, and so is already
// out of the schedule), crashes once they run: the schedule stops choosing it once
// the window no longer holds its votes, so rounds stop ending by timeout.
TEST(LeaderScheduleNet, ACrashedValidatorStopsCostingRounds) {
  TestNet net(4);
  net.Start();
  auto height = [&] { return net.apps[1]->executed.size(); };
  auto drop_crashed = [&] {
    std::erase_if(net.queue, [](const TestNet::Envelope& e) { return e.from == 0 || e.to == 0; });
  };
  const size_t crashed_at = height();

  std::optional<uint64_t> view_changes_settled;  // once 50 blocks committed without it
  for (int i = 0; i < 20000 && height() < crashed_at + 150; ++i) {
    const size_t before = height();
    drop_crashed();
    net.Run(20);
    drop_crashed();
    if (!view_changes_settled && height() >= crashed_at + 50) {
      view_changes_settled = net.cores[1]->view_changes();
    }
    if (height() == before && net.queue.empty()) net.Tick(1000);
  }
  ASSERT_GE(height(), crashed_at + 150) << "three of four did not keep committing";
  ASSERT_TRUE(view_changes_settled.has_value());
  const uint64_t later = net.cores[1]->view_changes() - *view_changes_settled;
  // Round-robin would lose about one round in four to the crashed leader (some 25 here).
  EXPECT_LE(later, 3u) << later << " rounds ended by timeout in the last 100 blocks";
  EXPECT_GE(*view_changes_settled, 1u) << "the crash cost no round at all: was it crashed?";
}

}  // namespace
}  // namespace reel::consensus
