// Helpers shared by the consensus unit tests: deterministic keys, an in-memory
// application, hand-built blocks and certificates, and a tiny synchronous
// network that runs n cores to quiescence.
#pragma once

#include <gtest/gtest.h>

#include <deque>
#include <map>
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "base/overloaded.h"
#include "consensus/core.h"
#include "crypto/hash.h"
#include "crypto/keys.h"
#include "crypto/merkle.h"
#include "tests/test_util.h"

namespace reel::consensus::testing {

inline constexpr char kChain[] = "reel-test";

inline crypto::KeyPair TestKey(uint32_t i) {
  std::string seed(32, '\0');
  seed[0] = static_cast<char>(i + 1);
  return std::move(crypto::KeyPair::FromSeed(seed).value());
}

inline ValidatorSet TestValidators(uint32_t n) {
  ValidatorSet v;
  for (uint32_t i = 0; i < n; ++i) v.keys.push_back(TestKey(i).public_key());
  return v;
}

// State root after height h = H(root(h-1) || block id).
class TestApp : public Application {
 public:
  TestApp() { roots_.push_back(crypto::Blake2b256("genesis-state")); }
  Hash32 ExecuteCommitted(const Block& block, const QuorumCert& qc) override {
    EXPECT_EQ(qc.block_id, block.id);
    EXPECT_EQ(block.header.height, roots_.size());
    std::string in(crypto::AsBytes(roots_.back()));
    in.append(crypto::AsBytes(block.id));
    roots_.push_back(crypto::Blake2b256(in));
    executed.push_back(block);
    return roots_.back();
  }
  std::optional<Hash32> StateRootAt(uint64_t height) const override {
    if (height >= roots_.size()) return std::nullopt;
    return roots_[height];
  }
  std::vector<std::string> PayloadForProposal(const std::vector<const Block*>&,
                                              const PayloadLimits&) override {
    return {"tx-" + std::to_string(next_tx_++)};
  }
  Hash32 PayloadLeaf(std::string_view tx) const override { return crypto::Blake2b256(tx); }

  std::vector<Block> executed;
  std::vector<Hash32> roots_;

 private:
  uint64_t next_tx_ = 0;
};

inline Config TestConfig(uint32_t n, uint32_t self, PlantedBug bug = PlantedBug::kNone) {
  Config c;
  c.chain_id = kChain;
  c.epoch = 1;
  c.validators = TestValidators(n);
  c.self_index = self;
  c.round_timeout_ms_initial = 1000;
  c.round_timeout_ms_max = 8000;
  c.bug = bug;
  return c;
}

inline StartState FreshStart() {
  StartState s;
  s.committed_block = MakeGenesisBlock(kChain, 1);
  s.committed_qc = MakeGenesisQc(s.committed_block);
  return s;
}

inline Vote SignVote(uint32_t signer, const Block& b) {
  Vote v;
  v.epoch = b.header.epoch;
  v.round = b.header.round;
  v.height = b.header.height;
  v.block_id = b.id;
  v.signer = signer;
  v.signature = TestKey(signer).SignDigest(VoteDigest(kChain, v.epoch, b.id, v.round));
  return v;
}

inline QuorumCert MakeQc(const Block& b, const std::vector<uint32_t>& signers) {
  QuorumCert qc;
  qc.block_id = b.id;
  qc.round = b.header.round;
  qc.height = b.header.height;
  qc.epoch = b.header.epoch;
  for (uint32_t s : signers) qc.signers.push_back({s, SignVote(s, b).signature});
  return qc;
}

inline TimeoutCert MakeTc(uint64_t round,
                          const std::vector<std::pair<uint32_t, uint64_t>>& entries) {
  TimeoutCert tc;
  tc.epoch = 1;
  tc.round = round;
  for (auto [signer, high_qc_round] : entries) {
    tc.signers.push_back(
        {signer, high_qc_round,
         TestKey(signer).SignDigest(TimeoutDigest(kChain, 1, round, high_qc_round))});
  }
  return tc;
}

// A block of `round` on `parent` (certified by `qc`), with header fields the
// way an honest leader fills them given the roots in `app`.
inline Block MakeBlock(const Block& parent, const QuorumCert& qc, uint64_t round, uint32_t n,
                       const TestApp& app, const std::string& tx = "tx") {
  Block b;
  BlockHeader& h = b.header;
  h.epoch = 1;
  h.round = round;
  h.height = parent.header.height + 1;
  h.parent_id = parent.id;
  h.qc_block_id = qc.block_id;
  h.qc_round = qc.round;
  // The leader the schedule draws for it from the reference application's commits.
  LeaderSchedule schedule(h.epoch, n);
  std::vector<BlockHeader> committed = {MakeGenesisBlock(kChain, h.epoch).header};
  for (const Block& e : app.executed) committed.push_back(e.header);
  schedule.Reset(committed);
  h.proposer_index = schedule.LeaderOf(round, parent.header.committed_height);
  h.timestamp_ms = parent.header.timestamp_ms + 1;
  const BlockHeader& p = parent.header;
  h.committed_height =
      (p.height >= 1 && p.qc_round + 1 == p.round) ? p.height - 1 : p.committed_height;
  h.committed_state_root = app.StateRootAt(h.committed_height).value_or(Hash32{});
  b.qc = qc;
  b.payload = {tx};
  h.tx_root = crypto::MerkleRoot({crypto::Blake2b256(tx)});
  h.tx_count = 1;
  b.Seal(kChain);
  return b;
}

inline Proposal SignProposal(Block b, std::optional<TimeoutCert> tc = std::nullopt) {
  Proposal p{std::move(b), std::move(tc), {}};
  p.signature = TestKey(p.block.header.proposer_index).SignDigest(p.block.id);
  return p;
}

template <typename T>
std::vector<T> ActionsOf(const Step& step) {
  std::vector<T> out;
  for (const Action& a : step.actions) {
    if (auto* x = std::get_if<T>(&a)) out.push_back(*x);
  }
  return out;
}

inline std::vector<Vote> VotesIn(const Step& step) {
  std::vector<Vote> out;
  for (const Send& s : ActionsOf<Send>(step)) {
    if (auto* v = std::get_if<Vote>(&s.message)) out.push_back(*v);
  }
  return out;
}

// n cores on a loss-free, in-order, synchronous network.
class TestNet {
 public:
  explicit TestNet(uint32_t n) {
    for (uint32_t i = 0; i < n; ++i) {
      apps.push_back(std::make_unique<TestApp>());
      cores.push_back(std::make_unique<Core>(TestConfig(n, i), TestKey(i), apps.back().get()));
    }
  }
  void Start() {
    for (uint32_t i = 0; i < cores.size(); ++i) Absorb(i, cores[i]->OnStart(FreshStart(), now));
    Run();
  }
  // Queues what the step sends; this network keeps nothing on disk and fetches nothing.
  void Absorb(uint32_t from, Step step) {
    for (const Action& a : step.actions) {
      std::visit(Overloaded{
                     [&](const Send& s) {
                       queue.push_back({from, s.to, s.message});
                     },
                     [&](const Broadcast& b) {
                       for (uint32_t to = 0; to < cores.size(); ++to) {
                         queue.push_back({from, to, b.message});
                       }
                     },
                     [](const Persist&) {},
                     [](const StoreBlock&) {},
                     [](const Commit&) {},
                     [](const FetchBlocks&) {},
                 },
                 a);
    }
  }
  // Delivers until quiet or `max_messages` were delivered.
  void Run(size_t max_messages = 2000) {
    for (size_t i = 0; i < max_messages && !queue.empty(); ++i) {
      Envelope e = std::move(queue.front());
      queue.pop_front();
      Core& c = *cores[e.to];
      Absorb(e.to, std::visit(Overloaded{
                                  [&](const Proposal& p) { return c.OnProposal(e.from, p); },
                                  [&](const Vote& v) { return c.OnVote(e.from, v); },
                                  [&](const Timeout& t) { return c.OnTimeout(e.from, t); },
                              },
                              e.message));
    }
  }
  void Tick(uint64_t ms) {
    now += ms;
    for (uint32_t i = 0; i < cores.size(); ++i) Absorb(i, cores[i]->OnTick(now));
  }

  struct Envelope {
    uint32_t from, to;
    Message message;
  };
  std::vector<std::unique_ptr<TestApp>> apps;
  std::vector<std::unique_ptr<Core>> cores;
  std::deque<Envelope> queue;
  uint64_t now = 1000;
};

}  // namespace reel::consensus::testing
