// Codec: consensus value types <-> reel.v1 protobuf, at the node's edge.
//
// Everything decoded here came from a peer or from disk, so decoding checks every
// length (32-byte ids and roots, 64-byte signatures) and returns InvalidArgument
// naming the field, never asserts. Decoded blocks are sealed (their id recomputed
// from the header); no id is ever taken from the wire. Signatures are not checked
// here: the consensus core verifies them.
#pragma once

#include <string_view>

#include "base/status.h"
#include "consensus/core.h"
#include "consensus/types.h"
#include "reel/v1/consensus.pb.h"
#include "reel/v1/peer.pb.h"

namespace reel::replica {

namespace v1 = ::reel::v1;

v1::BlockHeader ToProto(const consensus::BlockHeader& header);
v1::QuorumCert ToProto(const consensus::QuorumCert& qc);
v1::TimeoutCert ToProto(const consensus::TimeoutCert& tc);
v1::Vote ToProto(const consensus::Vote& vote);
v1::Timeout ToProto(const consensus::Timeout& timeout);
// `proposer_signature` may be empty (a block stored without its proposal).
v1::Block ToProto(const consensus::Block& block, std::string_view proposer_signature = {});
v1::Proposal ToProto(const consensus::Proposal& proposal);
v1::ConsensusMessage ToProto(uint32_t sender, uint64_t epoch, const consensus::Message& message);

Result<consensus::BlockHeader> FromProto(const v1::BlockHeader& header);
Result<consensus::QuorumCert> FromProto(const v1::QuorumCert& qc);
Result<consensus::TimeoutCert> FromProto(const v1::TimeoutCert& tc);
Result<consensus::Vote> FromProto(const v1::Vote& vote);
Result<consensus::Timeout> FromProto(const v1::Timeout& timeout);
// Seals the block under `chain_id`. Payload entries are the serialised transactions.
Result<consensus::Block> FromProto(const v1::Block& block, std::string_view chain_id);
Result<consensus::Proposal> FromProto(const v1::Proposal& proposal, std::string_view chain_id);
// A Proposal, Vote or Timeout; an epoch-change vote (not for the core) and an empty
// message are refused.
Result<consensus::Message> FromProto(const v1::ConsensusMessage& message,
                                     std::string_view chain_id);

}  // namespace reel::replica
