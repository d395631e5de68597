// reel-peer-flood: one Byzantine validator's flood of another validator's peer service,
// for tests/integration/flood_test.sh (TESTING.md row 10). It holds what such a
// validator holds, from its home folder: genesis, its TLS certificate and key, and its
// validator key. For --seconds it
//   - opens --streams Push streams to the target, each on its own connection (a peer may
//     hold limits::net_push_streams_per_peer_max; the others are refused and retried),
//     and writes on each as fast as the connection takes them: votes and timeouts that
//     it signs for rounds just ahead of the target (which the target must verify and
//     keep) and far in the future, and proposals of about --proposal-bytes with the
//     right leader and framing but a junk signature;
//   - runs --block-request-threads threads that ask GetBlock for the newest committed
//     block with the longest ancestry an answer carries, the costliest request the
//     target's loop serves.
// Every second it asks the target where its chain is, to aim the rounds.
// Prints one line at the end:
//   streams_accepted=A streams_refused=R pushed=P push_dropped=D proposals=Q
//   block_requests=B block_requests_refused=X
// (push_dropped is what the target's PushSummary said it dropped.) Exit 0 unless it
// could not start.
#include <grpcpp/grpcpp.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <chrono>
#include <iostream>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "base/limits.h"
#include "consensus/core.h"
#include "consensus/types.h"
#include "node/config/config.h"
#include "node/config/home.h"
#include "node/net/credentials.h"
#include "node/net/peer_set.h"
#include "node/net/push_protocol.h"
#include "node/replica/codec.h"
#include "reel/v1/peer.grpc.pb.h"

namespace reel {
namespace {

using Clock = std::chrono::steady_clock;

struct Options {
  std::string home;
  uint32_t target = 0;
  double seconds = 30;
  uint32_t streams = limits::net_push_streams_per_peer_max + 2;
  uint32_t block_request_threads = limits::net_calls_per_peer_max;
  size_t proposal_bytes = 8'000'000;
  bool proposals = true;     // junk proposals on the even streams
  bool signed_small = true;  // signed votes and timeouts on every stream
};

struct Counters {
  std::atomic<uint64_t> streams_accepted{0};
  std::atomic<uint64_t> streams_refused{0};
  std::atomic<uint64_t> pushed{0};
  std::atomic<uint64_t> push_dropped{0};
  std::atomic<uint64_t> proposals{0};
  std::atomic<uint64_t> block_requests{0};
  std::atomic<uint64_t> block_requests_refused{0};
};

std::string RandomBytes(std::mt19937_64& rng, size_t n) {
  std::string out(n, '\0');
  for (char& c : out) c = static_cast<char>(rng());
  return out;
}

crypto::Hash32 RandomHash(std::mt19937_64& rng) {
  crypto::Hash32 h;
  for (auto& b : h) b = static_cast<uint8_t>(rng());
  return h;
}

class Flood {
 public:
  Flood(Options options, config::LoadedHome home, net::CertAndKey own)
      : o_(std::move(options)),
        home_(std::move(home)),
        own_(std::move(own)),
        self_(static_cast<uint32_t>(*home_.validator_index)) {}

  Status Setup() {
    Result<net::PeerSet> peers = net::PeerSet::FromGenesis(home_.genesis);
    if (!peers.ok()) return peers.status();
    if (o_.target >= peers->size() || o_.target == self_) {
      return Status::InvalidArgument("--target must be another validator's index");
    }
    target_ = peers->peer(o_.target);
    ca_pem_ = peers->ca_pem();
    validators_ = static_cast<uint32_t>(peers->size());
    info_stub_ = v1::Peer::NewStub(Channel());
    return Refresh();
  }

  int Run() {
    const auto end =
        Clock::now() + std::chrono::milliseconds(static_cast<int64_t>(o_.seconds * 1000));
    std::vector<std::thread> threads;
    threads.emplace_back([this, end] {
      while (Clock::now() < end) {
        (void)Refresh();
        std::this_thread::sleep_for(std::chrono::seconds(1));
      }
    });
    for (uint32_t s = 0; s < o_.streams; ++s) {
      threads.emplace_back([this, s, end] { PushStream(s, end); });
    }
    for (uint32_t t = 0; t < o_.block_request_threads; ++t) {
      threads.emplace_back([this, end] { BlockRequests(end); });
    }
    for (std::thread& t : threads) t.join();
    std::cout << "streams_accepted=" << c_.streams_accepted
              << " streams_refused=" << c_.streams_refused << " pushed=" << c_.pushed
              << " push_dropped=" << c_.push_dropped << " proposals=" << c_.proposals
              << " block_requests=" << c_.block_requests
              << " block_requests_refused=" << c_.block_requests_refused << std::endl;
    return 0;
  }

 private:
  std::shared_ptr<grpc::Channel> Channel() const {
    return net::MakePeerChannel(target_.address, target_.name, ca_pem_, own_);
  }

  // Where the target's chain is: its committed height, and the id of a recent block.
  Status Refresh() {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
    v1::SyncInfo info;
    grpc::Status s = info_stub_->GetSyncInfo(&context, v1::GetSyncInfoRequest(), &info);
    if (!s.ok()) return net::FromGrpcStatus(s);
    const uint64_t height = info.committed_height();
    grpc::ClientContext range_context;
    range_context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
    v1::GetBlocksRequest request;
    request.set_from_height(std::max<uint64_t>(height, 2) - 1);
    request.set_to_height(std::max<uint64_t>(height, 1));
    v1::GetBlocksResponse range;
    s = info_stub_->GetBlocks(&range_context, request, &range);
    std::lock_guard<std::mutex> lock(mu_);
    height_ = height;
    if (s.ok() && range.last_qc().block_id().size() == 32)
      recent_block_id_ = range.last_qc().block_id();
    return Status::Ok();
  }

  uint64_t Height() {
    std::lock_guard<std::mutex> lock(mu_);
    return height_;
  }

  // Signed votes and timeouts for rounds just ahead of `height` (within the target's
  // window: it verifies and keeps them) and far beyond it (dropped after a look).
  std::vector<v1::ConsensusMessage> SignedBatch(uint64_t height, std::mt19937_64& rng) {
    const std::string& chain = home_.genesis.chain_id();
    const crypto::KeyPair& key = *home_.validator_key;
    std::vector<v1::ConsensusMessage> batch;
    for (uint64_t k = 0; k < 64; ++k) {
      const uint64_t base = (k % 2 == 0) ? height + k : height + 1'000'000 + k * 1000;
      consensus::Vote vote;
      // The target leads round + 1: it is the one that collects this vote.
      vote.round =
          base - base % validators_ + validators_ + (o_.target + validators_ - 1) % validators_;
      vote.height = height + 1;
      vote.block_id = RandomHash(rng);
      vote.signer = self_;
      vote.signature = key.SignDigest(consensus::VoteDigest(chain, 0, vote.block_id, vote.round));
      batch.push_back(replica::ToProto(self_, 0, consensus::Message(vote)));
      consensus::Timeout timeout;
      timeout.round = base;
      timeout.high_qc = consensus::MakeGenesisQc(consensus::MakeGenesisBlock(chain, 0));
      timeout.signer = self_;
      timeout.signature = key.SignDigest(consensus::TimeoutDigest(chain, 0, timeout.round, 0));
      batch.push_back(replica::ToProto(self_, 0, consensus::Message(timeout)));
    }
    return batch;
  }

  // A proposal as a leader would frame it, of about proposal_bytes, whose signatures
  // are junk.
  v1::ConsensusMessage JunkProposal(uint64_t height, std::mt19937_64& rng) {
    v1::ConsensusMessage message;
    message.set_sender_index(self_);
    v1::Block* block = message.mutable_proposal()->mutable_block();
    v1::BlockHeader* h = block->mutable_header();
    const uint64_t round = height + validators_ - height % validators_ + self_;  // self leads
    const std::string parent = RandomBytes(rng, 32);
    h->set_round(round);
    h->set_height(height + 1);
    h->set_parent_id(parent);
    h->set_qc_block_id(parent);
    h->set_qc_round(round - 1);
    h->set_tx_root(RandomBytes(rng, 32));
    h->set_proposer_index(self_);
    h->set_timestamp_ms(
        static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                  std::chrono::system_clock::now().time_since_epoch())
                                  .count()));
    h->set_committed_height(height);
    h->set_committed_state_root(RandomBytes(rng, 32));
    block->mutable_qc()->set_block_id(parent);
    block->mutable_qc()->set_round(round - 1);
    for (uint32_t i = 0; i < validators_; ++i) {
      v1::ValidatorSignature* sig = block->mutable_qc()->add_signatures();
      sig->set_validator_index(i);
      sig->set_signature(RandomBytes(rng, 64));
    }
    constexpr size_t kTxBytes = 4000;
    const size_t txs = std::min(o_.proposal_bytes / (kTxBytes + 110), limits::block_txs_max);
    const std::string body = RandomBytes(rng, kTxBytes);
    for (size_t i = 0; i < txs; ++i) {
      v1::Transaction* tx = block->add_txs();
      tx->set_body(body);
      v1::Signature* sig = tx->add_signatures();
      sig->set_public_key(RandomBytes(rng, 32));
      sig->set_signature(RandomBytes(rng, 64));
    }
    h->set_tx_count(static_cast<uint32_t>(txs));
    block->set_proposer_signature(RandomBytes(rng, 64));
    return message;
  }

  // One Push stream, reopened whenever it is refused or breaks, until `end`.
  void PushStream(uint32_t index, Clock::time_point end) {
    std::mt19937_64 rng(index + 1);
    std::unique_ptr<v1::Peer::Stub> stub = v1::Peer::NewStub(Channel());
    while (Clock::now() < end) {
      grpc::ClientContext context;
      v1::PushSummary summary;
      std::unique_ptr<grpc::ClientWriter<v1::ConsensusMessage>> writer =
          stub->Push(&context, &summary);
      writer->WaitForInitialMetadata();
      auto accepted = context.GetServerInitialMetadata().find(net::kPushAcceptedKey);
      if (accepted == context.GetServerInitialMetadata().end()) {
        c_.streams_refused.fetch_add(1);
        (void)writer->Finish();
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        continue;
      }
      c_.streams_accepted.fetch_add(1);
      uint64_t batch_height = UINT64_MAX;
      std::vector<v1::ConsensusMessage> batch;
      v1::ConsensusMessage proposal;
      bool open = true;
      while (open && Clock::now() < end) {
        const uint64_t height = Height();
        if (height != batch_height) {
          batch = SignedBatch(height, rng);
          proposal = JunkProposal(height, rng);
          batch_height = height;
        }
        // Even streams lead with a large proposal; all send the signed small ones.
        if (index % 2 == 0 && o_.proposals) {
          open = writer->Write(proposal);
          if (open) c_.proposals.fetch_add(1);
          if (open) c_.pushed.fetch_add(1);
        }
        for (const v1::ConsensusMessage& m : batch) {
          if (!open || !o_.signed_small) break;
          open = writer->Write(m);
          if (open) c_.pushed.fetch_add(1);
        }
      }
      writer->WritesDone();
      if (writer->Finish().ok()) c_.push_dropped.fetch_add(summary.dropped());
    }
  }

  void BlockRequests(Clock::time_point end) {
    std::unique_ptr<v1::Peer::Stub> stub = v1::Peer::NewStub(Channel());
    while (Clock::now() < end) {
      v1::GetBlockByIdRequest request;
      {
        std::lock_guard<std::mutex> lock(mu_);
        if (recent_block_id_.empty()) {
          request.set_block_id(std::string(32, 'x'));
        } else {
          request.set_block_id(recent_block_id_);
          request.set_above_height(height_ > limits::consensus_fetch_blocks_max + 1
                                       ? height_ - limits::consensus_fetch_blocks_max - 1
                                       : 1);
        }
      }
      grpc::ClientContext context;
      context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
      v1::GetBlockByIdResponse response;
      grpc::Status s = stub->GetBlock(&context, request, &response);
      c_.block_requests.fetch_add(1);
      if (s.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED) {
        c_.block_requests_refused.fetch_add(1);
      } else if (!s.ok()) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
    }
  }

  const Options o_;
  config::LoadedHome home_;
  const net::CertAndKey own_;
  const uint32_t self_;
  net::PeerInfo target_;
  std::string ca_pem_;
  uint32_t validators_ = 0;
  std::unique_ptr<v1::Peer::Stub> info_stub_;
  std::mutex mu_;
  uint64_t height_ = 0;          // guarded by mu_
  std::string recent_block_id_;  // guarded by mu_
  Counters c_;
};

int Main(int argc, char** argv) {
  Options o;
  CLI::App app("One validator's flood of another's peer service (tests only).");
  app.add_option("--home", o.home, "the flooding validator's home folder")->required();
  app.add_option("--target", o.target, "the validator index to flood")->required();
  app.add_option("--seconds", o.seconds, "how long");
  app.add_option("--streams", o.streams, "Push streams to try to hold open");
  app.add_option("--block-request-threads", o.block_request_threads, "GetBlock callers");
  app.add_option("--proposal-bytes", o.proposal_bytes, "size of each junk proposal")
      ->check(CLI::Range(size_t{1000}, limits::block_bytes_max));
  app.add_option("--proposals", o.proposals, "send junk proposals (true/false)");
  app.add_option("--signed", o.signed_small, "send signed votes and timeouts (true/false)");
  CLI11_PARSE(app, argc, argv);

  Result<config::LoadedHome> home = config::LoadHome(config::HomePaths(o.home), {});
  if (!home.ok() || !home->validator_key.has_value()) {
    std::cerr << "reel-peer-flood: "
              << (home.ok() ? "not a validator's home" : home.status().ToString()) << "\n";
    return 1;
  }
  net::CertAndKey own;
  Result<std::string> cert =
      net::ReadCertPemFile(config::ResolvePath(home->home_dir, home->config.p2p.tls_cert_file));
  Result<std::string> key =
      net::ReadKeyPemFile(config::ResolvePath(home->home_dir, home->config.p2p.tls_key_file));
  if (!cert.ok() || !key.ok()) {
    std::cerr << "reel-peer-flood: cannot read the TLS certificate or key\n";
    return 1;
  }
  own.cert_pem = std::move(cert).value();
  own.key_pem = std::move(key).value();
  Flood flood(o, std::move(home).value(), std::move(own));
  if (Status s = flood.Setup(); !s.ok()) {
    std::cerr << "reel-peer-flood: " << s.ToString() << "\n";
    return 1;
  }
  return flood.Run();
}

}  // namespace
}  // namespace reel

int main(int argc, char** argv) {
  return reel::Main(argc, argv);
}
