// Epoch-change proofs (node/replica/epoch_proof.h): chains of one to three epoch changes
// from genesis verify, and every forgery is refused. The blocks, QCs and commit proofs are
// real: headers sealed by the consensus types, QCs signed by a quorum of each epoch's
// validators, whose keys derive deterministically from their number.
#include "node/replica/epoch_proof.h"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include "base/bytes.h"
#include "consensus/types.h"
#include "crypto/merkle.h"
#include "crypto/signing.h"
#include "node/net/tls.h"
#include "node/replica/codec.h"
#include "node/replica/commit_proof.h"
#include "node/storage/keys.h"
#include "node/storage/memory_store.h"
#include "tests/test_util.h"

namespace reel::replica {
namespace {

constexpr std::string_view kChain = "reel-epochs";

// Validator k's key: the same k is the same validator in every epoch it belongs to.
const crypto::KeyPair& Key(int k) {
  static std::vector<crypto::KeyPair>* keys = [] {
    auto* made = new std::vector<crypto::KeyPair>();
    for (int i = 0; i < 16; ++i) {
      const crypto::Hash32 seed =
          crypto::Blake2b256("epoch proof test validator " + std::to_string(i));
      Result<crypto::KeyPair> key = crypto::KeyPair::FromSeed(crypto::AsBytes(seed));
      made->push_back(std::move(key).value());
    }
    return made;
  }();
  return keys->at(static_cast<size_t>(k));
}

v1::Validator ValidatorOf(int k) {
  v1::Validator v;
  v.set_name("node-" + std::to_string(k));
  v.set_org_id("org-" + std::to_string(k));
  v.set_public_key(std::string(crypto::AsBytes(Key(k).public_key())));
  v.set_address("10.0.0." + std::to_string(k) + ":26656");
  v.set_tls_cert_sha256(
      std::string(crypto::AsBytes(crypto::Blake2b256("cert " + std::to_string(k)))));
  return v;
}

v1::ConsensusParams Params(uint64_t timeout_ms) {
  v1::ConsensusParams c;
  c.set_round_timeout_ms(timeout_ms);
  c.set_round_timeout_max_ms(30'000);
  c.set_round_timeout_backoff_percent(150);
  c.set_block_txs_max(2'000);
  return c;
}

v1::ValidatorSet SetOf(const std::vector<int>& members, uint64_t epoch, uint64_t start_height,
                       uint64_t timeout_ms = 1'000) {
  v1::ValidatorSet set;
  for (int k : members) *set.add_validators() = ValidatorOf(k);
  *set.mutable_consensus() = Params(timeout_ms);
  set.set_epoch(epoch);
  set.set_start_height(start_height);
  return set;
}

v1::Genesis MakeGenesis(const std::vector<int>& members) {
  v1::Genesis genesis;
  genesis.set_chain_id(std::string(kChain));
  genesis.set_genesis_time_ms(1'735'660'800'000);
  for (int k : members) *genesis.add_validators() = ValidatorOf(k);
  *genesis.mutable_consensus() = Params(1'000);
  return genesis;
}

// One epoch as the test world runs it.
struct Epoch {
  uint64_t number = 0;
  std::vector<int> members;  // key numbers, in index order
  crypto::Hash32 root_id{};
  uint64_t root_height = 0;
  uint64_t root_time_ms = 0;

  consensus::ValidatorSet Keys() const {
    consensus::ValidatorSet set;
    for (int k : members) set.keys.push_back(Key(k).public_key());
    return set;
  }
  EpochState State() const {
    EpochState s;
    s.epoch = number;
    s.root_id = root_id;
    s.root_height = root_height;
    s.set = SetOf(members, number, root_height);
    s.keys = Keys();
    return s;
  }
  // The signers of a certificate: the first quorum of the set.
  std::vector<uint32_t> Quorum() const {
    std::vector<uint32_t> q;
    for (uint32_t i = 0; i < Keys().quorum(); ++i) q.push_back(i);
    return q;
  }
};

Epoch GenesisEpoch(const v1::Genesis& genesis, const std::vector<int>& members) {
  Epoch e;
  e.members = members;
  e.root_id = consensus::MakeGenesisBlock(genesis.chain_id(), 0).id;
  e.root_time_ms = genesis.genesis_time_ms();
  return e;
}

consensus::QuorumCert SignQc(const Epoch& epoch, const consensus::Block& block) {
  consensus::QuorumCert qc;
  qc.block_id = block.id;
  qc.round = block.header.round;
  qc.height = block.header.height;
  qc.epoch = epoch.number;
  const crypto::Hash32 digest =
      consensus::VoteDigest(kChain, epoch.number, block.id, block.header.round);
  for (uint32_t i : epoch.Quorum()) {
    qc.signers.push_back({i, Key(epoch.members[i]).SignDigest(digest)});
  }
  return qc;
}

consensus::Block Child(const Epoch& epoch, const consensus::Block& parent,
                       const consensus::QuorumCert& parent_qc, uint64_t round) {
  consensus::Block b;
  b.header.epoch = epoch.number;
  b.header.round = round;
  b.header.height = parent.header.height + 1;
  b.header.parent_id = parent.id;
  b.header.qc_block_id = parent.id;
  b.header.qc_round = parent_qc.round;
  b.header.tx_root = crypto::MerkleRoot({});
  b.header.proposer_index = static_cast<uint32_t>(round % epoch.members.size());
  b.header.timestamp_ms = parent.header.timestamp_ms + 1'000;
  b.qc = parent_qc;
  b.Seal(kChain);
  return b;
}

// The blocks of one epoch: the root (as a block of the epoch before, only its id and
// height matter), X (round 1) and B (round 2), then B's descendants up to D' with the QCs
// that commit B. With a gap, B's child C is of round 4 (round 3 timed out), so C is D
// and its child, round 5, is D': a proof of two descendants.
struct EpochBlocks {
  consensus::Block x, b;
  v1::CommitProof commit_proof;  // of B
  std::vector<consensus::Block> descendants;
};

EpochBlocks MakeBlocks(const Epoch& epoch, bool gap = false) {
  consensus::Block root;  // stands in for the epoch's root: same id and height
  root.id = epoch.root_id;
  root.header.height = epoch.root_height;
  root.header.timestamp_ms = epoch.root_time_ms;
  EpochBlocks out;
  out.x =
      Child(epoch, root, consensus::MakeRootQc(epoch.number, epoch.root_id, epoch.root_height), 1);
  consensus::QuorumCert x_qc = SignQc(epoch, out.x);
  out.b = Child(epoch, out.x, x_qc, 2);
  consensus::QuorumCert b_qc = SignQc(epoch, out.b);
  consensus::Commit commit;
  if (!gap) {
    consensus::Block c = Child(epoch, out.b, b_qc, 3);
    out.descendants = {c};
    commit.block_qc = b_qc;
    commit.child_qc = SignQc(epoch, c);
  } else {
    consensus::Block c = Child(epoch, out.b, b_qc, 4);
    consensus::QuorumCert c_qc = SignQc(epoch, c);
    consensus::Block d = Child(epoch, c, c_qc, 5);
    out.descendants = {c, d};
    commit.block_qc = c_qc;
    commit.child_qc = SignQc(epoch, d);
  }
  for (const consensus::Block& d : out.descendants) commit.descendants.push_back(d.header);
  out.commit_proof = CommitProofOf(commit);
  return out;
}

// An epoch's end: its blocks, the proof and the statement signed.
struct Ending {
  EpochBlocks blocks;
  v1::EpochChangeProof proof;
  EpochChangeStatement statement;
};

void AddSignature(v1::EpochChangeProof& proof, uint32_t index, const crypto::KeyPair& key,
                  std::string_view chain_id, const EpochChangeStatement& statement) {
  v1::ValidatorSignature* s = proof.add_signatures();
  s->set_validator_index(index);
  s->set_signature(
      std::string(crypto::AsBytes(key.SignDigest(EpochChangeDigest(chain_id, statement)))));
}

Ending End(const Epoch& epoch, const std::vector<int>& next_members, bool gap = false) {
  Ending end;
  end.blocks = MakeBlocks(epoch, gap);
  end.proof.set_epoch(epoch.number);
  *end.proof.mutable_header() = ToProto(end.blocks.b.header);
  *end.proof.mutable_commit_proof() = end.blocks.commit_proof;
  *end.proof.mutable_next() =
      SetOf(next_members, epoch.number + 1, end.blocks.b.header.height, 1'000 + epoch.number);
  Result<EpochChangeStatement> statement =
      EpochChangeStatementOf(kChain, end.proof.header(), end.proof.next());
  EXPECT_OK(statement);
  end.statement = *statement;
  for (uint32_t i : epoch.Quorum())
    AddSignature(end.proof, i, Key(epoch.members[i]), kChain, end.statement);
  return end;
}

Epoch After(const Epoch& epoch, const Ending& end, const std::vector<int>& next_members) {
  Epoch next;
  next.number = epoch.number + 1;
  next.members = next_members;
  next.root_id = end.blocks.b.id;
  next.root_height = end.blocks.b.header.height;
  next.root_time_ms = end.blocks.b.header.timestamp_ms;
  return next;
}

// Genesis with validators 0..3, then: one joins (5 validators), two more join (7), and
// validator 0 leaves as validator 7 joins (a key replaced). The second ending's proof
// has two descendant headers.
struct Chain {
  v1::Genesis genesis;
  std::vector<Epoch> epochs;  // epochs[e] is epoch e
  std::vector<Ending> ends;   // ends[e] ended epoch e
  std::vector<v1::EpochChangeProof> Proofs(size_t count) const {
    std::vector<v1::EpochChangeProof> proofs;
    for (size_t i = 0; i < count; ++i) proofs.push_back(ends[i].proof);
    return proofs;
  }
  consensus::VerifyContext Context(size_t e, EpochState& holder) const {
    holder = epochs[e].State();
    return holder.Context(kChain);
  }
};

Chain MakeChain() {
  const std::vector<std::vector<int>> sets = {
      {0, 1, 2, 3}, {0, 1, 2, 3, 4}, {0, 1, 2, 3, 4, 5, 6}, {7, 1, 2, 3, 4, 5, 6}};
  Chain chain;
  chain.genesis = MakeGenesis(sets[0]);
  chain.epochs.push_back(GenesisEpoch(chain.genesis, sets[0]));
  for (size_t e = 0; e + 1 < sets.size(); ++e) {
    chain.ends.push_back(End(chain.epochs[e], sets[e + 1], /*gap=*/e == 1));
    chain.epochs.push_back(After(chain.epochs[e], chain.ends[e], sets[e + 1]));
  }
  return chain;
}

// Refused with InvalidArgument whose message holds `words`.
::testing::AssertionResult Refused(const Status& status, std::string_view words) {
  if (status.ok()) return ::testing::AssertionFailure() << "accepted";
  if (status.code() != Code::kInvalidArgument) {
    return ::testing::AssertionFailure()
           << "refused, but not as InvalidArgument: " << status.ToString();
  }
  if (status.message().find(words) == std::string::npos) {
    return ::testing::AssertionFailure() << "refused for another reason: " << status.ToString();
  }
  return ::testing::AssertionSuccess();
}
template <typename T>
::testing::AssertionResult Refused(const Result<T>& result, std::string_view words) {
  if (result.ok()) return ::testing::AssertionFailure() << "accepted";
  return Refused(result.status(), words);
}

// Checks one proof with the keys of the epoch it ends.
Result<v1::ValidatorSet> VerifyEnd(const Chain& chain, size_t e,
                                   const v1::EpochChangeProof& proof) {
  EpochState holder;
  return VerifyEpochChangeProof(chain.Context(e, holder), proof);
}

// --- Valid chains --------------------------------------------------------------------

TEST(EpochChainTest, ChainsOfZeroToThreeEpochChangesVerify) {
  const Chain chain = MakeChain();
  for (size_t count = 0; count <= 3; ++count) {
    SCOPED_TRACE("proofs: " + std::to_string(count));
    // Through the wire: what a client gets is bytes.
    std::vector<v1::EpochChangeProof> proofs;
    for (const v1::EpochChangeProof& p : chain.Proofs(count)) {
      v1::EpochChangeProof parsed;
      ASSERT_TRUE(parsed.ParseFromString(p.SerializeAsString()));
      proofs.push_back(parsed);
    }
    Result<EpochState> state = VerifyEpochChain(chain.genesis, proofs);
    ASSERT_OK(state);
    const Epoch& want = chain.epochs[count];
    EXPECT_EQ(state->epoch, count);
    EXPECT_EQ(state->root_id, want.root_id);
    EXPECT_EQ(state->root_height, want.root_height);
    EXPECT_EQ(state->keys.keys, want.Keys().keys);
    const v1::ValidatorSet expected =
        count == 0 ? SetOf(want.members, 0, 0) : chain.ends[count - 1].proof.next();
    EXPECT_EQ(state->set.SerializeAsString(), expected.SerializeAsString());
  }
}

// What the chain leads to checks the current epoch's commit proofs, and only those.
TEST(EpochChainTest, TheEpochReachedChecksItsOwnCommitProofs) {
  const Chain chain = MakeChain();
  Result<EpochState> state = VerifyEpochChain(chain.genesis, chain.Proofs(3));
  ASSERT_OK(state);
  const EpochBlocks blocks = MakeBlocks(chain.epochs[3]);
  EXPECT_OK(VerifyCommitProof(blocks.b.id, blocks.commit_proof, state->Context(kChain)));
  Result<EpochState> older = VerifyEpochChain(chain.genesis, chain.Proofs(2));
  ASSERT_OK(older);
  EXPECT_FALSE(VerifyCommitProof(blocks.b.id, blocks.commit_proof, older->Context(kChain)).ok());
}

TEST(EpochChangeProofTest, EachProofVerifiesWithItsEpochsKeysAndGivesTheNextSet) {
  const Chain chain = MakeChain();
  for (size_t e = 0; e < 3; ++e) {
    Result<v1::ValidatorSet> next = VerifyEnd(chain, e, chain.ends[e].proof);
    ASSERT_OK(next);
    EXPECT_EQ(next->SerializeAsString(), chain.ends[e].proof.next().SerializeAsString());
  }
}

// More signatures than a quorum, in any order, are fine; the certificate is the quorum.
TEST(EpochChangeProofTest, EverySignerInAnyOrderVerifies) {
  const Chain chain = MakeChain();
  const Epoch& epoch = chain.epochs[2];
  v1::EpochChangeProof proof = chain.ends[2].proof;
  proof.clear_signatures();
  for (uint32_t i = static_cast<uint32_t>(epoch.members.size()); i-- > 0;) {
    AddSignature(proof, i, Key(epoch.members[i]), kChain, chain.ends[2].statement);
  }
  EXPECT_OK(VerifyEnd(chain, 2, proof));
}

// --- Forgeries -------------------------------------------------------------------------

TEST(EpochChangeProofTest, OneSignerShortIsRefused) {
  const Chain chain = MakeChain();
  for (size_t e = 0; e < 3; ++e) {
    v1::EpochChangeProof proof = chain.ends[e].proof;
    proof.mutable_signatures()->RemoveLast();
    EXPECT_TRUE(Refused(VerifyEnd(chain, e, proof), "below the quorum")) << "epoch " << e;
    proof.clear_signatures();
    EXPECT_TRUE(Refused(VerifyEnd(chain, e, proof), "signed by 0 of")) << "epoch " << e;
  }
}

TEST(EpochChangeProofTest, ASignerCountedTwiceIsRefused) {
  const Chain chain = MakeChain();
  for (size_t e = 0; e < 3; ++e) {
    v1::EpochChangeProof proof = chain.ends[e].proof;
    // One short of a quorum, made up by repeating the first signature.
    proof.mutable_signatures()->RemoveLast();
    *proof.add_signatures() = proof.signatures(0);
    EXPECT_TRUE(Refused(VerifyEnd(chain, e, proof), "named twice")) << "epoch " << e;
    // Not even on top of a full quorum.
    proof = chain.ends[e].proof;
    *proof.add_signatures() = proof.signatures(1);
    EXPECT_TRUE(Refused(VerifyEnd(chain, e, proof), "named twice")) << "epoch " << e;
  }
}

// One member's signature replaced by its signature of another statement.
void ExpectOneForgedSignatureRefused(const Chain& chain, size_t e, std::string_view chain_id,
                                     const EpochChangeStatement& signed_statement,
                                     const std::string& what) {
  v1::EpochChangeProof proof = chain.ends[e].proof;
  const uint32_t index = proof.signatures(0).validator_index();
  proof.mutable_signatures()->DeleteSubrange(0, 1);
  AddSignature(proof, index, Key(chain.epochs[e].members[index]), chain_id, signed_statement);
  EXPECT_TRUE(Refused(VerifyEnd(chain, e, proof), "does not verify")) << what;
}

TEST(EpochChangeProofTest, ASignatureOfAnotherEpochChainBlockOrNextSetIsRefused) {
  const Chain chain = MakeChain();
  for (size_t e = 0; e < 3; ++e) {
    SCOPED_TRACE("epoch " + std::to_string(e));
    const EpochChangeStatement good = chain.ends[e].statement;
    EpochChangeStatement other = good;
    other.epoch = e + 1;
    ExpectOneForgedSignatureRefused(chain, e, kChain, other, "another epoch");
    ExpectOneForgedSignatureRefused(chain, e, "reel-other", good, "another chain");
    other = good;
    other.block_id = chain.ends[e].blocks.x.id;  // a block of the same epoch
    ExpectOneForgedSignatureRefused(chain, e, kChain, other, "another block");
    other = good;
    other.height = good.height + 1;
    ExpectOneForgedSignatureRefused(chain, e, kChain, other, "another height");
    other = good;
    v1::ValidatorSet next = chain.ends[e].proof.next();
    next.mutable_validators()->RemoveLast();
    other.next_digest = *ValidatorSetDigest(next);
    ExpectOneForgedSignatureRefused(chain, e, kChain, other, "another next set");
    // The same signature bytes as a vote or timeout of the epoch do not pass either.
    v1::EpochChangeProof proof = chain.ends[e].proof;
    const crypto::Hash32 vote = consensus::VoteDigest(kChain, e, good.block_id, 2);
    proof.mutable_signatures(0)->set_signature(std::string(crypto::AsBytes(
        Key(chain.epochs[e].members[proof.signatures(0).validator_index()]).SignDigest(vote))));
    EXPECT_TRUE(Refused(VerifyEnd(chain, e, proof), "does not verify")) << "a vote's signature";
  }
}

TEST(EpochChangeProofTest, ANonMembersSignatureIsRefused) {
  const Chain chain = MakeChain();
  // Validator 7 joins in epoch 3, validator 4 in epoch 1: in epoch 0 neither is a member.
  for (int outsider : {7, 4}) {
    v1::EpochChangeProof proof = chain.ends[0].proof;
    // At a member's index: its key is not the outsider's.
    proof.mutable_signatures()->RemoveLast();
    AddSignature(proof, 2, Key(outsider), kChain, chain.ends[0].statement);
    EXPECT_TRUE(Refused(VerifyEnd(chain, 0, proof), "does not verify")) << outsider;
    // At an index past the set.
    proof = chain.ends[0].proof;
    proof.mutable_signatures()->RemoveLast();
    AddSignature(proof, 4, Key(outsider), kChain, chain.ends[0].statement);
    EXPECT_TRUE(Refused(VerifyEnd(chain, 0, proof), "not one of the 4")) << outsider;
  }
  // A validator removed at the end of epoch 2 (validator 0) cannot sign for epoch 3.
  EpochState three = chain.epochs[3].State();
  Ending end3 = End(chain.epochs[3], {7, 1, 2, 3, 4, 5, 6});
  v1::EpochChangeProof proof = end3.proof;
  proof.mutable_signatures()->DeleteSubrange(0, 1);
  AddSignature(proof, 0, Key(0), kChain, end3.statement);
  EXPECT_TRUE(Refused(VerifyEpochChangeProof(three.Context(kChain), proof), "does not verify"));
  EXPECT_OK(VerifyEpochChangeProof(three.Context(kChain), end3.proof));
}

TEST(EpochChangeProofTest, ANextSetChangedAfterSigningIsRefused) {
  const Chain chain = MakeChain();
  const v1::EpochChangeProof good = chain.ends[1].proof;
  using Change = void (*)(v1::ValidatorSet&);
  const std::vector<std::pair<std::string, Change>> changes = {
      {"validator added", [](v1::ValidatorSet& s) { *s.add_validators() = ValidatorOf(9); }},
      {"validator removed", [](v1::ValidatorSet& s) { s.mutable_validators()->RemoveLast(); }},
      {"order", [](v1::ValidatorSet& s) { s.mutable_validators()->SwapElements(0, 1); }},
      {"key",
       [](v1::ValidatorSet& s) {
         s.mutable_validators(1)->set_public_key(std::string(crypto::AsBytes(Key(9).public_key())));
       }},
      {"name", [](v1::ValidatorSet& s) { s.mutable_validators(1)->set_name("evil"); }},
      {"org", [](v1::ValidatorSet& s) { s.mutable_validators(1)->set_org_id("evil"); }},
      {"address", [](v1::ValidatorSet& s) { s.mutable_validators(1)->set_address("6.6.6.6:1"); }},
      {"certificate",
       [](v1::ValidatorSet& s) {
         s.mutable_validators(1)->set_tls_cert_sha256(std::string(32, '\x66'));
       }},
      {"round timeout",
       [](v1::ValidatorSet& s) { s.mutable_consensus()->set_round_timeout_ms(7); }},
      {"backoff",
       [](v1::ValidatorSet& s) { s.mutable_consensus()->set_round_timeout_backoff_percent(101); }},
      {"block bytes", [](v1::ValidatorSet& s) { s.mutable_consensus()->set_block_bytes_max(1); }},
      {"idle interval",
       [](v1::ValidatorSet& s) { s.mutable_consensus()->set_idle_block_interval_ms(1); }},
  };
  for (const auto& [what, change] : changes) {
    v1::EpochChangeProof proof = good;
    change(*proof.mutable_next());
    EXPECT_TRUE(Refused(VerifyEnd(chain, 1, proof), "does not verify")) << what;
  }
  // The epoch and start height are checked before any signature.
  v1::EpochChangeProof proof = good;
  proof.mutable_next()->set_epoch(3);
  EXPECT_TRUE(Refused(VerifyEnd(chain, 1, proof), "the next set is of epoch 3, not epoch 2"));
  proof = good;
  proof.mutable_next()->set_start_height(good.header().height() + 1);
  EXPECT_TRUE(Refused(VerifyEnd(chain, 1, proof), "the next set starts at height"));
  // A malformed set: no validators, a key twice, a short key, no certificate.
  proof = good;
  proof.mutable_next()->clear_validators();
  EXPECT_TRUE(Refused(VerifyEnd(chain, 1, proof), "a set of 0 validators"));
  proof = good;
  *proof.mutable_next()->mutable_validators(1) = ValidatorOf(0);
  EXPECT_TRUE(Refused(VerifyEnd(chain, 1, proof), "one key for two validators"));
  proof = good;
  proof.mutable_next()->mutable_validators(1)->set_public_key("short");
  EXPECT_TRUE(Refused(VerifyEnd(chain, 1, proof), "no 32-byte key"));
  proof = good;
  proof.mutable_next()->mutable_validators(1)->clear_tls_cert_sha256();
  EXPECT_TRUE(Refused(VerifyEnd(chain, 1, proof), "names no certificate"));
}

TEST(EpochChainTest, EpochsSkippedOrOutOfOrderAreRefused) {
  const Chain chain = MakeChain();
  const auto& p = chain.ends;
  const std::vector<std::pair<std::string, std::vector<v1::EpochChangeProof>>> chains = {
      {"starts at epoch 1", {p[1].proof}},
      {"skips epoch 1", {p[0].proof, p[2].proof}},
      {"swapped", {p[1].proof, p[0].proof}},
      {"repeated", {p[0].proof, p[0].proof}},
      {"reversed", {p[2].proof, p[1].proof, p[0].proof}},
      {"a duplicate at the end", {p[0].proof, p[1].proof, p[2].proof, p[2].proof}},
  };
  for (const auto& [what, proofs] : chains) {
    EXPECT_TRUE(Refused(VerifyEpochChain(chain.genesis, proofs), "one per epoch from epoch 0"))
        << what;
  }
  // A proof relabelled to the epoch the chain expects is not that epoch's proof.
  v1::EpochChangeProof relabelled = p[2].proof;
  relabelled.set_epoch(1);
  EXPECT_TRUE(Refused(VerifyEpochChain(chain.genesis, {p[0].proof, relabelled}), "proof 1"));
}

TEST(EpochChangeProofTest, AProofCheckedWithAnotherEpochsKeysIsRefused) {
  const Chain chain = MakeChain();
  for (size_t e = 0; e < 3; ++e) {
    for (size_t other = 0; other < 4; ++other) {
      if (other == e) continue;
      EXPECT_TRUE(Refused(VerifyEnd(chain, other, chain.ends[e].proof), "checked with the keys of"))
          << "proof of " << e << " with the keys of " << other;
    }
  }
  // Epoch 2's number with epoch 3's keys (validator 7 in place of 0 at index 0): the
  // signatures at index 0 are by another key.
  EpochState wrong = chain.epochs[3].State();
  wrong.epoch = 2;
  wrong.root_id = chain.epochs[2].root_id;
  EXPECT_TRUE(Refused(VerifyEpochChangeProof(wrong.Context(kChain), chain.ends[2].proof),
                      "bad signature in QC"));
  // Epoch 2's keys with epoch 1's number: its first five keys are epoch 1's, which
  // signed the QCs, but a set of seven needs five signers where four signed.
  wrong = chain.epochs[2].State();
  wrong.epoch = 1;
  wrong.root_id = chain.epochs[1].root_id;
  EXPECT_TRUE(
      Refused(VerifyEpochChangeProof(wrong.Context(kChain), chain.ends[1].proof), "below quorum"));
  // A proof made for epoch 1 by a set of keys that is not epoch 1's, of the same size.
  const Epoch impostor{1,
                       {8, 9, 10, 11, 12},
                       chain.epochs[1].root_id,
                       chain.epochs[1].root_height,
                       chain.epochs[1].root_time_ms};
  const Ending forged = End(impostor, {8, 9, 10, 11});
  EXPECT_TRUE(Refused(VerifyEnd(chain, 1, forged.proof), "bad signature in QC"));
}

TEST(EpochChangeProofTest, AHeaderThatDoesNotMatchTheCommitProofIsRefused) {
  const Chain chain = MakeChain();
  for (size_t e = 0; e < 3; ++e) {
    SCOPED_TRACE("epoch " + std::to_string(e));
    const v1::EpochChangeProof good = chain.ends[e].proof;
    // Another block of the epoch (B's parent), with B's commit proof.
    v1::EpochChangeProof proof = good;
    *proof.mutable_header() = ToProto(chain.ends[e].blocks.x.header);
    proof.mutable_next()->set_start_height(proof.header().height());
    EXPECT_TRUE(Refused(VerifyEnd(chain, e, proof), "commit proof"));
    // B with a field changed: another id.
    proof = good;
    proof.mutable_header()->set_timestamp_ms(good.header().timestamp_ms() + 1);
    EXPECT_TRUE(Refused(VerifyEnd(chain, e, proof), "commit proof"));
    proof = good;
    (*proof.mutable_header()->mutable_committed_state_root())[0] ^= 1;
    EXPECT_TRUE(Refused(VerifyEnd(chain, e, proof), "commit proof"));
    // The commit proof of another epoch's end.
    proof = good;
    *proof.mutable_commit_proof() = chain.ends[(e + 1) % 3].proof.commit_proof();
    EXPECT_TRUE(Refused(VerifyEnd(chain, e, proof), "commit proof"));
    // A header of another epoch, and one whose hash fields are not 32 bytes.
    proof = good;
    proof.mutable_header()->set_epoch(e + 1);
    EXPECT_TRUE(Refused(VerifyEnd(chain, e, proof), "the header is of epoch"));
    proof = good;
    proof.mutable_header()->set_parent_id("short");
    EXPECT_TRUE(Refused(VerifyEnd(chain, e, proof), "header"));
    // No commit proof at all.
    proof = good;
    proof.clear_commit_proof();
    EXPECT_TRUE(Refused(VerifyEnd(chain, e, proof), "no descendant headers"));
  }
}

TEST(EpochChainTest, ABadGenesisIsRefused) {
  Chain chain = MakeChain();
  v1::Genesis genesis = chain.genesis;
  genesis.clear_validators();
  EXPECT_TRUE(Refused(VerifyEpochChain(genesis, {}), "genesis"));
  genesis = chain.genesis;
  genesis.set_chain_id("");
  EXPECT_TRUE(Refused(VerifyEpochChain(genesis, {}), "chain_id"));
  // Another chain's genesis: its genesis block, so epoch 0's root, differs, and every
  // signature is over another chain id.
  genesis = chain.genesis;
  genesis.set_chain_id("reel-other");
  EXPECT_TRUE(Refused(VerifyEpochChain(genesis, chain.Proofs(1)), "proof 0"));
}

// --- Votes and the aggregator ----------------------------------------------------------

struct AggregatorWorld {
  Chain chain = MakeChain();
  size_t e = 2;  // seven validators: quorum 5
  const Epoch& epoch() const { return chain.epochs[e]; }
  const Ending& end() const { return chain.ends[e]; }
  v1::EpochChangeVote VoteBy(uint32_t i) const {
    return SignEpochChange(kChain, end().statement, i, Key(epoch().members[i]));
  }
  EpochChangeAggregator Make() const {
    return EpochChangeAggregator(std::string(kChain), epoch().State());
  }
  Result<std::optional<v1::EpochChangeProof>> SetStatement(EpochChangeAggregator& a) const {
    return a.SetStatement(end().proof.header(), end().proof.commit_proof(), end().proof.next());
  }
};

TEST(EpochChangeAggregatorTest, AQuorumOfVotesMakesAProofOnce) {
  const AggregatorWorld w;
  EpochChangeAggregator a = w.Make();
  Result<std::optional<v1::EpochChangeProof>> set = w.SetStatement(a);
  ASSERT_OK(set);
  EXPECT_FALSE(set->has_value());
  for (uint32_t i : {6u, 1u, 3u, 0u}) {
    Result<std::optional<v1::EpochChangeProof>> r = a.Add(w.VoteBy(i));
    ASSERT_OK(r);
    EXPECT_FALSE(r->has_value()) << i;
  }
  // The same vote again counts once.
  ASSERT_OK(a.Add(w.VoteBy(3)));
  EXPECT_EQ(a.SignersOf(w.end().statement), 4u);
  EXPECT_FALSE(a.proof().has_value());
  Result<std::optional<v1::EpochChangeProof>> fifth = a.Add(w.VoteBy(4));
  ASSERT_OK(fifth);
  ASSERT_TRUE(fifth->has_value());
  const v1::EpochChangeProof& proof = **fifth;
  EXPECT_EQ(proof.signatures_size(), 5);
  for (int i = 1; i < proof.signatures_size(); ++i) {
    EXPECT_LT(proof.signatures(i - 1).validator_index(), proof.signatures(i).validator_index());
  }
  Result<v1::ValidatorSet> next = VerifyEnd(w.chain, w.e, proof);
  ASSERT_OK(next);
  EXPECT_EQ(next->SerializeAsString(), w.end().proof.next().SerializeAsString());
  // Made once: later votes return nothing, the proof stays.
  Result<std::optional<v1::EpochChangeProof>> sixth = a.Add(w.VoteBy(5));
  ASSERT_OK(sixth);
  EXPECT_FALSE(sixth->has_value());
  ASSERT_TRUE(a.proof().has_value());
  EXPECT_EQ(a.proof()->SerializeAsString(), proof.SerializeAsString());
  // And it extends the chain from genesis like the world's own proof.
  std::vector<v1::EpochChangeProof> proofs = w.chain.Proofs(2);
  proofs.push_back(proof);
  Result<EpochState> state = VerifyEpochChain(w.chain.genesis, proofs);
  ASSERT_OK(state);
  EXPECT_EQ(state->epoch, 3u);
}

TEST(EpochChangeAggregatorTest, VotesBeforeTheStatementCountWhenItIsSet) {
  const AggregatorWorld w;
  EpochChangeAggregator a = w.Make();
  for (uint32_t i = 0; i < 6; ++i) {
    Result<std::optional<v1::EpochChangeProof>> r = a.Add(w.VoteBy(i));
    ASSERT_OK(r);
    EXPECT_FALSE(r->has_value()) << "no proof without this node's statement";
  }
  Result<std::optional<v1::EpochChangeProof>> set = w.SetStatement(a);
  ASSERT_OK(set);
  ASSERT_TRUE(set->has_value());
  EXPECT_EQ((*set)->signatures_size(), 6);
  EXPECT_OK(VerifyEnd(w.chain, w.e, **set));
  // Setting the same statement again is harmless.
  ASSERT_OK(w.SetStatement(a));
}

TEST(EpochChangeAggregatorTest, VotesForAnotherStatementDoNotCount) {
  const AggregatorWorld w;
  EpochChangeAggregator a = w.Make();
  ASSERT_OK(w.SetStatement(a));
  EpochChangeStatement other = w.end().statement;
  other.next_digest = crypto::Blake2b256("another next set");
  for (uint32_t i = 0; i < 7; ++i) {
    v1::EpochChangeVote vote = SignEpochChange(kChain, other, i, Key(w.epoch().members[i]));
    Result<std::optional<v1::EpochChangeProof>> r = a.Add(vote);
    ASSERT_OK(r) << "a well-signed vote for another statement is held";
    EXPECT_FALSE(r->has_value());
  }
  EXPECT_EQ(a.SignersOf(other), 7u);
  EXPECT_EQ(a.SignersOf(w.end().statement), 0u);
  EXPECT_FALSE(a.proof().has_value());
}

TEST(EpochChangeAggregatorTest, AValidatorThatSignsTwoStatementsIsRefused) {
  const AggregatorWorld w;
  EpochChangeAggregator a = w.Make();
  ASSERT_OK(w.SetStatement(a));
  EpochChangeStatement other = w.end().statement;
  other.block_id = w.end().blocks.x.id;
  ASSERT_OK(a.Add(SignEpochChange(kChain, other, 2, Key(w.epoch().members[2]))));
  // However many statements a peer makes up, it holds one place.
  for (int k = 0; k < 50; ++k) {
    other.height = 1000 + static_cast<uint64_t>(k);
    EXPECT_TRUE(Refused(a.Add(SignEpochChange(kChain, other, 2, Key(w.epoch().members[2]))),
                        "signed two epoch-change statements"));
  }
  EXPECT_TRUE(Refused(a.Add(w.VoteBy(2)), "signed two"));
  EXPECT_EQ(a.SignersOf(w.end().statement), 0u);
}

TEST(EpochChangeAggregatorTest, BadVotesAreRefused) {
  const AggregatorWorld w;
  EpochChangeAggregator a = w.Make();
  ASSERT_OK(w.SetStatement(a));
  v1::EpochChangeVote vote = w.VoteBy(1);
  vote.set_epoch(w.e + 1);
  EXPECT_TRUE(Refused(a.Add(vote), "checked with the keys of epoch 2"));
  vote = w.VoteBy(1);
  vote.set_validator_index(7);
  EXPECT_TRUE(Refused(a.Add(vote), "not one of the 7"));
  vote = w.VoteBy(1);
  vote.set_validator_index(2);  // validator 1's signature, named as 2's
  EXPECT_TRUE(Refused(a.Add(vote), "does not verify"));
  vote = w.VoteBy(1);
  (*vote.mutable_signature())[0] ^= 1;
  EXPECT_TRUE(Refused(a.Add(vote), "does not verify"));
  vote = w.VoteBy(1);
  vote.set_signature("short");
  EXPECT_TRUE(Refused(a.Add(vote), "signature"));
  vote = w.VoteBy(1);
  vote.set_block_id("short");
  EXPECT_TRUE(Refused(a.Add(vote), "block_id"));
  vote = w.VoteBy(1);
  vote.set_next_digest(std::string(31, 'x'));
  EXPECT_TRUE(Refused(a.Add(vote), "next_digest"));
  vote = w.VoteBy(1);
  vote.set_height(vote.height() + 1);
  EXPECT_TRUE(Refused(a.Add(vote), "does not verify"));
  // A non-member's signature at a member's index; another chain's signature.
  vote = SignEpochChange(kChain, w.end().statement, 1, Key(0 + 7));
  EXPECT_TRUE(Refused(a.Add(vote), "does not verify"));
  vote = SignEpochChange("reel-other", w.end().statement, 1, Key(w.epoch().members[1]));
  EXPECT_TRUE(Refused(a.Add(vote), "does not verify"));
  EXPECT_EQ(a.SignersOf(w.end().statement), 0u);
  // The good vote of validator 1 still counts after all that.
  ASSERT_OK(a.Add(w.VoteBy(1)));
  EXPECT_EQ(a.SignersOf(w.end().statement), 1u);
}

TEST(EpochChangeAggregatorTest, AStatementThatIsNotThisEpochsEndIsRefused) {
  const AggregatorWorld w;
  const v1::EpochChangeProof& p = w.end().proof;
  {
    EpochChangeAggregator a = w.Make();
    v1::BlockHeader header = p.header();
    header.set_timestamp_ms(header.timestamp_ms() + 1);
    EXPECT_TRUE(Refused(a.SetStatement(header, p.commit_proof(), p.next()), "commit proof"));
  }
  {
    EpochChangeAggregator a = w.Make();
    EXPECT_TRUE(Refused(a.SetStatement(w.chain.ends[1].proof.header(), p.commit_proof(), p.next()),
                        "the header is of epoch 1"));
  }
  {
    EpochChangeAggregator a = w.Make();
    v1::ValidatorSet next = p.next();
    next.set_epoch(w.e + 2);
    EXPECT_TRUE(Refused(a.SetStatement(p.header(), p.commit_proof(), next), "the next set is of"));
  }
  {
    EpochChangeAggregator a = w.Make();
    ASSERT_OK(w.SetStatement(a));
    v1::ValidatorSet next = p.next();
    next.mutable_validators(0)->set_address("elsewhere:1");
    EXPECT_TRUE(Refused(a.SetStatement(p.header(), p.commit_proof(), next),
                        "another epoch-change statement"));
  }
}

// --- The validator-set digest ----------------------------------------------------------

v1::ValidatorSet KnownSet() {
  v1::ValidatorSet set;
  v1::Validator* a = set.add_validators();
  a->set_name("miit-1");
  a->set_org_id("miit");
  a->set_public_key(std::string(32, '\x11'));
  a->set_address("10.0.0.1:26656");
  a->set_tls_cert_sha256(std::string(32, '\x22'));
  v1::Validator* b = set.add_validators();
  b->set_name("mofcom-1");
  b->set_org_id("mofcom");
  b->set_public_key(std::string(32, '\x33'));
  b->set_tls_cert_sha256(std::string(32, '\x44'));
  v1::ConsensusParams* c = set.mutable_consensus();
  c->set_round_timeout_ms(1'000);
  c->set_round_timeout_max_ms(30'000);
  c->set_round_timeout_backoff_percent(150);
  c->set_clock_drift_max_ms(5'000);
  c->set_block_txs_max(2'000);
  c->set_block_bytes_max(8'388'608);
  c->set_idle_block_interval_ms(500);
  set.set_epoch(3);
  set.set_start_height(42);
  return set;
}

// The layout of proto/README.md, spelled out.
TEST(ValidatorSetDigestTest, MatchesTheLayoutByHand) {
  std::string want;
  want.push_back(21);
  want += "reel/validator-set/v1";
  AppendU64BE(want, 3);
  AppendU64BE(want, 42);
  AppendU32BE(want, 2);
  auto str = [&](std::string_view s) {
    AppendU32BE(want, static_cast<uint32_t>(s.size()));
    want += s;
  };
  str("miit-1");
  str("miit");
  want += std::string(32, '\x11');
  str("10.0.0.1:26656");
  want += std::string(32, '\x22');
  str("mofcom-1");
  str("mofcom");
  want += std::string(32, '\x33');
  str("");
  want += std::string(32, '\x44');
  AppendU64BE(want, 1'000);
  AppendU64BE(want, 30'000);
  AppendU32BE(want, 150);
  AppendU64BE(want, 5'000);
  AppendU32BE(want, 2'000);
  AppendU64BE(want, 8'388'608);
  AppendU64BE(want, 0);
  AppendU64BE(want, 500);
  Result<std::string> bytes = CanonicalValidatorSetBytes(KnownSet());
  ASSERT_OK(bytes);
  EXPECT_EQ(ToHex(*bytes), ToHex(want));
  EXPECT_EQ(bytes->size(), 288u);
}

// Computed independently with Python's hashlib.blake2b over the layout, so that the spec,
// not only this implementation, is pinned.
TEST(ValidatorSetDigestTest, KnownAnswer) {
  Result<crypto::Hash32> digest = ValidatorSetDigest(KnownSet());
  ASSERT_OK(digest);
  EXPECT_EQ(crypto::HashToHex(*digest),
            "ea182516b08b65ec2b3fbf04e025a3b6d6d24eeaf0c51e11b69a0fb1a5641a30");
}

TEST(ValidatorSetDigestTest, APemAndItsSha256GiveOneDigest) {
  Result<net::CertAndKey> ca = net::MakeCa("reel-test-ca", 30);
  ASSERT_OK(ca);
  Result<net::CertAndKey> cert = net::MakeNodeCert(*ca, "node-1", {"127.0.0.1"}, 30);
  ASSERT_OK(cert);
  Result<std::string> sha = net::CertSha256(cert->cert_pem);
  ASSERT_OK(sha);
  v1::ValidatorSet by_sha = SetOf({0, 1, 2, 3}, 1, 10);
  by_sha.mutable_validators(1)->set_tls_cert_sha256(*sha);
  v1::ValidatorSet by_pem = by_sha;
  by_pem.mutable_validators(1)->clear_tls_cert_sha256();
  by_pem.mutable_validators(1)->set_tls_cert_pem(cert->cert_pem);
  v1::ValidatorSet by_both = by_pem;
  by_both.mutable_validators(1)->set_tls_cert_sha256(*sha);
  Result<crypto::Hash32> a = ValidatorSetDigest(by_sha);
  ASSERT_OK(a);
  EXPECT_OK(ValidatorSetDigest(by_pem));
  EXPECT_OK(ValidatorSetDigest(by_both));
  EXPECT_EQ(*ValidatorSetDigest(by_pem), *a);
  EXPECT_EQ(*ValidatorSetDigest(by_both), *a);

  v1::ValidatorSet mismatch = by_pem;
  mismatch.mutable_validators(1)->set_tls_cert_sha256(std::string(32, '\x01'));
  EXPECT_TRUE(Refused(ValidatorSetDigest(mismatch), "is not the SHA-256 of tls_cert_pem"));
  v1::ValidatorSet garbage = by_pem;
  garbage.mutable_validators(1)->set_tls_cert_pem("not a certificate");
  EXPECT_TRUE(Refused(ValidatorSetDigest(garbage), "validator 1 ('node-1'): tls_cert_pem"));
  v1::ValidatorSet none = by_pem;
  none.mutable_validators(1)->clear_tls_cert_pem();
  EXPECT_TRUE(Refused(ValidatorSetDigest(none), "names no certificate"));
  v1::ValidatorSet short_sha = by_sha;
  short_sha.mutable_validators(1)->set_tls_cert_sha256(std::string(31, '\x01'));
  EXPECT_TRUE(Refused(ValidatorSetDigest(short_sha), "31 bytes, not 32"));

  // A proof may carry either form: the signatures are over the digest.
  const Chain chain = MakeChain();
  v1::EpochChangeProof proof = chain.ends[0].proof;
  proof.mutable_next()->mutable_validators(1)->set_tls_cert_sha256(*sha);
  const EpochChangeStatement statement =
      *EpochChangeStatementOf(kChain, proof.header(), proof.next());
  proof.clear_signatures();
  for (uint32_t i : chain.epochs[0].Quorum()) {
    AddSignature(proof, i, Key(chain.epochs[0].members[i]), kChain, statement);
  }
  EXPECT_OK(VerifyEnd(chain, 0, proof));
  proof.mutable_next()->mutable_validators(1)->clear_tls_cert_sha256();
  proof.mutable_next()->mutable_validators(1)->set_tls_cert_pem(cert->cert_pem);
  EXPECT_OK(VerifyEnd(chain, 0, proof));
}

// Each field of the layout is in the digest: no two of these sets share one.
TEST(ValidatorSetDigestTest, EveryFieldCounts) {
  const v1::ValidatorSet base = KnownSet();
  std::vector<v1::ValidatorSet> sets = {base};
  auto with = [&](auto change) {
    v1::ValidatorSet s = base;
    change(s);
    sets.push_back(s);
  };
  with([](v1::ValidatorSet& s) { s.set_epoch(4); });
  with([](v1::ValidatorSet& s) { s.set_start_height(43); });
  with([](v1::ValidatorSet& s) { s.mutable_validators()->SwapElements(0, 1); });
  with([](v1::ValidatorSet& s) { s.mutable_validators()->RemoveLast(); });
  with([](v1::ValidatorSet& s) { s.mutable_validators(0)->set_name("miit-2"); });
  with([](v1::ValidatorSet& s) { s.mutable_validators(0)->set_org_id("mii"); });
  with([](v1::ValidatorSet& s) {
    // Bytes moved between name and org id: the length prefixes tell them apart.
    s.mutable_validators(0)->set_name("miit-1m");
    s.mutable_validators(0)->set_org_id("iit");
  });
  with([](v1::ValidatorSet& s) { (*s.mutable_validators(0)->mutable_public_key())[0] = 0; });
  with([](v1::ValidatorSet& s) { s.mutable_validators(0)->set_address("10.0.0.1:26657"); });
  with([](v1::ValidatorSet& s) { (*s.mutable_validators(0)->mutable_tls_cert_sha256())[0] = 0; });
  with([](v1::ValidatorSet& s) { s.mutable_consensus()->set_round_timeout_ms(1); });
  with([](v1::ValidatorSet& s) { s.mutable_consensus()->set_round_timeout_max_ms(1); });
  with([](v1::ValidatorSet& s) { s.mutable_consensus()->set_round_timeout_backoff_percent(1); });
  with([](v1::ValidatorSet& s) { s.mutable_consensus()->set_clock_drift_max_ms(1); });
  with([](v1::ValidatorSet& s) { s.mutable_consensus()->set_block_txs_max(1); });
  with([](v1::ValidatorSet& s) { s.mutable_consensus()->set_block_bytes_max(1); });
  with([](v1::ValidatorSet& s) { s.mutable_consensus()->set_block_interval_min_ms(1); });
  with([](v1::ValidatorSet& s) { s.mutable_consensus()->set_idle_block_interval_ms(1); });
  std::set<crypto::Hash32> digests;
  for (size_t i = 0; i < sets.size(); ++i) {
    Result<crypto::Hash32> d = ValidatorSetDigest(sets[i]);
    ASSERT_OK(d) << i;
    EXPECT_TRUE(digests.insert(*d).second) << "change " << i << " left the digest unchanged";
  }
}

// --- Stored proofs (chain_store.h) -----------------------------------------------------

TEST(EpochProofStoreTest, ProofsRoundTripInOrderAndStopAtTheFirstGap) {
  const Chain chain = MakeChain();
  std::unique_ptr<storage::KvStore> store = storage::NewMemoryStore();
  EXPECT_FALSE(ReadEpochProof(*store, 0)->has_value());
  storage::WriteBatch batch;
  PutEpochProof(batch, chain.ends[0].proof);
  PutEpochProof(batch, chain.ends[2].proof);
  ASSERT_OK(store->Write(batch, /*sync=*/true));
  Result<std::optional<v1::EpochChangeProof>> read = ReadEpochProof(*store, 2);
  ASSERT_OK(read);
  ASSERT_TRUE(read->has_value());
  EXPECT_EQ((*read)->SerializeAsString(), chain.ends[2].proof.SerializeAsString());
  EXPECT_OK(VerifyEnd(chain, 2, **read));
  // Epoch 1's is missing: a read from 0 stops there, one from 2 gives epoch 2's.
  EXPECT_EQ(ReadEpochProofs(*store, 0, 3, 16)->size(), 1u);
  EXPECT_EQ(ReadEpochProofs(*store, 1, 3, 16)->size(), 0u);
  ASSERT_EQ(ReadEpochProofs(*store, 2, 3, 16)->size(), 1u);
  EXPECT_EQ(ReadEpochProofs(*store, 2, 2, 16)->size(), 0u) << "`to` is exclusive";

  storage::WriteBatch more;
  PutEpochProof(more, chain.ends[1].proof);
  ASSERT_OK(store->Write(more, /*sync=*/true));
  Result<std::vector<v1::EpochChangeProof>> all = ReadEpochProofs(*store, 0, 3, 16);
  ASSERT_OK(all);
  ASSERT_EQ(all->size(), 3u);
  for (uint64_t e = 0; e < 3; ++e) EXPECT_EQ((*all)[e].epoch(), e);
  EXPECT_OK(VerifyEpochChain(chain.genesis, *all));
  EXPECT_EQ(ReadEpochProofs(*store, 0, 3, 2)->size(), 2u) << "at most `max`";

  // A record that does not decode is Corruption, never an empty answer.
  ASSERT_OK(store->Write(
      [] {
        storage::WriteBatch garbage;
        garbage.Put(storage::keys::EpochProofKey(1), std::string("\xff\xff\xff", 3));
        return garbage;
      }(),
      true));
  EXPECT_EQ(ReadEpochProof(*store, 1).status().code(), Code::kCorruption);
}

}  // namespace
}  // namespace reel::replica
