// What one faulty validator can do with transaction bytes, at the level of one
// replica's real parts: the consensus core, LedgerApplication, the mempool and the
// store. Issue 10's findings 1 and 2, each shown by a test that failed before the
// fix:
//   - a proposal that carries a body this node holds in its pool, but with other
//     signatures, gets no vote;
//   - what a block executes depends on its bytes alone: a node with the body in its
//     pool, one with an empty pool and one replaying the stored chain reach the same
//     state roots, whatever signatures the block carries.
// (Finding 2's altered sync range is in replica_test.cc, over a real chain.)
#include <gtest/gtest.h>

#include "consensus/core.h"
#include "crypto/merkle.h"
#include "node/ledger/ledger.h"
#include "node/mempool/mempool.h"
#include "node/replica/chain_store.h"
#include "node/replica/ledger_app.h"
#include "node/storage/keys.h"
#include "node/storage/memory_store.h"
#include "reel/v1/api.pb.h"
#include "tests/ledger/ledger_test_util.h"
#include "tests/test_util.h"

namespace reel::replica {
namespace {

using ledger::testing::kChain;
using ledger::testing::World;

constexpr uint32_t kValidators = 4;

crypto::KeyPair ValidatorKey(uint32_t i) {
  return crypto::KeyPair::FromSeed(
             crypto::AsBytes(crypto::Blake2b256("byzantine-test-validator#" + std::to_string(i))))
      .value();
}

// One node's store, pool and application on a chain with MIIT (quorum 1) and a miner.
struct Node {
  std::unique_ptr<storage::KvStore> store = storage::NewMemoryStore();
  mempool::Mempool pool;
  std::unique_ptr<LedgerApplication> app;

  Node(const v1::Genesis& genesis) {
    EXPECT_OK(Initialize(*store, genesis, 0));
    app = std::make_unique<LedgerApplication>(kChain, store.get(), &pool);
    EXPECT_OK(app->Open());
  }
  void Pool(const v1::Transaction& tx) {
    Result<ledger::VerifiedTx> v = ledger::Verify(tx, kChain);
    ASSERT_OK(v.status());
    mempool::PooledTx pooled;
    pooled.verified = std::make_shared<const ledger::VerifiedTx>(std::move(v).value());
    pooled.envelope = std::make_shared<const v1::Transaction>(tx);
    ASSERT_OK(pool.Add(std::move(pooled)));
  }
};

class ByzantineBytesTest : public ::testing::Test {
 protected:
  ByzantineBytesTest() {
    world_.Genesis({});
    genesis_.set_chain_id(kChain);
    genesis_.set_genesis_time_ms(world_.time_ms() - 1000);
    *genesis_.add_orgs() = World::Org("miit", v1::ORG_KIND_MINISTRY, {v1::ROLE_REGULATOR}, world_);
    *genesis_.add_orgs() =
        World::Org("mineco", v1::ORG_KIND_STATE_ENTERPRISE, {v1::ROLE_MINER}, world_);
    for (uint32_t i = 0; i < kValidators; ++i)
      validators_.keys.push_back(ValidatorKey(i).public_key());
  }

  v1::Transaction QuotaTx(int64_t amount) {
    v1::TxBody body = world_.Body("miit");
    v1::SetQuota* q = body.mutable_set_quota();
    q->set_org_id("mineco");
    q->set_year(2026);
    q->set_category(v1::QUOTA_CATEGORY_MINING_LIGHT);
    q->set_amount_g(amount);
    return world_.Sign(body);
  }

  // A block of `txs` on top of `node`'s committed genesis, proposed in round 1 by its
  // leader and signed by it, as a Byzantine leader would.
  consensus::Proposal ProposalOf(Node& node, const std::vector<v1::Transaction>& txs) {
    Result<consensus::StartState> start = LoadStartState(*node.store, kChain);
    EXPECT_OK(start.status());
    const consensus::Block& parent = start->committed_block;
    consensus::Block b;
    b.header.epoch = 0;
    b.header.round = 1;
    b.header.height = 1;
    b.header.parent_id = parent.id;
    b.header.qc_block_id = parent.id;
    b.header.qc_round = 0;
    b.header.proposer_index = 1 % kValidators;  // round-robin before any history
    b.header.timestamp_ms = world_.time_ms();
    b.header.committed_height = 0;
    b.header.committed_state_root = *node.app->StateRootAt(0);
    std::vector<crypto::Hash32> leaves;
    for (const v1::Transaction& tx : txs) {
      b.payload.push_back(tx.SerializeAsString());
      leaves.push_back(node.app->PayloadLeaf(b.payload.back()));
    }
    b.header.tx_root = crypto::MerkleRoot(leaves);
    b.header.tx_count = static_cast<uint32_t>(txs.size());
    b.qc = start->committed_qc;
    b.Seal(kChain);
    consensus::Proposal p{b, std::nullopt, {}};
    p.signature = ValidatorKey(b.header.proposer_index).SignDigest(p.block.id);
    return p;
  }

  // Whether validator 2, running the real core over `node`, votes for `proposal`.
  bool Votes(Node& node, const consensus::Proposal& proposal) {
    consensus::Config config;
    config.chain_id = kChain;
    config.validators = validators_;
    config.self_index = 2;
    consensus::Core core(config, ValidatorKey(2), node.app.get());
    Result<consensus::StartState> start = LoadStartState(*node.store, kChain);
    EXPECT_OK(start.status());
    core.OnStart(*start, world_.time_ms());
    consensus::Step step = core.OnProposal(proposal.block.header.proposer_index, proposal);
    for (const consensus::Action& action : step.actions) {
      if (const auto* send = std::get_if<consensus::Send>(&action)) {
        if (std::holds_alternative<consensus::Vote>(send->message)) return true;
      }
    }
    return false;
  }

  World world_;
  v1::Genesis genesis_;
  consensus::ValidatorSet validators_;
};

v1::Transaction FlipSignature(v1::Transaction tx) {
  (*tx.mutable_signatures(0)->mutable_signature())[7] ^= 1;
  return tx;
}

TEST_F(ByzantineBytesTest, APooledBodyWithOtherSignaturesGetsNoVote) {
  const v1::Transaction good = QuotaTx(1000);
  {
    Node node(genesis_);
    node.Pool(good);
    ASSERT_TRUE(Votes(node, ProposalOf(node, {good}))) << "the control proposal got no vote";
  }
  // The body is in the pool with its good signature; the block carries a forged one.
  {
    Node node(genesis_);
    node.Pool(good);
    EXPECT_FALSE(Votes(node, ProposalOf(node, {FlipSignature(good)})))
        << "a voter vouched for a forged signature because it pooled the body";
  }
  // An extra signature by a key of no one, that does not verify.
  {
    Node node(genesis_);
    node.Pool(good);
    v1::Transaction extra = good;
    v1::Signature* s = extra.add_signatures();
    s->set_public_key(std::string(crypto::AsBytes(ValidatorKey(3).public_key())));
    s->set_signature(std::string(64, '\x01'));
    EXPECT_FALSE(Votes(node, ProposalOf(node, {extra})));
  }
  // And the same without the pool: refused just the same.
  {
    Node node(genesis_);
    EXPECT_FALSE(Votes(node, ProposalOf(node, {FlipSignature(good)})));
  }
  // Signatures stripped: every signature that is there verifies (there is none), but
  // it is no quorum of MIIT's keys. A vote would let the leader commit it as refused
  // and spend its id, shutting out the genuine envelope.
  {
    Node node(genesis_);
    node.Pool(good);
    v1::Transaction stripped = good;
    stripped.clear_signatures();
    EXPECT_FALSE(Votes(node, ProposalOf(node, {stripped})));
  }
  // A valid signature by a key that is not MIIT's.
  {
    Node node(genesis_);
    node.Pool(good);
    v1::Transaction stranger = good;
    const crypto::KeyPair& other = world_.Key("mineco");
    v1::Signature* s = stranger.add_signatures();
    s->set_public_key(std::string(crypto::AsBytes(other.public_key())));
    s->set_signature(
        std::string(crypto::AsBytes(other.SignDigest(crypto::TransactionId(kChain, good.body())))));
    EXPECT_FALSE(Votes(node, ProposalOf(node, {stranger})));
  }
}

TEST_F(ByzantineBytesTest, ExecutionDependsOnTheBlockBytesAloneNotOnThePool) {
  const v1::Transaction good = QuotaTx(2000);
  // The leader strips the signature: a well-formed envelope that verifies (no
  // signature is wrong) but lacks the signer's quorum. Honest voters refuse it now;
  // but should such a block be certified anyway (the signer's keys changed between
  // the vote and the commit), it must execute as refused on every node alike.
  v1::Transaction stripped = good;
  stripped.clear_signatures();

  Node pooled(genesis_);  // holds the body with its good signature
  pooled.Pool(good);
  Node empty(genesis_);  // never saw it
  const consensus::Proposal p = ProposalOf(pooled, {stripped});
  EXPECT_FALSE(pooled.app->ValidatePayload(p.block).ok());
  EXPECT_FALSE(empty.app->ValidatePayload(p.block).ok());

  const crypto::Hash32 root_pooled = pooled.app->ExecuteCommitted(p.block, consensus::QuorumCert{});
  const crypto::Hash32 root_empty = empty.app->ExecuteCommitted(p.block, consensus::QuorumCert{});
  EXPECT_EQ(crypto::HashToHex(root_pooled), crypto::HashToHex(root_empty))
      << "a node executed the pooled signers instead of the block's";

  // The result both recorded is a refusal, and no quota was set.
  for (Node* node : {&pooled, &empty}) {
    Result<std::optional<std::string>> record = node->store->Get(
        storage::keys::TxKey(crypto::AsBytes(crypto::TransactionId(kChain, good.body()))));
    ASSERT_OK(record.status());
    ASSERT_TRUE(record->has_value());
    v1::GetTransactionResponse tx_record;
    ASSERT_TRUE(tx_record.ParseFromString(**record));
    EXPECT_NE(tx_record.result().code(), v1::OK);
  }

  // A node replaying the stored block from genesis reaches the same root.
  Node replay(genesis_);
  Result<v1::Block> stored = ReadCommittedBlock(*pooled.store, 1);
  ASSERT_OK(stored.status());
  consensus::Block block = p.block;
  block.payload.clear();
  for (const v1::Transaction& tx : stored->txs()) block.payload.push_back(tx.SerializeAsString());
  EXPECT_EQ(crypto::HashToHex(replay.app->ExecuteCommitted(block, consensus::QuorumCert{})),
            crypto::HashToHex(root_pooled));
}

TEST_F(ByzantineBytesTest, ALeafCoversEverySignatureByte) {
  Node node(genesis_);
  const v1::Transaction good = QuotaTx(3000);
  const std::string bytes = good.SerializeAsString();
  const crypto::Hash32 leaf = node.app->PayloadLeaf(bytes);
  EXPECT_NE(leaf, node.app->PayloadLeaf(FlipSignature(good).SerializeAsString()));
  v1::Transaction stripped = good;
  stripped.clear_signatures();
  EXPECT_NE(leaf, node.app->PayloadLeaf(stripped.SerializeAsString()));
  v1::Transaction doubled = good;
  *doubled.add_signatures() = good.signatures(0);
  EXPECT_NE(leaf, node.app->PayloadLeaf(doubled.SerializeAsString()));
  // Neither protobuf's field order nor unknown fields change it: it is of the fields.
  v1::Transaction same;
  ASSERT_TRUE(same.ParseFromString(bytes));
  EXPECT_EQ(leaf, node.app->PayloadLeaf(same.SerializeAsString()));
}

}  // namespace
}  // namespace reel::replica
