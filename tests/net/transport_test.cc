// The peer transport over real gRPC with mutual TLS on 127.0.0.1 (TESTING.md rows 10 and
// 11): messages and calls go both ways through a fake node; every kind of stranger is
// refused with nothing processed; oversized messages are refused while the server goes
// on; a peer that restarts is reached again, with what did not fit in the queue counted.
#include <arpa/inet.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

#include "net_test_util.h"
#include "node/net/credentials.h"
#include "node/net/peer_server.h"
#include "node/net/peers.h"
#include "reel/v1/peer.grpc.pb.h"
#include "tests/test_util.h"

namespace reel::net {
namespace {

using namespace std::chrono_literals;
using reel::v1::ConsensusMessage;
using testing::MakeGenesis;
using testing::TempDir;
using testing::Unwrap;

constexpr auto kWait = 10s;  // generous: the machine is shared; tests pass in far less

// A stand-in for the node: records what arrives and answers sync calls from a fake
// chain whose block at height h has round h.
class FakeNode : public PeerHandler {
 public:
  bool OnConsensusMessage(uint32_t from_index, ConsensusMessage message) override {
    std::lock_guard lock(mutex_);
    received_.push_back({from_index, std::move(message)});
    ++calls_;
    changed_.notify_all();
    return true;
  }
  Status OnGossipTxs(uint32_t from_index, const reel::v1::GossipTxsRequest& request,
                     reel::v1::GossipTxsResponse* response) override {
    std::lock_guard lock(mutex_);
    ++calls_;
    gossip_from_.push_back(from_index);
    for (const auto& tx : request.txs()) {
      response->add_codes(tx.body().empty() ? reel::v1::ErrorCode(1) : reel::v1::OK);
    }
    return Status::Ok();
  }
  Status GetBlocks(uint32_t from_index, const reel::v1::GetBlocksRequest& request,
                   reel::v1::GetBlocksResponse* response) override {
    std::lock_guard lock(mutex_);
    ++calls_;
    last_blocks_request_ = request;
    for (uint64_t h = request.from_height(); h <= std::min<uint64_t>(request.to_height(), 100);
         ++h) {
      auto* header = response->add_blocks()->mutable_header();
      header->set_height(h);
      header->set_round(h);
    }
    return Status::Ok();
  }
  Status GetBlock(uint32_t from_index, const reel::v1::GetBlockByIdRequest& request,
                  reel::v1::GetBlockByIdResponse* response) override {
    std::lock_guard lock(mutex_);
    ++calls_;
    if (request.block_id() == std::string(32, 'k')) {
      response->mutable_block()->mutable_header()->set_height(7);
      return Status::Ok();
    }
    return Status::NotFound("no such block");
  }
  Status GetSyncInfo(uint32_t from_index, reel::v1::SyncInfo* response) override {
    std::lock_guard lock(mutex_);
    ++calls_;
    response->set_committed_height(42);
    return Status::Ok();
  }

  // Waits until `done(received)` holds; false on timeout.
  bool WaitFor(
      const std::function<bool(const std::vector<std::pair<uint32_t, ConsensusMessage>>&)>& done) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, kWait, [&] { return done(received_); });
  }
  bool WaitForCount(size_t count) {
    return WaitFor([count](const auto& received) { return received.size() >= count; });
  }
  std::vector<std::pair<uint32_t, ConsensusMessage>> received() {
    std::lock_guard lock(mutex_);
    return received_;
  }
  int calls() {
    std::lock_guard lock(mutex_);
    return calls_;
  }
  reel::v1::GetBlocksRequest last_blocks_request() {
    std::lock_guard lock(mutex_);
    return last_blocks_request_;
  }
  std::vector<uint32_t> gossip_from() {
    std::lock_guard lock(mutex_);
    return gossip_from_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<std::pair<uint32_t, ConsensusMessage>> received_;
  std::vector<uint32_t> gossip_from_;
  reel::v1::GetBlocksRequest last_blocks_request_;
  int calls_ = 0;
};

ConsensusMessage Numbered(uint64_t number) {
  ConsensusMessage message;
  message.set_epoch(number);  // the tests' sequence number; the transport does not read it
  message.mutable_vote()->set_round(number);
  return message;
}

// TLS material for the whole suite, made once and kept in a temporary directory as a
// node would keep it, then read back from there.
struct Material {
  CertAndKey ca;
  std::vector<CertAndKey> validators;  // v0, v1, v2: named in genesis
  CertAndKey stranger;                 // signed by the CA, named nowhere
  CertAndKey v1_reissued;              // signed by the CA for "v1", not the one in genesis
  CertAndKey foreign;                  // "v1" signed by another CA
  CertAndKey self_signed;              // "v1", its own CA
  CertAndKey expired;                  // for "v3", named in genesis, expired yesterday
};

const Material& TheMaterial() {
  static const Material* material = [] {
    static TempDir dir;
    const CertAndKey ca = Unwrap(MakeCa("reel-net-test-ca", 1));
    auto node = [&](const CertAndKey& signer, const std::string& name, const std::string& file) {
      EXPECT_TRUE(
          WriteCertAndKey(dir.path(), file, Unwrap(MakeNodeCert(signer, name, {"127.0.0.1"}, 1)))
              .ok());
      return Unwrap(ReadCertAndKey(dir.path(), file));
    };
    auto* m = new Material;
    m->ca = ca;
    for (int i = 0; i < 3; ++i) {
      m->validators.push_back(node(ca, "v" + std::to_string(i), "v" + std::to_string(i)));
    }
    m->stranger = node(ca, "stranger", "stranger");
    m->v1_reissued = node(ca, "v1", "v1-reissued");
    m->foreign = node(Unwrap(MakeCa("reel-net-test-ca", 1)), "v1", "foreign");
    m->self_signed = Unwrap(MakeCa("v1", 1));
    Validity past;
    past.not_before_from_now = -48h;
    past.not_after_from_now = -24h;
    m->expired = Unwrap(MakeNodeCert(ca, "v3", {"127.0.0.1"}, past));
    return m;
  }();
  return *material;
}

bool Eventually(const std::function<bool()>& condition) {
  const auto deadline = std::chrono::steady_clock::now() + kWait;
  while (!condition()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(5ms);
  }
  return true;
}

grpc::Status RawGetSyncInfo(const std::shared_ptr<grpc::Channel>& channel) {
  auto stub = reel::v1::Peer::NewStub(channel);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + kWait);
  reel::v1::SyncInfo info;
  return stub->GetSyncInfo(&context, reel::v1::GetSyncInfoRequest(), &info);
}

// A client stream of `messages` opened by `open` (a Peer::Stub method), written in
// order, then ended; the server's status.
template <typename Summary, typename Message, typename Open>
grpc::Status RawStream(const std::shared_ptr<grpc::Channel>& channel,
                       const std::vector<Message>& messages, Open open) {
  auto stub = reel::v1::Peer::NewStub(channel);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + kWait);
  Summary summary;
  auto writer = ((*stub).*open)(&context, &summary);
  for (const auto& message : messages) {
    if (!writer->Write(message)) break;
  }
  writer->WritesDone();
  return writer->Finish();
}

grpc::Status RawPush(const std::shared_ptr<grpc::Channel>& channel,
                     const std::vector<ConsensusMessage>& messages) {
  return RawStream<reel::v1::PushSummary>(channel, messages, &reel::v1::Peer::Stub::Push);
}

grpc::Status RawGossipStream(const std::shared_ptr<grpc::Channel>& channel,
                             const std::vector<reel::v1::GossipTxsRequest>& batches) {
  return RawStream<reel::v1::GossipTxsSummary>(channel, batches,
                                               &reel::v1::Peer::Stub::GossipTxsStream);
}

// Validators v0..v2 (and v3 with the expired certificate), each with a server on an
// ephemeral port and a FakeNode behind it.
class TransportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const Material& m = TheMaterial();
    genesis_ = MakeGenesis(m.ca.cert_pem, {{"v0", m.validators[0]},
                                           {"v1", m.validators[1]},
                                           {"v2", m.validators[2]},
                                           {"v3", m.expired}});
    server_peers_ = std::make_shared<PeerSet>(Unwrap(PeerSet::FromGenesis(genesis_)));
    for (int i = 0; i < 3; ++i) StartServer(i, "127.0.0.1:0");
    for (int i = 0; i < 3; ++i) {
      genesis_.mutable_validators(i)->set_address(Address(i));
    }
    genesis_.mutable_validators(3)->set_address("127.0.0.1:1");  // nothing listens there
    peers_ = std::make_shared<PeerSet>(Unwrap(PeerSet::FromGenesis(genesis_)));
  }

  void StartServer(int index, const std::string& address) {
    servers_[index] = Unwrap(
        PeerServer::Start(server_peers_, TheMaterial().validators[index], address, &nodes_[index]));
    ports_[index] = servers_[index]->port();
  }
  std::string Address(int index) { return "127.0.0.1:" + std::to_string(ports_[index]); }

  std::unique_ptr<Peers> MakePeers(uint32_t self, PeerClientOptions options = {}) {
    return Unwrap(Peers::Create(peers_, self, TheMaterial().validators[self], options));
  }

  // A raw channel to validator `index`'s server, presenting `identity`.
  std::shared_ptr<grpc::Channel> Channel(int index, const CertAndKey& identity,
                                         const std::string& server_name = "") {
    return MakePeerChannel(Address(index),
                           server_name.empty() ? "v" + std::to_string(index) : server_name,
                           TheMaterial().ca.cert_pem, identity);
  }

  // A stranger's calls to v0 fail and reach no handler, while a member's call on the same
  // server then works (so the refusals are not the server being down).
  void ExpectRefusedByV0(const CertAndKey& stranger, const char* who) {
    const auto channel = Channel(0, stranger);
    EXPECT_FALSE(RawGetSyncInfo(channel).ok()) << who;
    EXPECT_FALSE(RawPush(channel, {Numbered(1)}).ok()) << who;
    EXPECT_EQ(nodes_[0].calls(), 0) << who << " reached the handler";
    EXPECT_OK(RawGetSyncInfo(Channel(0, TheMaterial().validators[1])))
        << "the server should still serve members";
    EXPECT_EQ(nodes_[0].calls(), 1);
  }

  reel::v1::Genesis genesis_;
  std::shared_ptr<PeerSet> server_peers_;
  std::shared_ptr<PeerSet> peers_;
  FakeNode nodes_[3];
  std::unique_ptr<PeerServer> servers_[3];
  int ports_[3] = {0, 0, 0};
};

// --- Messages and calls between members -----------------------------------------------

TEST_F(TransportTest, PeersRefusesAnIdentityGenesisDoesNotGiveIt) {
  EXPECT_EQ(Peers::Create(peers_, 1, TheMaterial().validators[0]).status().code(),
            Code::kFailedPrecondition);
  EXPECT_EQ(Peers::Create(peers_, 0, TheMaterial().stranger).status().code(),
            Code::kFailedPrecondition);
  EXPECT_FALSE(Peers::Create(peers_, 9, TheMaterial().validators[0]).ok());
  const CertAndKey mismatched{TheMaterial().validators[0].cert_pem,
                              TheMaterial().validators[1].key_pem};
  EXPECT_EQ(Peers::Create(peers_, 0, mismatched).status().code(), Code::kInvalidArgument);
  FakeNode unused;
  EXPECT_EQ(PeerServer::Start(server_peers_, mismatched, "127.0.0.1:0", &unused).status().code(),
            Code::kInvalidArgument);
}

TEST_F(TransportTest, ConsensusMessagesFlowBothWaysAndBroadcast) {
  auto p0 = MakePeers(0);
  auto p1 = MakePeers(1);
  auto p2 = MakePeers(2);
  p0->Send(1, Numbered(1));
  p1->Send(0, Numbered(2));
  p2->Broadcast(Numbered(3));  // to v0, v1 and (unreachable) v3

  ASSERT_TRUE(nodes_[1].WaitForCount(2));
  ASSERT_TRUE(nodes_[0].WaitForCount(2));
  std::map<uint64_t, uint32_t> at_v1, at_v0;
  for (const auto& [from, message] : nodes_[1].received()) {
    EXPECT_EQ(message.sender_index(), from) << "Peers stamps the sender's own index";
    at_v1[message.epoch()] = from;
  }
  for (const auto& [from, message] : nodes_[0].received()) at_v0[message.epoch()] = from;
  EXPECT_EQ(at_v1, (std::map<uint64_t, uint32_t>{{1, 0}, {3, 2}}));
  EXPECT_EQ(at_v0, (std::map<uint64_t, uint32_t>{{2, 1}, {3, 2}}));
  EXPECT_TRUE(nodes_[2].received().empty());
  // Counted just after the write returns, so possibly after the message arrived.
  EXPECT_TRUE(Eventually([&] { return p2->stats(0).sent == 1 && p2->stats(1).sent == 1; }));
}

TEST_F(TransportTest, ManyMessagesArriveInOrderOnOneStream) {
  auto p0 = MakePeers(0);
  constexpr int kCount = 500;
  for (int i = 0; i < kCount; ++i) p0->Send(2, Numbered(i));
  ASSERT_TRUE(nodes_[2].WaitForCount(kCount));
  const auto received = nodes_[2].received();
  for (int i = 0; i < kCount; ++i) EXPECT_EQ(received[i].second.epoch(), uint64_t(i));
  EXPECT_TRUE(Eventually([&] { return p0->stats(2).sent == uint64_t(kCount); }));
  EXPECT_EQ(p0->stats(2).dropped, 0u);
  EXPECT_EQ(p0->stats(2).streams_opened, 1u);
}

TEST_F(TransportTest, GossipAndSyncCallsRoundTrip) {
  auto p0 = MakePeers(0);
  reel::v1::GossipTxsRequest gossip;
  gossip.add_txs()->set_body("a transaction");
  gossip.add_txs();  // empty body: the fake refuses it
  auto codes = p0->GossipTxs(1, gossip);
  ASSERT_OK(codes);
  ASSERT_EQ(codes->codes_size(), 2);
  EXPECT_EQ(codes->codes(0), reel::v1::OK);
  EXPECT_NE(codes->codes(1), reel::v1::OK);
  EXPECT_EQ(nodes_[1].gossip_from(), std::vector<uint32_t>{0});

  reel::v1::GetBlocksRequest range;
  range.set_from_height(3);
  range.set_to_height(5);
  auto blocks = p0->GetBlocks(2, range);
  ASSERT_OK(blocks);
  ASSERT_EQ(blocks->blocks_size(), 3);
  EXPECT_EQ(blocks->blocks(2).header().height(), 5u);

  // A range longer than the bound is clamped before the node sees it.
  range.set_to_height(1'000'000);
  ASSERT_OK(p0->GetBlocks(2, range));
  EXPECT_EQ(nodes_[2].last_blocks_request().to_height(),
            3 + limits::net_sync_blocks_per_request_max - 1);
  range.set_from_height(0);
  EXPECT_EQ(p0->GetBlocks(2, range).status().code(), Code::kInvalidArgument);

  reel::v1::GetBlockByIdRequest by_id;
  by_id.set_block_id(std::string(32, 'k'));
  auto block = p0->GetBlock(1, by_id);
  ASSERT_OK(block);
  EXPECT_EQ(block->block().header().height(), 7u);
  by_id.set_block_id(std::string(32, 'x'));
  EXPECT_EQ(p0->GetBlock(1, by_id).status().code(), Code::kNotFound);
  by_id.set_block_id("short");
  EXPECT_EQ(p0->GetBlock(1, by_id).status().code(), Code::kInvalidArgument);

  auto info = p0->GetSyncInfo(1);
  ASSERT_OK(info);
  EXPECT_EQ(info->committed_height(), 42u);

  // Nobody listens for v3: an error the node can act on, not a hang.
  EXPECT_FALSE(p0->GetSyncInfo(3).ok());
}

// --- Only members get in (TESTING.md row 11) -------------------------------------------

TEST_F(TransportTest, MemberIsAcceptedOnTheSameServer) {
  const grpc::Status status = RawGetSyncInfo(Channel(0, TheMaterial().validators[1]));
  EXPECT_OK(status);
  EXPECT_EQ(nodes_[0].calls(), 1);
}

TEST_F(TransportTest, NoClientCertificateIsRefused) {
  ExpectRefusedByV0(CertAndKey{}, "no certificate");
}

TEST_F(TransportTest, SelfSignedCertificateIsRefused) {
  ExpectRefusedByV0(TheMaterial().self_signed, "self-signed");
}

TEST_F(TransportTest, CertificateFromAnotherCaIsRefused) {
  ExpectRefusedByV0(TheMaterial().foreign, "other CA");
}

TEST_F(TransportTest, ExpiredCertificateIsRefusedEvenIfGenesisNamesIt) {
  ExpectRefusedByV0(TheMaterial().expired, "expired");
}

// A CA-signed certificate that genesis does not name is an observer's: it may sync
// (GetSyncInfo, GetBlocks) and nothing else.
TEST_F(TransportTest, CaSignedCertificateNotInGenesisMaySyncOnly) {
  for (const CertAndKey* who : {&TheMaterial().stranger, &TheMaterial().v1_reissued}) {
    const auto channel = Channel(0, *who);
    EXPECT_OK(RawGetSyncInfo(channel));
    EXPECT_EQ(RawPush(channel, {Numbered(1)}).error_code(), grpc::StatusCode::UNAUTHENTICATED);
  }
  EXPECT_EQ(nodes_[0].calls(), 2);  // the two sync calls, nothing from the Push streams
  EXPECT_EQ(servers_[0]->stats().refused_unauthenticated, 2u);

  auto observer = Unwrap(Peers::CreateObserver(peers_, TheMaterial().stranger));
  EXPECT_TRUE(observer->observer());
  Result<reel::v1::SyncInfo> info = observer->GetSyncInfo(0);
  ASSERT_OK(info);
  EXPECT_EQ(info->committed_height(), 42u);
  EXPECT_EQ(observer->GossipTxs(0, {}).status().code(), Code::kUnauthenticated);
  // A validator's certificate cannot pose as an observer.
  EXPECT_EQ(Peers::CreateObserver(peers_, TheMaterial().validators[1]).status().code(),
            Code::kFailedPrecondition);
}

// Epochs change who the validators are (docs/DECISIONS.md, "Epochs"): the server
// authenticates against the set of the moment (Membership) and clients follow it
// (Peers::SetPeerSet). A validator to be may only sync; once added it is heard under its
// index; when an earlier validator leaves, its index moves and the open stream carries
// on under the new one; the removed validator is refused, even on a stream it opened
// while it was a member.
TEST_F(TransportTest, ServerAndClientsFollowTheEpochsSet) {
  const Material& m = TheMaterial();
  FakeNode node;
  auto set_of = [&](const std::vector<std::pair<std::string, const CertAndKey*>>& members,
                    const std::string& v0_address) {
    reel::v1::ValidatorSet set;
    for (const auto& [name, cert] : members) {
      reel::v1::Validator* v = set.add_validators();
      v->set_name(name);
      v->set_address(name == "v0" ? v0_address : "127.0.0.1:1");
      v->set_tls_cert_pem(cert->cert_pem);
    }
    return std::make_shared<const PeerSet>(Unwrap(PeerSet::FromValidatorSet(set, m.ca.cert_pem)));
  };
  auto membership = std::make_shared<Membership>(
      set_of({{"v0", &m.validators[0]}, {"v1", &m.validators[1]}}, ""));
  auto server = Unwrap(PeerServer::Start(membership, m.validators[0], "127.0.0.1:0", &node));
  const std::string v0 = "127.0.0.1:" + std::to_string(server->port());
  const auto epoch_a = set_of({{"v0", &m.validators[0]}, {"v1", &m.validators[1]}}, v0);
  const auto epoch_b =
      set_of({{"v0", &m.validators[0]}, {"v1", &m.validators[1]}, {"stranger", &m.stranger}}, v0);
  const auto epoch_c = set_of({{"v0", &m.validators[0]}, {"stranger", &m.stranger}}, v0);
  membership->Set(epoch_a);

  // Epoch A: the newcomer is not a validator yet: it sends nothing and may sync.
  auto newcomer = Unwrap(Peers::CreateValidator(epoch_a, m.stranger));
  EXPECT_TRUE(newcomer->observer());
  newcomer->Send(0, Numbered(1));
  EXPECT_OK(newcomer->GetSyncInfo(0).status());
  EXPECT_EQ(newcomer->GossipTxs(0, {}).status().code(), Code::kUnauthenticated);
  auto v1 = Unwrap(Peers::CreateValidator(epoch_a, m.validators[1]));
  v1->Send(0, Numbered(2));
  ASSERT_TRUE(node.WaitForCount(1));

  // Epoch B adds it as validator 2.
  membership->Set(epoch_b);
  newcomer->SetPeerSet(epoch_b);
  v1->SetPeerSet(epoch_b);
  EXPECT_FALSE(newcomer->observer());
  EXPECT_EQ(newcomer->self_index(), 2u);
  newcomer->Send(0, Numbered(3));
  ASSERT_TRUE(node.WaitForCount(2));

  // Epoch C removes v1: the newcomer is validator 1 now, on the stream it already has.
  membership->Set(epoch_c);
  newcomer->SetPeerSet(epoch_c);
  EXPECT_EQ(newcomer->self_index(), 1u);
  newcomer->Send(0, Numbered(4));
  ASSERT_TRUE(node.WaitForCount(3));
  EXPECT_EQ(newcomer->stats(0).streams_opened, 1u) << "the client to v0 is kept across epochs";
  // v1 has not noticed: what it sends on its open stream is refused.
  const uint64_t refused_before = server->stats().refused_unauthenticated;
  v1->Send(0, Numbered(5));
  ASSERT_TRUE(Eventually([&] { return server->stats().refused_unauthenticated > refused_before; }));
  EXPECT_EQ(RawPush(MakePeerChannel(v0, "v0", m.ca.cert_pem, m.validators[1]), {Numbered(6)})
                .error_code(),
            grpc::StatusCode::UNAUTHENTICATED);

  const auto received = node.received();
  ASSERT_EQ(received.size(), 3u);
  EXPECT_EQ(received[0].first, 1u);  // v1 in epoch A
  EXPECT_EQ(received[0].second.epoch(), 2u);
  EXPECT_EQ(received[1].first, 2u);  // the newcomer in epoch B
  EXPECT_EQ(received[1].second.epoch(), 3u);
  EXPECT_EQ(received[2].first, 1u);  // the newcomer in epoch C
  EXPECT_EQ(received[2].second.epoch(), 4u);
  server->Shutdown();
}

TEST_F(TransportTest, ValidatorClaimingToBeAnotherIsRefused) {
  // v1's own certificate, messages that say they are from v2.
  ConsensusMessage forged = Numbered(1);
  forged.set_sender_index(2);
  const grpc::Status status = RawPush(Channel(0, TheMaterial().validators[1]), {forged});
  EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED) << status.error_message();
  EXPECT_EQ(nodes_[0].calls(), 0);
  EXPECT_EQ(servers_[0]->stats().refused_impersonation, 1u);

  // A server's own certificate used to call it is refused as well.
  EXPECT_EQ(RawGetSyncInfo(Channel(0, TheMaterial().validators[0])).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
}

TEST_F(TransportTest, ClientRefusesAServerThatIsNotTheValidatorItDialled) {
  // v2's server answers where the client expects v1: TLS name check.
  const auto wrong_name =
      MakePeerChannel(Address(2), "v1", TheMaterial().ca.cert_pem, TheMaterial().validators[0]);
  EXPECT_FALSE(RawGetSyncInfo(wrong_name).ok());

  // A server with a CA-signed certificate for "v1" that genesis does not name: TLS is
  // satisfied, the genesis check in PeerClient is not.
  FakeNode impostor_node;
  auto impostor = Unwrap(
      PeerServer::Start(server_peers_, TheMaterial().v1_reissued, "127.0.0.1:0", &impostor_node));
  reel::v1::Genesis genesis = genesis_;
  genesis.mutable_validators(1)->set_address("127.0.0.1:" + std::to_string(impostor->port()));
  auto p0 = Unwrap(Peers::Create(std::make_shared<PeerSet>(Unwrap(PeerSet::FromGenesis(genesis))),
                                 0, TheMaterial().validators[0]));
  EXPECT_EQ(p0->GetSyncInfo(1).status().code(), Code::kUnauthenticated);
  EXPECT_EQ(Unwrap(p0->NewTxStream(1))->Open().code(), Code::kUnauthenticated);
  p0->Send(1, Numbered(1));
  ASSERT_TRUE(Eventually([&] { return p0->stats(1).reconnects >= 1; }));
  EXPECT_EQ(p0->stats(1).sent, 0u);
  EXPECT_EQ(p0->stats(1).streams_opened, 0u);
  EXPECT_NE(p0->last_stream_error(1).find("genesis"), std::string::npos)
      << p0->last_stream_error(1);
  EXPECT_TRUE(impostor_node.received().empty());
}

// --- Bad input is refused, not fatal (TESTING.md row 10) -------------------------------

TEST_F(TransportTest, OversizedMessageIsRefusedAndTheServerGoesOn) {
  ConsensusMessage huge = Numbered(1);
  huge.set_sender_index(1);
  huge.mutable_proposal()->mutable_block()->add_txs()->set_body(
      std::string(limits::net_message_bytes_max + 1, 'x'));
  const auto channel = Channel(0, TheMaterial().validators[1]);
  EXPECT_EQ(RawPush(channel, {huge}).error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);

  auto stub = reel::v1::Peer::NewStub(channel);
  reel::v1::GossipTxsRequest big_gossip;
  big_gossip.add_txs()->set_body(std::string(limits::net_message_bytes_max + 1, 'y'));
  grpc::ClientContext context;
  reel::v1::GossipTxsResponse codes;
  EXPECT_EQ(stub->GossipTxs(&context, big_gossip, &codes).error_code(),
            grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_EQ(nodes_[0].calls(), 0);

  // Still serving, on the same connection.
  ConsensusMessage fine = Numbered(2);
  fine.set_sender_index(1);
  EXPECT_OK(RawPush(channel, {fine}));
  EXPECT_OK(RawGetSyncInfo(channel));
  ASSERT_TRUE(nodes_[0].WaitForCount(1));

  // The client side never queues what no server would take.
  auto p1 = MakePeers(1);
  ConsensusMessage huge_from_p1 = huge;
  p1->Send(0, huge_from_p1);
  EXPECT_EQ(p1->stats(0).dropped, 1u);
  EXPECT_EQ(p1->stats(0).queued, 0u);
}

TEST_F(TransportTest, PushStreamsPerPeerAreBounded) {
  const auto channel = Channel(0, TheMaterial().validators[1]);
  auto stub = reel::v1::Peer::NewStub(channel);
  struct Open {
    grpc::ClientContext context;
    reel::v1::PushSummary summary;
    std::unique_ptr<grpc::ClientWriter<ConsensusMessage>> writer;
  };
  std::vector<std::unique_ptr<Open>> open;
  for (size_t i = 0; i < limits::net_push_streams_per_peer_max; ++i) {
    auto stream = std::make_unique<Open>();
    stream->writer = stub->Push(&stream->context, &stream->summary);
    stream->writer->WaitForInitialMetadata();  // the server holds the slot now
    open.push_back(std::move(stream));
  }
  EXPECT_EQ(RawPush(channel, {}).error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  // Counted against v1 (for /metrics), and only v1.
  EXPECT_EQ(servers_[0]->refusals(1).push_streams, 1u);
  EXPECT_EQ(servers_[0]->refusals(2).push_streams, 0u);
  // Another validator is not affected by v1's streams.
  EXPECT_OK(RawPush(Channel(0, TheMaterial().validators[2]), {}));
  for (auto& stream : open) {
    stream->writer->WritesDone();
    EXPECT_OK(stream->writer->Finish());
  }
  EXPECT_OK(RawPush(channel, {}));  // slots are given back
}

TEST_F(TransportTest, GossipStreamCarriesBatchesToTheHandler) {
  auto p0 = MakePeers(0);
  auto stream = Unwrap(p0->NewTxStream(1));
  ASSERT_OK(stream->Open());
  reel::v1::GossipTxsRequest batch;
  batch.add_txs()->set_body("a transaction");
  batch.add_txs()->set_body("another");
  EXPECT_TRUE(stream->Write(batch));
  EXPECT_TRUE(stream->Write(batch));
  ASSERT_TRUE(Eventually([&] { return nodes_[1].gossip_from().size() == 2; }));
  EXPECT_EQ(nodes_[1].gossip_from(), (std::vector<uint32_t>{0, 0}));
  EXPECT_EQ(servers_[1]->stats().gossip_batches, 2u);
  stream.reset();  // ends the stream; the server gives its slot back
  EXPECT_OK(RawGossipStream(Channel(1, TheMaterial().validators[0]), {batch}));
  EXPECT_TRUE(Eventually([&] { return nodes_[1].gossip_from().size() == 3; }));
  // No stream to an index with no peer.
  EXPECT_EQ(p0->NewTxStream(0).status().code(), Code::kFailedPrecondition);
}

TEST_F(TransportTest, GossipStreamsAreRefusedToStrangersAndBoundedPerPeer) {
  reel::v1::GossipTxsRequest batch;
  batch.add_txs()->set_body("a transaction");
  // A CA-signed certificate the epoch does not name may not gossip.
  EXPECT_EQ(RawGossipStream(Channel(0, TheMaterial().stranger), {batch}).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  // More transactions in one message than a GossipTxs call may carry ends the stream.
  reel::v1::GossipTxsRequest too_many;
  for (size_t i = 0; i <= limits::net_gossip_txs_max; ++i) too_many.add_txs()->set_body("t");
  EXPECT_EQ(RawGossipStream(Channel(0, TheMaterial().validators[1]), {too_many}).error_code(),
            grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_EQ(servers_[0]->stats().refused_invalid, 1u) << "refused for its size, not a slot";
  EXPECT_EQ(nodes_[0].calls(), 0) << "a refused stream reached the handler";

  const auto channel = Channel(0, TheMaterial().validators[1]);
  auto stub = reel::v1::Peer::NewStub(channel);
  struct Open {
    grpc::ClientContext context;
    reel::v1::GossipTxsSummary summary;
    std::unique_ptr<grpc::ClientWriter<reel::v1::GossipTxsRequest>> writer;
  };
  std::vector<std::unique_ptr<Open>> open;
  for (size_t i = 0; i < limits::net_gossip_streams_per_peer_max; ++i) {
    auto stream = std::make_unique<Open>();
    stream->writer = stub->GossipTxsStream(&stream->context, &stream->summary);
    stream->writer->WaitForInitialMetadata();  // the server holds the slot now
    open.push_back(std::move(stream));
  }
  EXPECT_EQ(RawGossipStream(channel, {batch}).error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_EQ(servers_[0]->refusals(1).gossip_streams, 1u);
  EXPECT_EQ(servers_[0]->refusals(1).push_streams, 0u);
  EXPECT_OK(RawGossipStream(Channel(0, TheMaterial().validators[2]), {batch}))
      << "another validator is not affected by v1's streams";
  for (auto& stream : open) {
    ASSERT_TRUE(stream->writer->Write(batch));
    stream->writer->WritesDone();
    EXPECT_OK(stream->writer->Finish());
    EXPECT_EQ(stream->summary.batches(), 1u);
    EXPECT_EQ(stream->summary.admitted(), 1u);
  }
  EXPECT_OK(RawGossipStream(channel, {batch}));  // slots are given back
}

TEST_F(TransportTest, IdleConnectionsDoNotStopMembers) {
  // Connections that never start a TLS handshake, as a scanner or a slow attacker makes.
  std::vector<int> sockets;
  for (int i = 0; i < 64; ++i) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    ASSERT_GE(fd, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<uint16_t>(ports_[0]));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
    sockets.push_back(fd);
  }
  auto p1 = MakePeers(1);
  p1->Send(0, Numbered(1));
  EXPECT_TRUE(nodes_[0].WaitForCount(1));
  EXPECT_OK(p1->GetSyncInfo(0));
  for (int fd : sockets) ::close(fd);
}

// --- Reconnect ------------------------------------------------------------------------

TEST_F(TransportTest, QueueIsBoundedWhilePeerIsDownAndDeliveryResumesAfterRestart) {
  PeerClientOptions options;
  options.queue_messages_max = 8;
  options.backoff_ms_min = 20;
  options.backoff_ms_max = 200;
  auto p0 = MakePeers(0, options);
  p0->Send(1, Numbered(0));
  ASSERT_TRUE(nodes_[1].WaitForCount(1));

  servers_[1]->Shutdown();
  servers_[1].reset();
  // The client learns that its stream ended only when a write fails: writes before it may
  // have gone into the dead stream's buffers (counted as sent), and the failing one is
  // counted lost. How many depends on timing; the sums below account for each message.
  constexpr int kWhileDown = 30;
  const uint64_t reconnects_before = p0->stats(1).reconnects;
  for (int i = 1; i <= kWhileDown; ++i) p0->Send(1, Numbered(i));
  // The failed write makes the client back off and retry, and the retries fail.
  ASSERT_TRUE(Eventually([&] {
    const PeerClientStats s = p0->stats(1);
    return s.reconnects > reconnects_before && !s.connected;
  }));
  const PeerClientStats down = p0->stats(1);
  EXPECT_EQ(down.queued, uint64_t(kWhileDown) + 1);
  EXPECT_LE(down.queue_length, options.queue_messages_max);
  EXPECT_LE(down.lost, 1u);  // one failed write closes the stream
  EXPECT_EQ(down.sent + down.dropped + down.lost + down.queue_length, down.queued);
  // Only what met the dead stream or did not fit is gone: the queue is full but for the
  // messages written to the dead stream after the last one dropped.
  const uint64_t in_flight = (down.sent - 1) + down.lost;
  EXPECT_GE(down.queue_length + in_flight, options.queue_messages_max);
  EXPECT_GT(down.dropped, 0u);

  StartServer(1, Address(1));  // same port
  ASSERT_TRUE(nodes_[1].WaitFor([](const auto& received) {
    return !received.empty() && received.back().second.epoch() == uint64_t(kWhileDown);
  })) << p0->stats(1).queue_length
      << " queued; last error: ";
  // Message 0, then exactly what the queue held: the newest messages, in order.
  const auto received = nodes_[1].received();
  ASSERT_EQ(received.size(), 1 + down.queue_length);
  for (size_t i = 1; i < received.size(); ++i) {
    EXPECT_EQ(received[i].second.epoch(), uint64_t(kWhileDown) - down.queue_length + i);
  }
  EXPECT_TRUE(Eventually([&] { return p0->stats(1).queue_length == 0; }));
  const PeerClientStats up = p0->stats(1);
  EXPECT_TRUE(up.connected);
  EXPECT_EQ(up.streams_opened, 2u);

  p0->Send(1, Numbered(kWhileDown + 1));  // and goes on
  ASSERT_TRUE(nodes_[1].WaitFor(
      [](const auto& all) { return all.back().second.epoch() == uint64_t(kWhileDown) + 1; }));
}

TEST_F(TransportTest, ShuttingDownWithQueuedMessagesAndUnreachablePeersIsPrompt) {
  const auto start = std::chrono::steady_clock::now();
  {
    auto p0 = MakePeers(0);
    for (int i = 0; i < 100; ++i) p0->Broadcast(Numbered(i));  // v3 never answers
    servers_[2]->Shutdown();
  }
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
}

}  // namespace
}  // namespace reel::net
