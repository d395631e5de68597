// What one peer may make the node hold: PeerBudget's bounds by count and by bytes, its
// release, and its peers' independence; then NodePeerHandler with a real replica whose
// loop is held still, so that a peer's messages and block requests pile up as they would
// behind a busy loop: beyond the bound they are dropped and counted per peer and kind,
// other peers are untouched, and the budget comes back as the loop works through them.
#include "node/daemon/peer_budget.h"

#include <gtest/gtest.h>

#include <asio.hpp>
#include <chrono>
#include <future>
#include <thread>

#include "node/daemon/metrics.h"
#include "node/daemon/peer_glue.h"
#include "node/mempool/admission.h"
#include "node/replica/chain_store.h"
#include "node/replica/ledger_app.h"
#include "node/replica/replica.h"
#include "node/storage/memory_store.h"
#include "tests/daemon/daemon_test_util.h"
#include "tests/storage/faulty_store.h"

namespace reel::daemon {
namespace {

using namespace std::chrono_literals;
constexpr std::chrono::milliseconds kNoWait{0};

TEST(PeerBudgetTest, BoundsByCountAndByBytes) {
  PeerBudget budget(2, {3, 100});
  EXPECT_TRUE(budget.TryTake(0, 10));
  EXPECT_TRUE(budget.TryTake(0, 10));
  EXPECT_TRUE(budget.TryTake(0, 10));
  EXPECT_FALSE(budget.TryTake(0, 0)) << "a fourth item, however small";
  EXPECT_EQ(budget.held(0).items, 3u);
  EXPECT_EQ(budget.held(0).bytes, 30u);

  PeerBudget bytes(1, {100, 100});
  EXPECT_TRUE(bytes.TryTake(0, 60));
  EXPECT_FALSE(bytes.TryTake(0, 41)) << "61 + 41 bytes";
  EXPECT_TRUE(bytes.TryTake(0, 40)) << "exactly at the bound";
  EXPECT_FALSE(bytes.TryTake(0, 1));
  EXPECT_EQ(bytes.held(0).items, 2u);
  EXPECT_EQ(bytes.held(0).bytes, 100u);

  PeerBudget empty(1, {10, 100});
  EXPECT_FALSE(empty.TryTake(0, 101)) << "an item larger than the bound never fits";
  EXPECT_FALSE(empty.TryTake(0, SIZE_MAX));
  EXPECT_EQ(empty.held(0).items, 0u);
}

TEST(PeerBudgetTest, GivingBackMakesRoomAgain) {
  PeerBudget budget(1, {2, 100});
  ASSERT_TRUE(budget.TryTake(0, 70));
  ASSERT_TRUE(budget.TryTake(0, 30));
  EXPECT_FALSE(budget.TryTake(0, 1));
  budget.Give(0, 70);
  EXPECT_EQ(budget.held(0).items, 1u);
  EXPECT_EQ(budget.held(0).bytes, 30u);
  EXPECT_TRUE(budget.TryTake(0, 70));
  budget.Give(0, 70);
  budget.Give(0, 30);
  EXPECT_EQ(budget.held(0).items, 0u);
  EXPECT_EQ(budget.held(0).bytes, 0u);
  EXPECT_DEATH(budget.Give(0, 1), "") << "giving back what was never taken is a bug";
}

TEST(PeerBudgetTest, APeerAtItsBoundDoesNotAffectAnother) {
  PeerBudget budget(3, {4, 1000});
  while (budget.TryTake(1, 100)) {
  }
  EXPECT_EQ(budget.held(1).items, 4u);
  for (uint32_t other : {0u, 2u}) {
    for (int i = 0; i < 4; ++i) EXPECT_TRUE(budget.TryTake(other, 250)) << other;
    EXPECT_FALSE(budget.TryTake(other, 1));
  }
  EXPECT_EQ(budget.held(1).bytes, 400u);
}

TEST(PeerBudgetTest, TakeWaitsForRoomUpToItsWait) {
  PeerBudget budget(2, {1, 100});
  ASSERT_TRUE(budget.TryTake(0, 50));
  // Nothing is given back: the wait runs out and nothing is taken.
  const auto start = std::chrono::steady_clock::now();
  EXPECT_FALSE(budget.Take(0, 10, 50ms));
  EXPECT_GE(std::chrono::steady_clock::now() - start, 50ms);
  EXPECT_EQ(budget.held(0).items, 1u);
  // Given back while it waits: it takes the room.
  std::thread giver([&] {
    std::this_thread::sleep_for(30ms);
    budget.Give(0, 50);
  });
  EXPECT_TRUE(budget.Take(0, 10, 10s));
  giver.join();
  EXPECT_EQ(budget.held(0).bytes, 10u);
  // Another peer neither waits nor is woken.
  EXPECT_TRUE(budget.Take(1, 100, 0ms));
  // Larger than the whole budget: refused without waiting.
  const auto again = std::chrono::steady_clock::now();
  EXPECT_FALSE(budget.Take(1, 101, 10s));
  EXPECT_LT(std::chrono::steady_clock::now() - again, 1s);
}

TEST(PeerBudgetTest, ManyThreadsTakeAndGiveBack) {
  PeerBudget budget(4, {50, 5000});
  std::vector<std::thread> threads;
  std::atomic<uint64_t> refused{0};
  for (uint32_t t = 0; t < 8; ++t) {
    threads.emplace_back([&, peer = t % 4] {
      for (int i = 0; i < 20000; ++i) {
        if (budget.TryTake(peer, 100)) {
          budget.Give(peer, 100);
        } else {
          refused.fetch_add(1);
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();
  for (uint32_t peer = 0; peer < 4; ++peer) {
    EXPECT_EQ(budget.held(peer).items, 0u);
    EXPECT_EQ(budget.held(peer).bytes, 0u);
  }
  EXPECT_EQ(refused.load(), 0u) << "two threads per peer never hold more than 2 of 50";
}

TEST(PeerPaceTest, ABurstIsFreeThenAPeerIsPacedAndOthersAreNot) {
  PeerPace pace(2, /*bytes_per_second=*/1000, /*burst_bytes=*/3000);
  const PeerPace::Clock::time_point t0 = PeerPace::Clock::now();
  EXPECT_EQ(pace.Wait(0, t0), 0ms);
  pace.Charge(0, 2500, t0);
  EXPECT_EQ(pace.Wait(0, t0), 0ms) << "within the burst";
  pace.Charge(0, 2500, t0);  // 2000 bytes in debt
  EXPECT_EQ(pace.Wait(0, t0), 2000ms);
  EXPECT_EQ(pace.Wait(0, t0 + 500ms), 1500ms);
  EXPECT_EQ(pace.Wait(1, t0), 0ms) << "another peer has its own bucket";
  EXPECT_EQ(pace.Wait(0, t0 + 2s), 0ms);
  // Refilled, never beyond the burst: an hour idle buys 3000 bytes, not more.
  pace.Charge(0, 3000, t0 + 1h);
  EXPECT_EQ(pace.Wait(0, t0 + 1h), 0ms);
  pace.Charge(0, 1000, t0 + 1h);
  EXPECT_EQ(pace.Wait(0, t0 + 1h), 1000ms);
}

TEST(PeerDropsTest, CountsPerPeerAndKind) {
  PeerDrops drops(3);
  drops.Count(1, DropKind::kVote);
  drops.Count(1, DropKind::kVote);
  drops.Count(2, DropKind::kBlockRequest);
  EXPECT_EQ(drops.count(1, DropKind::kVote), 2u);
  EXPECT_EQ(drops.count(1, DropKind::kProposal), 0u);
  EXPECT_EQ(drops.count(2, DropKind::kBlockRequest), 1u);
  EXPECT_EQ(drops.count(0, DropKind::kVote), 0u);
  EXPECT_EQ(DropKindName(DropKind::kTimeout), "timeout");
  v1::ConsensusMessage message;
  EXPECT_EQ(DropKindOf(message), DropKind::kEmpty);
  message.mutable_timeout();
  EXPECT_EQ(DropKindOf(message), DropKind::kTimeout);
}

class NullTransport : public replica::Transport {
 public:
  void Send(uint32_t, const v1::ConsensusMessage&) override {}
  void Broadcast(const v1::ConsensusMessage&) override {}
  void FetchBlocks(uint32_t, const crypto::Hash32&, uint64_t) override {}
};

// A node of four validators whose loop runs only when the test says so.
class InboundTest : public ::testing::Test {
 protected:
  static constexpr uint32_t kValidators = 4;

  void SetUp() override {
    std::vector<crypto::PublicKey> keys;
    for (uint32_t i = 0; i < kValidators; ++i)
      keys.push_back(crypto::KeyPair::Generate().public_key());
    crypto::KeyPair own = crypto::KeyPair::Generate();
    keys[0] = own.public_key();
    const v1::Genesis genesis = testing::ValidGenesis(keys);
    ASSERT_OK(replica::Initialize(*store_, genesis, 0));
    app_ = std::make_unique<replica::LedgerApplication>(genesis.chain_id(), store_.get(), &pool_);
    ASSERT_OK(app_->Open());
    replica::ReplicaConfig config;
    config.consensus.chain_id = genesis.chain_id();
    for (const crypto::PublicKey& key : keys) config.consensus.validators.keys.push_back(key);
    config.consensus.self_index = 0;
    replica_ = std::make_unique<replica::Replica>(config, std::move(own), &io_, store_.get(),
                                                  app_.get(), &transport_);
  }

  void MakeHandler(InboundBounds bounds) {
    handler_ = std::make_unique<NodePeerHandler>(replica_.get(), &admission_, store_.get(),
                                                 "reel-test", bounds);
  }

  static v1::ConsensusMessage Vote(uint32_t from, uint64_t round) {
    v1::ConsensusMessage message;
    message.set_sender_index(from);
    v1::Vote* vote = message.mutable_vote();
    vote->set_block_id(std::string(32, 'b'));
    vote->set_round(round);
    vote->set_validator_index(from);
    vote->set_signature(std::string(64, 's'));
    return message;
  }

  static v1::ConsensusMessage Proposal(uint32_t from, size_t body_bytes) {
    v1::ConsensusMessage message;
    message.set_sender_index(from);
    v1::Transaction* tx = message.mutable_proposal()->mutable_block()->add_txs();
    tx->set_body(std::string(body_bytes, 'x'));
    return message;
  }

  // Runs what is queued on the loop, as the node's loop thread would.
  void RunLoop() {
    io_.restart();
    io_.poll();
  }

  // Fails reads on request (GossipFailsAsAWholeWhenTheStoreCannotBeRead).
  std::unique_ptr<storage::testing::FaultyStore> store_ =
      std::make_unique<storage::testing::FaultyStore>(storage::NewMemoryStore());
  mempool::Mempool pool_;
  mempool::Admission admission_{"reel-test", &pool_, 1};
  std::unique_ptr<replica::LedgerApplication> app_;
  asio::io_context io_;
  NullTransport transport_;
  std::unique_ptr<replica::Replica> replica_;
  std::unique_ptr<NodePeerHandler> handler_;
};

// Gossiped transactions get one code each, for what is wrong with them; a store that
// cannot be read is this node's trouble, not theirs, and fails the whole call (it used to
// answer every transaction MALFORMED).
TEST_F(InboundTest, GossipFailsAsAWholeWhenTheStoreCannotBeRead) {
  MakeHandler(InboundBounds());
  v1::GossipTxsRequest request;
  request.add_txs()->set_body("not a TxBody");
  v1::GossipTxsResponse response;
  ASSERT_OK(handler_->OnGossipTxs(1, request, &response));
  ASSERT_EQ(response.codes_size(), 1);
  EXPECT_EQ(response.codes(0), v1::MALFORMED);  // its body is no TxBody
  using storage::testing::FaultyStore;
  store_->Arm(FaultyStore::Fault(FaultyStore::Op::kRead).Times(FaultyStore::kForever));
  response.Clear();
  const Status failed = handler_->OnGossipTxs(1, request, &response);
  EXPECT_EQ(failed.code(), Code::kIoError) << failed.ToString();
  EXPECT_EQ(response.codes_size(), 0);
  store_->Heal();
}

TEST_F(InboundTest, AFloodingPeerIsDroppedAtItsCountBoundAndOthersAreNot) {
  MakeHandler({.consensus = {16, 1 << 20}, .consensus_wait = kNoWait, .block_requests = 4});
  int accepted = 0;
  for (uint64_t round = 1000; round < 1100; ++round) {
    if (handler_->OnConsensusMessage(3, Vote(3, round))) ++accepted;
  }
  EXPECT_EQ(accepted, 16);
  EXPECT_EQ(handler_->drops().count(3, DropKind::kVote), 84u);
  EXPECT_EQ(handler_->consensus_held(3).items, 16u);
  v1::ConsensusMessage timeout;
  timeout.set_sender_index(3);
  timeout.mutable_timeout()->set_round(5000);
  EXPECT_FALSE(handler_->OnConsensusMessage(3, timeout));
  EXPECT_EQ(handler_->drops().count(3, DropKind::kTimeout), 1u);

  // The others each have their whole budget.
  for (uint32_t peer : {1u, 2u}) {
    for (uint64_t round = 1; round <= 16; ++round) {
      EXPECT_TRUE(handler_->OnConsensusMessage(peer, Vote(peer, round))) << peer << " " << round;
    }
    EXPECT_EQ(handler_->drops().count(peer, DropKind::kVote), 0u);
  }

  // The loop handles (here: drops, the core not being started) what was queued, and
  // each message's budget comes back.
  RunLoop();
  for (uint32_t peer : {1u, 2u, 3u}) {
    EXPECT_EQ(handler_->consensus_held(peer).items, 0u) << peer;
    EXPECT_EQ(handler_->consensus_held(peer).bytes, 0u) << peer;
  }
  EXPECT_TRUE(handler_->OnConsensusMessage(3, Vote(3, 2000)));
  RunLoop();
}

TEST_F(InboundTest, AStreamBeyondTheBoundWaitsForTheLoopBeforeItDrops) {
  MakeHandler({.consensus = {2, 1 << 20}, .consensus_wait = 5000ms, .block_requests = 4});
  ASSERT_TRUE(handler_->OnConsensusMessage(3, Vote(3, 1)));
  ASSERT_TRUE(handler_->OnConsensusMessage(3, Vote(3, 2)));
  // The third waits (its stream unread) until the loop works: then it is queued, not
  // dropped.
  std::future<bool> third =
      std::async(std::launch::async, [&] { return handler_->OnConsensusMessage(3, Vote(3, 3)); });
  EXPECT_EQ(third.wait_for(100ms), std::future_status::timeout);
  EXPECT_TRUE(handler_->OnConsensusMessage(2, Vote(2, 1))) << "another peer does not wait";
  RunLoop();
  EXPECT_TRUE(third.get());
  EXPECT_EQ(handler_->drops().count(3, DropKind::kVote), 0u);
  EXPECT_EQ(handler_->throttled(3), 1u);
  EXPECT_EQ(handler_->throttled(2), 0u);
  RunLoop();

  // With a loop that does not run, the wait ends in a drop.
  MakeHandler({.consensus = {1, 1 << 20}, .consensus_wait = 50ms, .block_requests = 4});
  ASSERT_TRUE(handler_->OnConsensusMessage(3, Vote(3, 4)));
  EXPECT_FALSE(handler_->OnConsensusMessage(3, Vote(3, 5)));
  EXPECT_EQ(handler_->drops().count(3, DropKind::kVote), 1u);
  RunLoop();
}

TEST_F(InboundTest, LargeMessagesAreBoundedByTheMemoryTheyTake) {
  MakeHandler({.consensus = {1000, 1 << 20}, .consensus_wait = kNoWait, .block_requests = 4});
  // Four proposals of 300 KB fit in 1 MiB three times, not four.
  int accepted = 0;
  for (int i = 0; i < 4; ++i) {
    if (handler_->OnConsensusMessage(2, Proposal(2, 300 * 1024))) ++accepted;
  }
  EXPECT_EQ(accepted, 3);
  EXPECT_EQ(handler_->drops().count(2, DropKind::kProposal), 1u);
  EXPECT_GE(handler_->consensus_held(2).bytes, 3u * 300 * 1024);
  EXPECT_LE(handler_->consensus_held(2).bytes, 1u << 20);
  // A vote still fits beside them.
  EXPECT_TRUE(handler_->OnConsensusMessage(2, Vote(2, 7)));

  // What a message holds in memory counts, not its wire size: 100,000 empty
  // signatures are 200 KB on the wire and several MB parsed.
  v1::ConsensusMessage swollen;
  swollen.set_sender_index(1);
  v1::Transaction* tx = swollen.mutable_proposal()->mutable_block()->add_txs();
  for (int i = 0; i < 100000; ++i) tx->add_signatures();
  ASSERT_LT(swollen.ByteSizeLong(), 1u << 20);
  EXPECT_FALSE(handler_->OnConsensusMessage(1, swollen));
  EXPECT_EQ(handler_->drops().count(1, DropKind::kProposal), 1u);
  RunLoop();
  EXPECT_EQ(handler_->consensus_held(2).bytes, 0u);
}

TEST_F(InboundTest, BlockRequestsWaitingForTheLoopAreBoundedPerPeer) {
  MakeHandler({.consensus = {16, 1 << 20}, .consensus_wait = kNoWait, .block_requests = 2});
  v1::GetBlockByIdRequest request;
  request.set_block_id(std::string(32, 'z'));
  // Two requests of peer 1 wait for the loop (their callers block on it).
  std::vector<std::future<Status>> waiting;
  for (int i = 0; i < 2; ++i) {
    waiting.push_back(std::async(std::launch::async, [&] {
      v1::GetBlockByIdResponse response;
      return handler_->GetBlock(1, request, &response);
    }));
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(3);
  while (handler_->block_requests_held(1).items < 2 &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ASSERT_EQ(handler_->block_requests_held(1).items, 2u);
  // A third is refused at once, and counted.
  v1::GetBlockByIdResponse response;
  Status refused = handler_->GetBlock(1, request, &response);
  EXPECT_EQ(refused.code(), Code::kResourceExhausted) << refused.ToString();
  EXPECT_EQ(handler_->drops().count(1, DropKind::kBlockRequest), 1u);
  EXPECT_EQ(handler_->drops().count(2, DropKind::kBlockRequest), 0u);
  // Another peer's request is not refused (it waits like the others).
  waiting.push_back(std::async(std::launch::async, [&] {
    v1::GetBlockByIdResponse r;
    return handler_->GetBlock(2, request, &r);
  }));
  while (handler_->block_requests_held(2).items < 1 &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_EQ(handler_->block_requests_held(2).items, 1u);
  // The loop answers them (an unknown block: nothing), and the places come back.
  RunLoop();
  for (auto& w : waiting) EXPECT_OK(w.get());
  EXPECT_EQ(handler_->block_requests_held(1).items, 0u);
  EXPECT_EQ(handler_->block_requests_held(2).items, 0u);
}

TEST_F(InboundTest, CommittedBlocksAreServedWithoutTheLoop) {
  MakeHandler({.consensus = {16, 1 << 20}, .consensus_wait = kNoWait, .block_requests = 1});
  // Genesis is committed: asked for many times at once, it never waits for the loop (which
  // does not run here) and takes no place in the budget.
  const crypto::Hash32 genesis = consensus::MakeGenesisBlock("reel-test", 0).id;
  v1::GetBlockByIdRequest request;
  request.set_block_id(std::string(crypto::AsBytes(genesis)));
  for (int i = 0; i < 10; ++i) {
    v1::GetBlockByIdResponse response;
    EXPECT_OK(handler_->GetBlock(1, request, &response));
    EXPECT_EQ(response.chain_size(), 0) << "nothing above height 0";
  }
  EXPECT_EQ(handler_->block_requests_held(1).items, 0u);
  EXPECT_EQ(handler_->drops().count(1, DropKind::kBlockRequest), 0u);
}

TEST(MetricsLabelsTest, LabelledCountersRenderAsOneFamily) {
  MetricsRegistry registry;
  registry.AddCounter("reel_a_total", "A.").Increment();
  Counter& first = registry.AddCounter("reel_b_total", "B.", {{"peer", "1"}, {"kind", "vote"}});
  registry.AddGauge("reel_c", "C.").Set(2);
  Counter& second =
      registry.AddCounter("reel_b_total", "B.", {{"peer", "2"}, {"kind", "a\"b\\c\nd"}});
  EXPECT_EQ(&first, &registry.AddCounter("reel_b_total", "B.", {{"peer", "1"}, {"kind", "vote"}}));
  EXPECT_NE(&first, &second);
  first.Increment(5);
  EXPECT_EQ(registry.RenderPrometheus(),
            "# HELP reel_a_total A.\n"
            "# TYPE reel_a_total counter\n"
            "reel_a_total 1\n"
            "# HELP reel_b_total B.\n"
            "# TYPE reel_b_total counter\n"
            "reel_b_total{peer=\"1\",kind=\"vote\"} 5\n"
            "reel_b_total{peer=\"2\",kind=\"a\\\"b\\\\c\\nd\"} 0\n"
            "# HELP reel_c C.\n"
            "# TYPE reel_c gauge\n"
            "reel_c 2\n");
  EXPECT_DEATH(registry.AddCounter("reel_b_total", "B.", {{"bad-name", "x"}}), "");
  EXPECT_DEATH(registry.AddGauge("reel_b_total", "B."), "") << "a family of counters";
}

TEST(MetricsLabelsTest, PeerMetricsSkipThisNode) {
  MetricsRegistry registry;
  PeerMetrics metrics(registry, {"vote", "block_request"});
  ASSERT_NE(metrics.dropped(net::kObserverIndex, 0), nullptr) << "observers";
  EXPECT_EQ(metrics.ranges_refused(net::kObserverIndex), nullptr);
  EXPECT_EQ(metrics.dropped(0, 0), nullptr) << "no epoch has had index 0 yet";
  metrics.Grow(4, 2);
  EXPECT_EQ(metrics.dropped(2, 0), nullptr);
  EXPECT_EQ(metrics.ranges_refused(2), nullptr);
  EXPECT_EQ(metrics.dropped(4, 0), nullptr) << "beyond the epoch's set";
  ASSERT_NE(metrics.dropped(3, 1), nullptr);
  AdvanceTo(*metrics.dropped(3, 1), 7);
  AdvanceTo(*metrics.dropped(3, 1), 5);  // never lowered
  AdvanceTo(*metrics.ranges_refused(0), 1);
  std::string text = registry.RenderPrometheus();
  EXPECT_NE(text.find("\nreel_peer_dropped_total{peer=\"3\",kind=\"block_request\"} 7\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("\nreel_sync_ranges_refused_total{peer=\"0\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("peer=\"observers\""), std::string::npos);
  EXPECT_EQ(text.find("peer=\"2\""), std::string::npos);
  // A later epoch of six in which this node is index 0: index 2 and the new ones get
  // theirs; what was counted stays.
  metrics.Grow(6, 0);
  ASSERT_NE(metrics.dropped(2, 0), nullptr);
  ASSERT_NE(metrics.throttled(5), nullptr);
  ASSERT_NE(metrics.dropped(0, 0), nullptr) << "registered in the first epoch";
  text = registry.RenderPrometheus();
  EXPECT_NE(text.find("\nreel_peer_dropped_total{peer=\"3\",kind=\"block_request\"} 7\n"),
            std::string::npos);
  EXPECT_NE(text.find("reel_peer_throttled_total{peer=\"5\"} 0"), std::string::npos) << text;
}

}  // namespace
}  // namespace reel::daemon
