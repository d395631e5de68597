// Epoch changes in the core (CONSENSUS.md "Epochs"): the committed block that the
// application says ends the epoch is the last the old set commits; a core of the next
// epoch roots on it and runs the next set from round 1.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>

#include "tests/consensus/consensus_test_util.h"

namespace reel::consensus::testing {
namespace {

// The test application, with the epoch ends the test plants: at height h, the members
// (global key ids) of the next epoch.
class EpochApp : public TestApp {
 public:
  std::optional<ValidatorSet> EpochEndedAt(uint64_t height) const override {
    auto it = ends.find(height);
    if (it == ends.end()) return std::nullopt;
    ValidatorSet set;
    for (uint32_t id : it->second) set.keys.push_back(TestKey(id).public_key());
    return set;
  }
  std::map<uint64_t, std::vector<uint32_t>> ends;
};

// Members are key ids 0..kMembers-1. Each runs at most one core, of its newest epoch;
// messages are addressed by index in the sender's epoch and delivered in order, with no
// loss. A member that joins copies a member's application as the epoch ends (what block
// sync would give it).
class EpochNet {
 public:
  static constexpr uint32_t kMembers = 7;
  static constexpr uint64_t kTickMs = 100;

  EpochNet(std::vector<uint32_t> first, std::map<uint64_t, std::vector<uint32_t>> ends)
      : members_(kMembers) {
    sets_[1] = first;
    for (uint32_t id = 0; id < kMembers; ++id) {
      members_[id].app.ends = ends;
      if (Index(1, id)) StartCore(id, 1, MakeGenesisBlock(kChain, 1), Hash32{});
    }
  }

  std::optional<uint32_t> Index(uint64_t epoch, uint32_t id) const {
    const std::vector<uint32_t>& set = sets_.at(epoch);
    auto it = std::find(set.begin(), set.end(), id);
    if (it == set.end()) return std::nullopt;
    return static_cast<uint32_t>(it - set.begin());
  }

  void StartCore(uint32_t id, uint64_t epoch, const Block& root, const Hash32& root_id) {
    Member& m = members_[id];
    Config c = TestConfig(static_cast<uint32_t>(sets_.at(epoch).size()), *Index(epoch, id));
    c.epoch = epoch;
    c.validators = ValidatorSet{};
    for (uint32_t k : sets_.at(epoch)) c.validators.keys.push_back(TestKey(k).public_key());
    c.epoch_root_id = root_id;
    c.epoch_root_height = root_id == Hash32{} ? 0 : root.header.height;
    c.block_interval_ms_min = kTickMs;  // about a block per tick
    m.epoch = epoch;
    m.core = std::make_unique<Core>(c, TestKey(id), &m.app);
    StartState s;
    s.committed_block = root;
    s.committed_qc = MakeGenesisQc(root);  // ignored at the root
    Absorb(id, m.core->OnStart(s, now));
  }

  void Absorb(uint32_t id, Step step) {
    Member& m = members_[id];
    const uint64_t epoch = m.epoch;
    for (const Action& a : step.actions) {
      std::visit(Overloaded{
                     [&](const Send& s) {
                       if (std::holds_alternative<Vote>(s.message)) ++votes[{id, epoch}];
                       queue.push_back({id, sets_.at(epoch)[s.to], s.message});
                     },
                     [&](const Broadcast& b) {
                       for (uint32_t to : sets_.at(epoch)) queue.push_back({id, to, b.message});
                     },
                     [](const Persist&) {},
                     [](const StoreBlock&) {},
                     [&](const Commit& c) {
                       commits[id].push_back(c);
                       if (c.next_epoch) EndEpoch(id, c);
                     },
                     [](const FetchBlocks&) {},
                 },
                 a);
    }
  }

  void EndEpoch(uint32_t id, const Commit& c) {
    Member& m = members_[id];
    EXPECT_TRUE(m.core->ended());
    const Block& root = c.blocks.back().block;
    const uint64_t next = m.epoch + 1;
    if (!sets_.count(next)) {
      sets_[next] = m.app.ends.at(root.header.height);
      // Those who join take the state of the first to get there.
      for (uint32_t k : sets_[next]) {
        if (k != id && members_[k].core == nullptr) {
          members_[k].app.executed = m.app.executed;
          members_[k].app.roots_ = m.app.roots_;
          StartCore(k, next, root, root.id);
        }
      }
    }
    ended.push_back({id, m.epoch});
    retired.push_back(std::move(m.core));  // kept, for tests of an ended core
    if (Index(next, id)) StartCore(id, next, root, root.id);
  }

  void Run(size_t max_messages = 20000) {
    for (size_t i = 0; i < max_messages && !queue.empty(); ++i) {
      Envelope e = std::move(queue.front());
      queue.pop_front();
      Member& to = members_[e.to];
      if (to.core == nullptr) continue;
      // The sender's index in the receiver's epoch, as an authenticated transport says.
      std::optional<uint32_t> from = Index(to.epoch, e.from);
      if (!from) continue;
      Core& c = *to.core;
      Absorb(e.to, std::visit(Overloaded{
                                  [&](const Proposal& p) { return c.OnProposal(*from, p); },
                                  [&](const Vote& v) { return c.OnVote(*from, v); },
                                  [&](const Timeout& t) { return c.OnTimeout(*from, t); },
                              },
                              e.message));
    }
  }
  void RunRounds(int ticks) {
    for (int i = 0; i < ticks; ++i) {
      Run();
      now += kTickMs;
      for (uint32_t id = 0; id < kMembers; ++id) {
        if (members_[id].core) Absorb(id, members_[id].core->OnTick(now));
      }
    }
    Run();
  }

  struct Member {
    EpochApp app;
    std::unique_ptr<Core> core;
    uint64_t epoch = 0;
  };
  struct Envelope {
    uint32_t from, to;  // global ids
    Message message;
  };
  std::vector<Member> members_;
  std::map<uint64_t, std::vector<uint32_t>> sets_;
  std::map<uint32_t, std::vector<Commit>> commits;
  std::vector<std::pair<uint32_t, uint64_t>> ended;    // (member, epoch it ended)
  std::vector<std::unique_ptr<Core>> retired;          // cores whose epoch ended
  std::map<std::pair<uint32_t, uint64_t>, int> votes;  // (member, epoch) -> votes sent
  std::deque<Envelope> queue;
  uint64_t now = 1000;
};

// Heights each member executed, with the epoch of each block.
std::vector<std::pair<uint64_t, uint64_t>> Executed(const EpochApp& app) {
  std::vector<std::pair<uint64_t, uint64_t>> out;
  for (const Block& b : app.executed) out.emplace_back(b.header.height, b.header.epoch);
  return out;
}

TEST(EpochTest, TheApprovingBlockEndsTheEpochAndTheNextSetCommitsFromIt) {
  EpochNet net({0, 1, 2, 3}, {{3, {0, 1, 2, 3, 4}}});
  net.RunRounds(40);
  for (uint32_t id : {0u, 1u, 2u, 3u}) {
    SCOPED_TRACE("member " + std::to_string(id));
    const auto executed = Executed(net.members_[id].app);
    ASSERT_GT(executed.size(), 8u) << "commits did not go on in the next epoch";
    for (const auto& [height, epoch] : executed) {
      // Nothing of epoch 1 above the block that ended it; everything after is epoch 2.
      EXPECT_EQ(epoch, height <= 3 ? 1u : 2u) << "height " << height;
    }
    EXPECT_EQ(net.members_[id].epoch, 2u);
  }
  // The member that joined votes and leads in epoch 2, and commits what the others did.
  const EpochApp& joined = net.members_[4].app;
  bool proposed = false;
  for (const Block& b : joined.executed)
    proposed |= b.header.epoch == 2 && b.header.proposer_index == 4;
  EXPECT_TRUE(proposed);
  EXPECT_GT((net.votes[{4, 2}]), 3);
  EXPECT_EQ((net.votes[{4, 1}]), 0);
  const size_t common = std::min(joined.roots_.size(), net.members_[0].app.roots_.size());
  for (size_t h = 0; h < common; ++h) {
    EXPECT_EQ(joined.roots_[h], net.members_[0].app.roots_[h]) << "height " << h;
  }
}

TEST(EpochTest, TheEndingCommitStopsAtTheBlockAndCarriesItsProof) {
  EpochNet net({0, 1, 2, 3}, {{2, {0, 1, 2, 3}}});
  net.RunRounds(20);
  for (uint32_t id : {0u, 1u, 2u, 3u}) {
    SCOPED_TRACE("member " + std::to_string(id));
    const Commit* ending = nullptr;
    for (const Commit& c : net.commits[id]) {
      if (c.next_epoch) ending = &c;
    }
    ASSERT_NE(ending, nullptr);
    const Block& b = ending->blocks.back().block;
    EXPECT_EQ(b.header.height, 2u);
    EXPECT_EQ(b.header.epoch, 1u);
    EXPECT_EQ(ending->next_epoch->n(), 4u);
    // The proof chains up from the ending block to D' with consecutive rounds at the
    // top, both QCs of epoch 1.
    ASSERT_FALSE(ending->descendants.empty());
    Hash32 previous = b.id;
    for (const BlockHeader& h : ending->descendants) {
      EXPECT_EQ(h.parent_id, previous);
      EXPECT_EQ(h.epoch, 1u);
      previous = BlockIdOf(kChain, h);
    }
    const BlockHeader& top = ending->descendants.back();
    EXPECT_EQ(top.round, top.qc_round + 1);
    EXPECT_EQ(ending->child_qc.block_id, previous);
    EXPECT_EQ(ending->child_qc.epoch, 1u);
    EXPECT_EQ(ending->block_qc.round, top.qc_round);
  }
}

TEST(EpochTest, AnEndedCoreRefusesEverythingAndSignsNothing) {
  EpochNet net({0, 1, 2, 3}, {{2, {0, 1, 2, 4}}});  // 3 is replaced by 4
  net.RunRounds(20);
  EXPECT_EQ(net.members_[3].core, nullptr) << "the removed member kept a core";
  ASSERT_EQ(net.retired.size(), 4u);
  for (const auto& core : net.retired) {
    EXPECT_TRUE(core->ended());
    // Far past any round timer: an ended core neither times out nor proposes.
    Step tick = core->OnTick(net.now + 60000);
    EXPECT_EQ(tick.status.code(), Code::kFailedPrecondition);
    EXPECT_TRUE(tick.actions.empty());
    const Block& b = net.members_[0].app.executed.at(1);  // epoch 1, height 2
    EXPECT_FALSE(core->OnVote(0, SignVote(0, b)).status.ok());
  }
}

TEST(EpochTest, MessagesOfAnotherEpochOrARemovedKeyAreRefused) {
  EpochNet net({0, 1, 2, 3}, {{2, {0, 1, 2, 4}}});
  net.RunRounds(20);
  Core& core = *net.members_[0].core;
  ASSERT_EQ(core.epoch(), 2u);
  const Block& some = net.members_[0].app.executed.back();
  // A vote of epoch 1 is refused by its epoch alone.
  Vote old = SignVote(3, some);
  old.epoch = 1;
  old.signature = TestKey(3).SignDigest(VoteDigest(kChain, 1, some.id, some.header.round));
  EXPECT_FALSE(core.OnVote(3, old).status.ok());
  // The removed key signing in epoch 2 under index 3 (now member 4's) fails its signature.
  Vote forged;
  forged.epoch = 2;
  forged.round = core.round();
  forged.block_id = some.id;
  forged.signer = 3;
  forged.signature = TestKey(3).SignDigest(VoteDigest(kChain, 2, some.id, forged.round));
  Step step = core.OnVote(3, forged);
  EXPECT_FALSE(step.status.ok());
  EXPECT_TRUE(ActionsOf<Send>(step).empty());
  EXPECT_TRUE(ActionsOf<Broadcast>(step).empty());
}

TEST(EpochTest, BlocksAboveTheEndingBlockInOneCommitAreNotExecuted) {
  // b1 and b3 commit together (round 2 timed out, so b3 is committed only as an ancestor
  // of the consecutive pair b3, b4); the epoch ends at b1, so b3 must not be executed.
  EpochApp app;
  app.ends = {{1, {0, 1, 2, 3}}};
  Core core(TestConfig(4, 2), TestKey(2), &app);
  ASSERT_OK(core.OnStart(FreshStart(), 1000).status);
  TestApp ref;
  const Block genesis = MakeGenesisBlock(kChain, 1);
  auto on = [&](const Block& parent, uint64_t round) {
    QuorumCert qc =
        parent.header.height == 0 ? MakeGenesisQc(parent) : MakeQc(parent, {0, 1, 2, 3});
    return MakeBlock(parent, qc, round, 4, ref);
  };
  auto ref_commit = [&](const Block& b) {
    QuorumCert qc;
    qc.block_id = b.id;
    ref.ExecuteCommitted(b, qc);
  };
  Block b1 = on(genesis, 1);
  Block b3 = on(b1, 3);
  Block b4 = on(b3, 4);
  ASSERT_OK(core.OnBlocksFetched(1, {b1, b3, b4}).status);
  ref_commit(b1);
  ref_commit(b3);
  Block b5 = on(b4, 5);
  Step step = core.OnBlocksFetched(1, {b5});
  ASSERT_EQ(app.executed.size(), 1u);
  EXPECT_EQ(app.executed[0].id, b1.id);
  EXPECT_EQ(core.committed_height(), 1u);
  EXPECT_TRUE(core.ended());
  auto commits = ActionsOf<Commit>(step);
  ASSERT_EQ(commits.size(), 1u);
  ASSERT_TRUE(commits[0].next_epoch.has_value());
  ASSERT_EQ(commits[0].blocks.size(), 1u);
  // b1's proof: b3 and b4 above it, the QC on b3 and the QC on b4.
  ASSERT_EQ(commits[0].descendants.size(), 2u);
  EXPECT_EQ(commits[0].descendants[0].parent_id, b1.id);
  EXPECT_EQ(commits[0].descendants[1].parent_id, b3.id);
  EXPECT_EQ(commits[0].block_qc.block_id, b3.id);
  EXPECT_EQ(commits[0].child_qc.block_id, b4.id);
  // Its last signed word is a timeout carrying that QC, before the Commit.
  ASSERT_FALSE(step.actions.empty());
  bool timeout_before_commit = false;
  for (const Action& a : step.actions) {
    if (std::holds_alternative<Commit>(a)) break;
    if (auto* b = std::get_if<Broadcast>(&a)) {
      if (auto* t = std::get_if<Timeout>(&b->message)) {
        timeout_before_commit = t->high_qc.block_id == b4.id;
      }
    }
  }
  EXPECT_TRUE(timeout_before_commit);
}

// Found by reel-sim --epochs: after the commit that ends the epoch, the rest of the same
// event (here the next fetched blocks, each carrying a QC) committed more blocks of the
// ended epoch, above the block that ended it.
TEST(EpochTest, NothingCommitsAfterTheEndingCommitInTheSameEvent) {
  EpochApp app;
  app.ends = {{1, {0, 1, 2, 3}}};
  Core core(TestConfig(4, 2), TestKey(2), &app);
  ASSERT_OK(core.OnStart(FreshStart(), 1000).status);
  TestApp ref;
  const Block genesis = MakeGenesisBlock(kChain, 1);
  auto on = [&](const Block& parent, uint64_t round) {
    QuorumCert qc =
        parent.header.height == 0 ? MakeGenesisQc(parent) : MakeQc(parent, {0, 1, 2, 3});
    return MakeBlock(parent, qc, round, 4, ref);
  };
  auto ref_commit = [&](const Block& b) {
    QuorumCert qc;
    qc.block_id = b.id;
    ref.ExecuteCommitted(b, qc);
  };
  // Consecutive rounds: b3's QC commits b1 (which ends the epoch), b4's would commit b2.
  Block b1 = on(genesis, 1);
  Block b2 = on(b1, 2);
  ref_commit(b1);
  Block b3 = on(b2, 3);
  ref_commit(b2);
  Block b4 = on(b3, 4);
  ref_commit(b3);
  Block b5 = on(b4, 5);
  Step step = core.OnBlocksFetched(1, {b1, b2, b3, b4, b5});
  EXPECT_TRUE(core.ended());
  ASSERT_EQ(app.executed.size(), 1u) << "blocks above the ending block were executed";
  EXPECT_EQ(app.executed[0].id, b1.id);
  EXPECT_EQ(core.committed_height(), 1u);
  auto commits = ActionsOf<Commit>(step);
  ASSERT_EQ(commits.size(), 1u);
  EXPECT_TRUE(commits[0].next_epoch.has_value());
}

TEST(EpochTest, SeveralEpochsInARowGrowAndShrinkTheSet) {
  EpochNet net({0, 1, 2, 3},
               {{2, {0, 1, 2, 3, 4}}, {6, {0, 1, 2, 3, 4, 5, 6}}, {12, {0, 1, 2, 4, 5, 6}}});
  net.RunRounds(120);
  EXPECT_EQ(net.members_[0].epoch, 4u);
  EXPECT_EQ(net.members_[3].core, nullptr);
  const EpochApp& app = net.members_[6].app;
  ASSERT_FALSE(app.executed.empty());
  EXPECT_GT(app.executed.back().header.height, 16u);
  uint64_t last_epoch = 0;
  for (const Block& b : net.members_[0].app.executed) {
    const uint64_t h = b.header.height;
    const uint64_t expected = h <= 2 ? 1 : h <= 6 ? 2 : h <= 12 ? 3 : 4;
    EXPECT_EQ(b.header.epoch, expected) << "height " << h;
    EXPECT_GE(b.header.epoch, last_epoch);
    last_epoch = b.header.epoch;
  }
}

}  // namespace
}  // namespace reel::consensus::testing
