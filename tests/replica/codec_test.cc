// The codec keeps every field of every consensus message, recomputes block ids
// rather than trusting them, and refuses wrong-sized ids and signatures.
#include "node/replica/codec.h"

#include <google/protobuf/unknown_field_set.h>
#include <gtest/gtest.h>

#include "tests/test_util.h"

namespace reel::replica {
namespace {

constexpr char kChain[] = "codec-test";

crypto::Hash32 H(uint8_t b) {
  crypto::Hash32 h;
  h.fill(b);
  return h;
}

consensus::QuorumCert Qc() {
  consensus::QuorumCert qc;
  qc.block_id = H(7);
  qc.round = 9;
  qc.height = 4;
  qc.epoch = 2;
  consensus::SignerSignature s;
  s.index = 3;
  s.signature.fill(0x55);
  qc.signers = {s, s};
  return qc;
}

consensus::Block SampleBlock() {
  consensus::Block b;
  b.header = {2, 10, 5, H(7), H(7), 9, H(1), 1, 2, 1234, 3, H(8)};
  b.qc = Qc();
  v1::Transaction tx;
  tx.set_body("body");
  b.payload.push_back(tx.SerializeAsString());
  b.Seal(kChain);
  return b;
}

TEST(CodecTest, ProposalRoundTripKeepsEverythingAndReseals) {
  consensus::Proposal p;
  p.block = SampleBlock();
  p.signature.fill(0x11);
  consensus::TimeoutCert tc;
  tc.round = 9;
  tc.epoch = 2;
  tc.signers.push_back({1, 8, {}});
  p.tc = tc;
  v1::ConsensusMessage wire = ToProto(2, 2, consensus::Message(p));
  wire.mutable_proposal()->mutable_block()->mutable_header()->set_timestamp_ms(1234);

  Result<consensus::Message> back = FromProto(wire, kChain);
  ASSERT_OK(back);
  const auto& q = std::get<consensus::Proposal>(*back);
  EXPECT_EQ(q.block.id, p.block.id);
  EXPECT_EQ(consensus::CanonicalHeaderBytes(q.block.header),
            consensus::CanonicalHeaderBytes(p.block.header));
  EXPECT_EQ(q.block.payload, p.block.payload);
  EXPECT_EQ(q.block.qc.signers.size(), 2u);
  EXPECT_EQ(q.block.qc.height, 4u);
  EXPECT_EQ(q.signature, p.signature);
  ASSERT_TRUE(q.tc.has_value());
  EXPECT_EQ(q.tc->signers.at(0).high_qc_round, 8u);

  // A changed header field gives another id: ids are recomputed, never taken.
  wire.mutable_proposal()->mutable_block()->mutable_header()->set_timestamp_ms(1235);
  Result<consensus::Message> changed = FromProto(wire, kChain);
  ASSERT_OK(changed);
  EXPECT_NE(std::get<consensus::Proposal>(*changed).block.id, p.block.id);
}

TEST(CodecTest, VoteAndTimeoutRoundTrip) {
  consensus::Vote v{2, 10, 5, H(3), 1, {}};
  v.signature.fill(0x22);
  auto vote = FromProto(ToProto(v));
  ASSERT_OK(vote);
  EXPECT_EQ(vote->block_id, v.block_id);
  EXPECT_EQ(vote->height, 5u);
  EXPECT_EQ(vote->signature, v.signature);

  consensus::Timeout t;
  t.epoch = 2;
  t.round = 11;
  t.high_qc = Qc();
  t.signer = 3;
  t.signature.fill(0x33);
  t.high_tc = consensus::TimeoutCert{2, 10, {{0, 9, {}}}};
  auto timeout = FromProto(ToProto(t));
  ASSERT_OK(timeout);
  EXPECT_EQ(timeout->high_qc.block_id, t.high_qc.block_id);
  ASSERT_TRUE(timeout->high_tc.has_value());
  EXPECT_EQ(timeout->high_tc->round, 10u);
}

TEST(CodecTest, WrongSizedFieldsAreRefusedNotAsserted) {
  v1::Vote vote = ToProto(consensus::Vote{});
  vote.set_block_id("short");
  auto bad_id = FromProto(vote);
  ASSERT_FALSE(bad_id.ok());
  EXPECT_NE(bad_id.status().message().find("vote.block_id"), std::string::npos);

  v1::Vote vote2 = ToProto(consensus::Vote{});
  vote2.set_signature(std::string(63, 'x'));
  EXPECT_FALSE(FromProto(vote2).ok());

  v1::ConsensusMessage empty;
  EXPECT_FALSE(FromProto(empty, kChain).ok());
  // A case the core does not take is refused, not read as another.
  v1::ConsensusMessage epoch_vote;
  epoch_vote.mutable_epoch_change_vote();
  EXPECT_FALSE(FromProto(epoch_vote, kChain).ok());
  // A case of a newer peer's proto: an unknown field, read as no message at all.
  v1::ConsensusMessage newer;
  newer.GetReflection()->MutableUnknownFields(&newer)->AddLengthDelimited(99, "?");
  v1::ConsensusMessage parsed;
  ASSERT_TRUE(parsed.ParseFromString(newer.SerializeAsString()));
  EXPECT_EQ(parsed.message_case(), v1::ConsensusMessage::MESSAGE_NOT_SET);
  EXPECT_FALSE(FromProto(parsed, kChain).ok());

  v1::Block block = ToProto(SampleBlock());
  block.mutable_header()->set_committed_state_root("");
  EXPECT_FALSE(FromProto(block, kChain).ok());
}

}  // namespace
}  // namespace reel::replica
