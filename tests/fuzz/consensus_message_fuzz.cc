// Fuzzes what a peer pushes on a consensus stream: parse reel.v1.ConsensusMessage,
// decode it with replica::FromProto (which must refuse anything malformed with a Status,
// never assert), then check what decoded as the core checks a message from a peer: the
// signatures and certificates against four validators. QC and TC pushes are decoded
// and verified on their own.
#include <cstddef>
#include <cstdint>
#include <variant>

#include "base/overloaded.h"
#include "node/replica/codec.h"
#include "tests/fuzz/fuzz_world.h"
#include "tests/fuzz/protobuf_quiet.h"

namespace reel::fuzz {
namespace {

void VerifyCertificates(const consensus::QuorumCert& qc,
                        const std::optional<consensus::TimeoutCert>& tc) {
  (void)consensus::VerifyQc(qc, Validators());
  if (tc.has_value()) (void)consensus::VerifyTc(*tc, Validators());
}

void Verify(const consensus::Message& message) {
  const consensus::VerifyContext& validators = Validators();
  std::visit(
      Overloaded{
          [&](const consensus::Proposal& proposal) {
            (void)consensus::VerifyProposalSignature(proposal, validators);
            VerifyCertificates(proposal.block.qc, proposal.tc);
          },
          [&](const consensus::Vote& vote) { (void)consensus::VerifyVote(vote, validators); },
          [&](const consensus::Timeout& timeout) {
            (void)consensus::VerifyTimeoutSignature(timeout, validators);
            VerifyCertificates(timeout.high_qc, timeout.high_tc);
          },
      },
      message);
}

}  // namespace
}  // namespace reel::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace reel;
  fuzz::v1::ConsensusMessage message;
  if (!message.ParseFromArray(data, static_cast<int>(size))) return 0;
  Result<consensus::Message> decoded = replica::FromProto(message, fuzz::kChain);
  if (decoded.ok()) fuzz::Verify(*decoded);
  return 0;
}
