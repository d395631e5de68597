#include "node/replica/codec.h"

#include <cstring>
#include <string>
#include <variant>

#include "base/overloaded.h"

namespace reel::replica {
namespace {

template <size_t N>
std::string Bytes(const std::array<uint8_t, N>& a) {
  return std::string(reinterpret_cast<const char*>(a.data()), N);
}

// Copies exactly N bytes of `in` into `out`, or says which field is the wrong size.
template <size_t N>
Status Fixed(std::string_view in, std::array<uint8_t, N>* out, const char* field) {
  if (in.size() != N) {
    return Status::InvalidArgument(std::string(field) + " must be " + std::to_string(N) +
                                   " bytes, got " + std::to_string(in.size()));
  }
  std::memcpy(out->data(), in.data(), N);
  return Status::Ok();
}

}  // namespace

v1::BlockHeader ToProto(const consensus::BlockHeader& h) {
  v1::BlockHeader p;
  p.set_epoch(h.epoch);
  p.set_round(h.round);
  p.set_height(h.height);
  p.set_parent_id(Bytes(h.parent_id));
  p.set_qc_block_id(Bytes(h.qc_block_id));
  p.set_qc_round(h.qc_round);
  p.set_tx_root(Bytes(h.tx_root));
  p.set_tx_count(h.tx_count);
  p.set_proposer_index(h.proposer_index);
  p.set_timestamp_ms(h.timestamp_ms);
  p.set_committed_height(h.committed_height);
  p.set_committed_state_root(Bytes(h.committed_state_root));
  p.set_qc_signers(
      std::string(reinterpret_cast<const char*>(h.qc_signers.data()), h.qc_signers.size()));
  return p;
}

v1::QuorumCert ToProto(const consensus::QuorumCert& qc) {
  v1::QuorumCert p;
  p.set_block_id(Bytes(qc.block_id));
  p.set_round(qc.round);
  p.set_epoch(qc.epoch);
  p.set_height(qc.height);
  for (const auto& s : qc.signers) {
    v1::ValidatorSignature* out = p.add_signatures();
    out->set_validator_index(s.index);
    out->set_signature(Bytes(s.signature));
  }
  return p;
}

v1::TimeoutCert ToProto(const consensus::TimeoutCert& tc) {
  v1::TimeoutCert p;
  p.set_round(tc.round);
  p.set_epoch(tc.epoch);
  for (const auto& s : tc.signers) {
    v1::TimeoutSignature* out = p.add_signatures();
    out->set_validator_index(s.index);
    out->set_high_qc_round(s.high_qc_round);
    out->set_signature(Bytes(s.signature));
  }
  return p;
}

v1::Vote ToProto(const consensus::Vote& vote) {
  v1::Vote p;
  p.set_block_id(Bytes(vote.block_id));
  p.set_round(vote.round);
  p.set_epoch(vote.epoch);
  p.set_validator_index(vote.signer);
  p.set_signature(Bytes(vote.signature));
  p.set_height(vote.height);
  return p;
}

v1::Timeout ToProto(const consensus::Timeout& t) {
  v1::Timeout p;
  p.set_round(t.round);
  p.set_epoch(t.epoch);
  *p.mutable_high_qc() = ToProto(t.high_qc);
  p.set_validator_index(t.signer);
  p.set_signature(Bytes(t.signature));
  if (t.high_tc.has_value()) *p.mutable_high_tc() = ToProto(*t.high_tc);
  return p;
}

v1::Block ToProto(const consensus::Block& block, std::string_view proposer_signature) {
  v1::Block p;
  *p.mutable_header() = ToProto(block.header);
  *p.mutable_qc() = ToProto(block.qc);
  for (const std::string& tx : block.payload) {
    // Payload entries are serialised Transactions that consensus accepted; the
    // ids depend only on their body bytes, which parsing keeps as they are.
    REEL_ASSERT(p.add_txs()->ParseFromString(tx));
  }
  p.set_proposer_signature(std::string(proposer_signature));
  return p;
}

v1::Proposal ToProto(const consensus::Proposal& proposal) {
  v1::Proposal p;
  *p.mutable_block() = ToProto(proposal.block, Bytes(proposal.signature));
  if (proposal.tc.has_value()) *p.mutable_tc() = ToProto(*proposal.tc);
  return p;
}

v1::ConsensusMessage ToProto(uint32_t sender, uint64_t epoch, const consensus::Message& message) {
  v1::ConsensusMessage p;
  p.set_sender_index(sender);
  p.set_epoch(epoch);
  std::visit(
      Overloaded{
          [&](const consensus::Proposal& proposal) { *p.mutable_proposal() = ToProto(proposal); },
          [&](const consensus::Vote& vote) { *p.mutable_vote() = ToProto(vote); },
          [&](const consensus::Timeout& timeout) { *p.mutable_timeout() = ToProto(timeout); },
      },
      message);
  return p;
}

Result<consensus::BlockHeader> FromProto(const v1::BlockHeader& p) {
  consensus::BlockHeader h;
  h.epoch = p.epoch();
  h.round = p.round();
  h.height = p.height();
  REEL_RETURN_IF_ERROR(Fixed(p.parent_id(), &h.parent_id, "header.parent_id"));
  REEL_RETURN_IF_ERROR(Fixed(p.qc_block_id(), &h.qc_block_id, "header.qc_block_id"));
  h.qc_round = p.qc_round();
  REEL_RETURN_IF_ERROR(Fixed(p.tx_root(), &h.tx_root, "header.tx_root"));
  h.tx_count = p.tx_count();
  h.proposer_index = p.proposer_index();
  h.timestamp_ms = p.timestamp_ms();
  h.committed_height = p.committed_height();
  REEL_RETURN_IF_ERROR(
      Fixed(p.committed_state_root(), &h.committed_state_root, "header.committed_state_root"));
  if (p.qc_signers().size() != h.qc_signers.size()) {
    return Status::InvalidArgument("header.qc_signers must be " +
                                   std::to_string(h.qc_signers.size()) + " bytes");
  }
  std::memcpy(h.qc_signers.data(), p.qc_signers().data(), h.qc_signers.size());
  return h;
}

Result<consensus::QuorumCert> FromProto(const v1::QuorumCert& p) {
  consensus::QuorumCert qc;
  REEL_RETURN_IF_ERROR(Fixed(p.block_id(), &qc.block_id, "qc.block_id"));
  qc.round = p.round();
  qc.epoch = p.epoch();
  qc.height = p.height();
  if (static_cast<size_t>(p.signatures_size()) > limits::validators_max) {
    return Status::InvalidArgument("qc has more signatures than validators_max");
  }
  for (const auto& s : p.signatures()) {
    consensus::SignerSignature out;
    out.index = s.validator_index();
    REEL_RETURN_IF_ERROR(Fixed(s.signature(), &out.signature, "qc.signatures.signature"));
    qc.signers.push_back(out);
  }
  return qc;
}

Result<consensus::TimeoutCert> FromProto(const v1::TimeoutCert& p) {
  consensus::TimeoutCert tc;
  tc.round = p.round();
  tc.epoch = p.epoch();
  if (static_cast<size_t>(p.signatures_size()) > limits::validators_max) {
    return Status::InvalidArgument("tc has more signatures than validators_max");
  }
  for (const auto& s : p.signatures()) {
    consensus::TimeoutSignature out;
    out.index = s.validator_index();
    out.high_qc_round = s.high_qc_round();
    REEL_RETURN_IF_ERROR(Fixed(s.signature(), &out.signature, "tc.signatures.signature"));
    tc.signers.push_back(out);
  }
  return tc;
}

Result<consensus::Vote> FromProto(const v1::Vote& p) {
  consensus::Vote vote;
  REEL_RETURN_IF_ERROR(Fixed(p.block_id(), &vote.block_id, "vote.block_id"));
  vote.round = p.round();
  vote.epoch = p.epoch();
  vote.height = p.height();
  vote.signer = p.validator_index();
  REEL_RETURN_IF_ERROR(Fixed(p.signature(), &vote.signature, "vote.signature"));
  return vote;
}

Result<consensus::Timeout> FromProto(const v1::Timeout& p) {
  consensus::Timeout t;
  t.round = p.round();
  t.epoch = p.epoch();
  Result<consensus::QuorumCert> high_qc = FromProto(p.high_qc());
  if (!high_qc.ok()) return high_qc.status();
  t.high_qc = std::move(high_qc).value();
  t.signer = p.validator_index();
  REEL_RETURN_IF_ERROR(Fixed(p.signature(), &t.signature, "timeout.signature"));
  if (p.has_high_tc()) {
    Result<consensus::TimeoutCert> tc = FromProto(p.high_tc());
    if (!tc.ok()) return tc.status();
    t.high_tc = std::move(tc).value();
  }
  return t;
}

Result<consensus::Block> FromProto(const v1::Block& p, std::string_view chain_id) {
  consensus::Block block;
  Result<consensus::BlockHeader> header = FromProto(p.header());
  if (!header.ok()) return header.status();
  block.header = *header;
  Result<consensus::QuorumCert> qc = FromProto(p.qc());
  if (!qc.ok()) return qc.status();
  block.qc = std::move(qc).value();
  if (static_cast<size_t>(p.txs_size()) > limits::block_txs_max) {
    return Status::InvalidArgument("block has " + std::to_string(p.txs_size()) +
                                   " transactions, more than block_txs_max");
  }
  block.payload.reserve(p.txs_size());
  for (const v1::Transaction& tx : p.txs()) block.payload.push_back(tx.SerializeAsString());
  const consensus::SignerBitmap sent = block.header.qc_signers;
  block.Seal(chain_id);
  if (block.header.qc_signers != sent) {
    return Status::InvalidArgument("header.qc_signers does not name the signers of the block's QC");
  }
  return block;
}

Result<consensus::Proposal> FromProto(const v1::Proposal& p, std::string_view chain_id) {
  consensus::Proposal proposal;
  Result<consensus::Block> block = FromProto(p.block(), chain_id);
  if (!block.ok()) return block.status();
  proposal.block = std::move(block).value();
  REEL_RETURN_IF_ERROR(
      Fixed(p.block().proposer_signature(), &proposal.signature, "block.proposer_signature"));
  if (p.has_tc()) {
    Result<consensus::TimeoutCert> tc = FromProto(p.tc());
    if (!tc.ok()) return tc.status();
    proposal.tc = std::move(tc).value();
  }
  return proposal;
}

Result<consensus::Message> FromProto(const v1::ConsensusMessage& m, std::string_view chain_id) {
  switch (m.message_case()) {
    case v1::ConsensusMessage::kProposal: {
      Result<consensus::Proposal> p = FromProto(m.proposal(), chain_id);
      if (!p.ok()) return p.status();
      return consensus::Message(std::move(p).value());
    }
    case v1::ConsensusMessage::kVote: {
      Result<consensus::Vote> v = FromProto(m.vote());
      if (!v.ok()) return v.status();
      return consensus::Message(std::move(v).value());
    }
    case v1::ConsensusMessage::kTimeout: {
      Result<consensus::Timeout> t = FromProto(m.timeout());
      if (!t.ok()) return t.status();
      return consensus::Message(std::move(t).value());
    }
    case v1::ConsensusMessage::kEpochChangeVote:
      // Not for the core (Replica::PostMessage takes it first).
      return Status::InvalidArgument("an epoch-change vote is not a consensus core message");
    case v1::ConsensusMessage::MESSAGE_NOT_SET:
      // Also what a case of a newer peer's proto parses to here.
      return Status::InvalidArgument("consensus message carries no proposal, vote or timeout");
  }
  // No default above: a case added to peer.proto fails the build (-Wswitch) until it is
  // handled here.
  return Status::InvalidArgument("consensus message of an unknown case");
}

}  // namespace reel::replica
