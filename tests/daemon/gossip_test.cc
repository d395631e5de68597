// Gossip (node/daemon/peer_glue.h): when a batch is written to a peer's stream
// (GossipBatchDue: a full batch at once, a few gathered for a moment, nothing for
// nothing); and over real gRPC with mutual TLS on 127.0.0.1, that every other validator
// gets every transaction in order, in batches, that a dead peer delays nobody, and that
// a peer holding writes back does not hold up the node's shutdown.
#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <functional>
#include <future>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "base/limits.h"
#include "node/daemon/peer_glue.h"
#include "node/net/peer_server.h"
#include "node/net/peers.h"
#include "node/net/tls.h"
#include "tests/net/net_test_util.h"

namespace reel::daemon {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr Clock::time_point kNever = Clock::time_point::max();
const Clock::time_point kT0 = Clock::time_point{} + std::chrono::hours(1);

TEST(GossipTest, NothingWaitingMeansNoWrite) {
  EXPECT_EQ(GossipBatchDue(0, kT0, kT0), kNever);
}

TEST(GossipTest, AFewTransactionsGatherForTheLinger) {
  const milliseconds linger(limits::gossip_linger_ms);
  // Counted from the end of the last write (a transaction that queued during it still
  // waits, so that batches grow while writes are slow)...
  EXPECT_EQ(GossipBatchDue(3, kT0, kT0 + milliseconds(7)), kT0 + milliseconds(7) + linger);
  // ...or from the first one queued since.
  EXPECT_EQ(GossipBatchDue(3, kT0 + milliseconds(30), kT0), kT0 + milliseconds(30) + linger);
}

TEST(GossipTest, AFullBatchGoesAtOnce) {
  EXPECT_EQ(GossipBatchDue(limits::gossip_batch_txs, kT0, kT0 + milliseconds(5)), kT0);
  EXPECT_EQ(GossipBatchDue(limits::net_gossip_txs_max + 1, kT0, kT0 + milliseconds(5)), kT0);
  EXPECT_EQ(GossipBatchDue(limits::gossip_batch_txs - 1, kT0, kT0),
            kT0 + milliseconds(limits::gossip_linger_ms));
}

// A validator's peer server's handler that keeps the bodies of gossiped transactions,
// and can hold every batch back until released: a peer that does not read its stream.
class GossipSink : public net::PeerHandler {
 public:
  bool OnConsensusMessage(uint32_t, v1::ConsensusMessage) override { return true; }
  Status OnGossipTxs(uint32_t, const v1::GossipTxsRequest& request,
                     v1::GossipTxsResponse* response) override {
    std::unique_lock lock(mu_);
    released_.wait(lock, [&] { return !holding_; });
    for (const v1::Transaction& tx : request.txs()) {
      bodies_.push_back(tx.body());
      response->add_codes(v1::OK);
    }
    return Status::Ok();
  }
  Status GetBlocks(uint32_t, const v1::GetBlocksRequest&, v1::GetBlocksResponse*) override {
    return Status::Ok();
  }
  Status GetBlock(uint32_t, const v1::GetBlockByIdRequest&, v1::GetBlockByIdResponse*) override {
    return Status::Ok();
  }
  Status GetSyncInfo(uint32_t, v1::SyncInfo*) override { return Status::Ok(); }

  void Hold() {
    std::lock_guard lock(mu_);
    holding_ = true;
  }
  void Release() {
    {
      std::lock_guard lock(mu_);
      holding_ = false;
    }
    released_.notify_all();
  }
  std::vector<std::string> bodies() {
    std::lock_guard lock(mu_);
    return bodies_;
  }

 private:
  std::mutex mu_;
  std::condition_variable released_;
  bool holding_ = false;
  std::vector<std::string> bodies_;
};

bool Eventually(const std::function<bool()>& condition) {
  const auto deadline = Clock::now() + std::chrono::seconds(20);
  while (!condition()) {
    if (Clock::now() > deadline) return false;
    std::this_thread::sleep_for(milliseconds(5));
  }
  return true;
}

// v0 gossips; v1 and v2 have servers with sinks; v3 is named at an address where
// nothing listens.
class GossipOverStreamsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    using net::testing::Unwrap;
    const net::CertAndKey ca = Unwrap(net::MakeCa("reel-gossip-test-ca", 1));
    std::vector<std::pair<std::string, net::CertAndKey>> named;
    for (int i = 0; i < 4; ++i) {
      identities_.push_back(
          Unwrap(net::MakeNodeCert(ca, "v" + std::to_string(i), {"127.0.0.1"}, 1)));
      named.emplace_back("v" + std::to_string(i), identities_.back());
    }
    genesis_ = net::testing::MakeGenesis(ca.cert_pem, named);
    v1::Genesis& genesis = genesis_;
    auto server_set = std::make_shared<net::PeerSet>(Unwrap(net::PeerSet::FromGenesis(genesis)));
    for (int i = 1; i <= 2; ++i) {
      servers_[i] =
          Unwrap(net::PeerServer::Start(server_set, identities_[i], "127.0.0.1:0", &sinks_[i]));
      genesis.mutable_validators(i)->set_address("127.0.0.1:" +
                                                 std::to_string(servers_[i]->port()));
    }
    genesis.mutable_validators(0)->set_address("127.0.0.1:1");
    genesis.mutable_validators(3)->set_address("127.0.0.1:1");  // nothing listens there
    peers_ = Unwrap(net::Peers::Create(
        std::make_shared<net::PeerSet>(Unwrap(net::PeerSet::FromGenesis(genesis))), 0,
        identities_[0]));
  }

  static v1::Transaction Tx(int number, size_t bytes = 0) {
    v1::Transaction tx;
    std::string body = "tx " + std::to_string(number);
    body.resize(std::max(body.size(), bytes), '.');
    tx.set_body(body);
    return tx;
  }

  std::vector<net::CertAndKey> identities_;
  v1::Genesis genesis_;  // with the servers' addresses
  GossipSink sinks_[3];  // [1] and [2] used
  std::unique_ptr<net::PeerServer> servers_[3];
  std::unique_ptr<net::Peers> peers_;
};

TEST_F(GossipOverStreamsTest, EveryOtherValidatorGetsEveryTransactionInOrderInBatches) {
  constexpr int kCount = 2000;
  std::vector<std::string> sent;
  {
    Gossip gossip(peers_.get());
    for (int i = 0; i < kCount; ++i) {
      ASSERT_TRUE(gossip.Add(Tx(i)));
      sent.push_back(Tx(i).body());
    }
    for (int i : {1, 2}) {
      ASSERT_TRUE(Eventually([&] { return sinks_[i].bodies().size() >= sent.size(); }))
          << "v" << i << " got " << sinks_[i].bodies().size();
      EXPECT_EQ(sinks_[i].bodies(), sent) << "v" << i;
      // Batched on one stream: far fewer writes than transactions.
      EXPECT_LE(servers_[i]->stats().gossip_batches, uint64_t(kCount / 10)) << "v" << i;
      EXPECT_GE(servers_[i]->stats().gossip_batches, uint64_t(kCount / limits::net_gossip_txs_max));
    }
    // v3 is down: its copies were dropped, and counted.
    EXPECT_TRUE(Eventually([&] { return gossip.dropped() >= 1; }));
  }
}

// An epoch removes v1: v2 moves to index 1 and v3 (down) to index 2. Index 1's stream
// must now go to v2, not on to v1, and v2 must get each transaction once.
TEST_F(GossipOverStreamsTest, AfterAnEpochEachIndexGossipsToItsNewValidator) {
  Gossip gossip(peers_.get());
  ASSERT_TRUE(gossip.Add(Tx(1)));
  for (int i : {1, 2}) {
    ASSERT_TRUE(Eventually([&] { return sinks_[i].bodies().size() == 1; })) << "v" << i;
  }
  v1::Genesis next = genesis_;
  next.mutable_validators()->DeleteSubrange(1, 1);
  peers_->SetPeerSet(
      std::make_shared<net::PeerSet>(net::testing::Unwrap(net::PeerSet::FromGenesis(next))));
  ASSERT_TRUE(gossip.Add(Tx(2)));
  ASSERT_TRUE(Eventually([&] { return sinks_[2].bodies().size() >= 2; }));
  // Any copy for v1 would have gone out with v2's: give it as long again to arrive.
  std::this_thread::sleep_for(milliseconds(4 * limits::gossip_linger_ms));
  EXPECT_EQ(sinks_[1].bodies(), std::vector<std::string>{Tx(1).body()}) << "v1 left the set";
  EXPECT_EQ(sinks_[2].bodies(), (std::vector<std::string>{Tx(1).body(), Tx(2).body()}));
}

TEST_F(GossipOverStreamsTest, APeerHoldingWritesBackDoesNotHoldUpShutdown) {
  sinks_[1].Hold();
  // Release v1 at the latest after a while, so that a broken shutdown fails the test
  // below rather than hanging it.
  std::promise<void> finished;
  std::thread release([&, done = finished.get_future()] {
    done.wait_for(std::chrono::seconds(30));
    sinks_[1].Release();
  });
  constexpr int kCount = 6000;  // 24 MB: more than HTTP/2 flow control lets through
  auto gossip = std::make_unique<Gossip>(peers_.get());
  for (int i = 0; i < kCount; ++i) ASSERT_TRUE(gossip->Add(Tx(i, 4096)));
  // v2 reads: it gets everything while v1 holds its stream back.
  ASSERT_TRUE(Eventually([&] { return sinks_[2].bodies().size() >= size_t(kCount); }));
  EXPECT_TRUE(sinks_[1].bodies().empty());
  const auto start = Clock::now();
  gossip.reset();
  const auto took = Clock::now() - start;
  EXPECT_LT(took, std::chrono::seconds(10)) << "the destructor waited for the held write";
  finished.set_value();
  release.join();
}

}  // namespace
}  // namespace reel::daemon
