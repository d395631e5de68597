#include "node/replica/epoch_proof.h"

#include <algorithm>
#include <set>
#include <utility>

#include "base/assert.h"
#include "base/bytes.h"
#include "base/limits.h"
#include "crypto/signing.h"
#include "node/net/tls.h"
#include "node/replica/commit_proof.h"

namespace reel::replica {
namespace {

constexpr std::string_view kValidatorSetTag = "reel/validator-set/v1";

void AppendString(std::string& out, std::string_view s) {
  AppendU32BE(out, static_cast<uint32_t>(s.size()));
  out.append(s);
}

std::string ValidatorName(const v1::Validator& v, int index) {
  return "validator " + std::to_string(index) + " ('" + v.name() + "')";
}

// SHA-256 of the validator's certificate DER, as the set names it.
Result<std::string> CertSha256Of(const v1::Validator& v, int index) {
  const std::string& named = v.tls_cert_sha256();
  if (!named.empty() && named.size() != 32) {
    return Status::InvalidArgument(ValidatorName(v, index) + ": tls_cert_sha256 is " +
                                   std::to_string(named.size()) + " bytes, not 32");
  }
  if (v.tls_cert_pem().empty()) {
    if (named.empty()) {
      return Status::InvalidArgument(ValidatorName(v, index) +
                                     " names no certificate (tls_cert_pem or tls_cert_sha256)");
    }
    return named;
  }
  Result<std::string> computed = net::CertSha256(v.tls_cert_pem());
  if (!computed.ok()) {
    return Status::InvalidArgument(ValidatorName(v, index) +
                                   ": tls_cert_pem: " + computed.status().message());
  }
  if (!named.empty() && named != *computed) {
    return Status::InvalidArgument(ValidatorName(v, index) +
                                   ": tls_cert_sha256 is not the SHA-256 of tls_cert_pem");
  }
  return computed;
}

Result<crypto::Hash32> Hash32From(std::string_view bytes, std::string_view what) {
  crypto::Hash32 h{};
  if (bytes.size() != h.size()) {
    return Status::InvalidArgument(std::string(what) + " is " + std::to_string(bytes.size()) +
                                   " bytes, not 32");
  }
  std::copy(bytes.begin(), bytes.end(), h.begin());
  return h;
}

std::string EpochText(uint64_t epoch) {
  return "epoch " + std::to_string(epoch);
}

}  // namespace

Result<std::string> CanonicalValidatorSetBytes(const v1::ValidatorSet& set) {
  std::string out;
  out.push_back(static_cast<char>(kValidatorSetTag.size()));
  out.append(kValidatorSetTag);
  AppendU64BE(out, set.epoch());
  AppendU64BE(out, set.start_height());
  AppendU32BE(out, static_cast<uint32_t>(set.validators_size()));
  for (int i = 0; i < set.validators_size(); ++i) {
    const v1::Validator& v = set.validators(i);
    if (v.public_key().size() != 32) {
      return Status::InvalidArgument(ValidatorName(v, i) + ": public_key is " +
                                     std::to_string(v.public_key().size()) + " bytes, not 32");
    }
    Result<std::string> cert = CertSha256Of(v, i);
    if (!cert.ok()) return cert.status();
    AppendString(out, v.name());
    AppendString(out, v.org_id());
    out.append(v.public_key());
    AppendString(out, v.address());
    out.append(*cert);
  }
  const v1::ConsensusParams& c = set.consensus();
  AppendU64BE(out, c.round_timeout_ms());
  AppendU64BE(out, c.round_timeout_max_ms());
  AppendU32BE(out, c.round_timeout_backoff_percent());
  AppendU64BE(out, c.clock_drift_max_ms());
  AppendU32BE(out, c.block_txs_max());
  AppendU64BE(out, c.block_bytes_max());
  AppendU64BE(out, c.block_interval_min_ms());
  AppendU64BE(out, c.idle_block_interval_ms());
  return out;
}

Result<crypto::Hash32> ValidatorSetDigest(const v1::ValidatorSet& set) {
  Result<std::string> bytes = CanonicalValidatorSetBytes(set);
  if (!bytes.ok()) return bytes.status();
  return crypto::Blake2b256(*bytes);
}

crypto::Hash32 EpochChangeDigest(std::string_view chain_id, const EpochChangeStatement& s) {
  std::string fields(crypto::AsBytes(s.block_id));
  AppendU64BE(fields, s.height);
  fields.append(crypto::AsBytes(s.next_digest));
  return crypto::SigningDigest(crypto::Domain::kEpochChange, chain_id, s.epoch, fields);
}

Result<EpochChangeStatement> EpochChangeStatementOf(std::string_view chain_id,
                                                    const v1::BlockHeader& header,
                                                    const v1::ValidatorSet& next) {
  Result<crypto::Hash32> id = HeaderId(header, chain_id);
  if (!id.ok()) return Status::InvalidArgument("header: " + id.status().message());
  Result<crypto::Hash32> digest = ValidatorSetDigest(next);
  if (!digest.ok()) return Status::InvalidArgument("next set: " + digest.status().message());
  return EpochChangeStatement{header.epoch(), *id, header.height(), *digest};
}

v1::EpochChangeVote SignEpochChange(std::string_view chain_id,
                                    const EpochChangeStatement& statement, uint32_t validator_index,
                                    const crypto::KeyPair& key) {
  v1::EpochChangeVote vote;
  vote.set_epoch(statement.epoch);
  vote.set_block_id(std::string(crypto::AsBytes(statement.block_id)));
  vote.set_height(statement.height);
  vote.set_next_digest(std::string(crypto::AsBytes(statement.next_digest)));
  vote.set_validator_index(validator_index);
  vote.set_signature(
      std::string(crypto::AsBytes(key.SignDigest(EpochChangeDigest(chain_id, statement)))));
  return vote;
}

Result<EpochChangeStatement> VerifyEpochChangeVote(const consensus::VerifyContext& ctx,
                                                   const v1::EpochChangeVote& vote) {
  REEL_ASSERT(ctx.validators != nullptr);
  if (vote.epoch() != ctx.epoch) {
    return Status::InvalidArgument("an epoch-change vote of " + EpochText(vote.epoch()) +
                                   " checked with the keys of " + EpochText(ctx.epoch));
  }
  if (vote.validator_index() >= ctx.validators->n()) {
    return Status::InvalidArgument(
        "epoch-change vote by validator " + std::to_string(vote.validator_index()) +
        ", not one of the " + std::to_string(ctx.validators->n()) + " of " + EpochText(ctx.epoch));
  }
  EpochChangeStatement s;
  s.epoch = vote.epoch();
  s.height = vote.height();
  Result<crypto::Hash32> block_id = Hash32From(vote.block_id(), "epoch-change vote block_id");
  if (!block_id.ok()) return block_id.status();
  s.block_id = *block_id;
  Result<crypto::Hash32> next = Hash32From(vote.next_digest(), "epoch-change vote next_digest");
  if (!next.ok()) return next.status();
  s.next_digest = *next;
  Result<crypto::Signature> signature = crypto::SignatureFromBytes(vote.signature());
  if (!signature.ok()) {
    return Status::InvalidArgument("epoch-change vote signature: " + signature.status().message());
  }
  if (!crypto::Verify(ctx.validators->keys[vote.validator_index()],
                      EpochChangeDigest(ctx.chain_id, s), *signature)) {
    return Status::InvalidArgument(
        "the epoch-change vote of validator " + std::to_string(vote.validator_index()) +
        " does not verify over its statement in " + EpochText(ctx.epoch));
  }
  return s;
}

namespace {

// OK if the next set is of epoch e + 1 from `height` and well formed: 1..validators_max
// validators with 32-byte keys, no key twice.
Status CheckNextSet(const v1::ValidatorSet& next, uint64_t epoch, uint64_t height) {
  if (next.epoch() != epoch + 1) {
    return Status::InvalidArgument("the next set is of " + EpochText(next.epoch()) + ", not " +
                                   EpochText(epoch + 1));
  }
  if (next.start_height() != height) {
    return Status::InvalidArgument("the next set starts at height " +
                                   std::to_string(next.start_height()) +
                                   ", not at the height of the block that ended " +
                                   EpochText(epoch) + " (" + std::to_string(height) + ")");
  }
  Result<consensus::ValidatorSet> keys = KeysOf(next);
  if (!keys.ok()) return Status::InvalidArgument("the next set: " + keys.status().message());
  std::set<crypto::PublicKey> distinct(keys->keys.begin(), keys->keys.end());
  if (distinct.size() != keys->keys.size()) {
    return Status::InvalidArgument("the next set names one key for two validators");
  }
  return Status::Ok();
}

}  // namespace

Result<v1::ValidatorSet> VerifyEpochChangeProof(const consensus::VerifyContext& ctx,
                                                const v1::EpochChangeProof& proof) {
  REEL_ASSERT(ctx.validators != nullptr);
  const uint64_t e = ctx.epoch;
  if (proof.epoch() != e) {
    return Status::InvalidArgument("an epoch-change proof of " + EpochText(proof.epoch()) +
                                   " checked with the keys of " + EpochText(e));
  }
  if (e == UINT64_MAX) return Status::InvalidArgument("the last epoch number cannot end");
  const v1::BlockHeader& header = proof.header();
  if (header.epoch() != e) {
    return Status::InvalidArgument("the header is of " + EpochText(header.epoch()) +
                                   ", not of the epoch it ends (" + EpochText(e) + ")");
  }
  Result<crypto::Hash32> block_id = HeaderId(header, ctx.chain_id);
  if (!block_id.ok()) return Status::InvalidArgument("header: " + block_id.status().message());
  // The cheap checks first: signatures are checked last.
  const v1::ValidatorSet& next = proof.next();
  REEL_RETURN_IF_ERROR(CheckNextSet(next, e, header.height()));
  if (Status s = VerifyCommitProof(*block_id, proof.commit_proof(), ctx); !s.ok()) {
    return Status::InvalidArgument("the commit proof does not prove the header's block (height " +
                                   std::to_string(header.height()) + ") committed: " + s.message());
  }
  Result<crypto::Hash32> next_digest = ValidatorSetDigest(next);
  if (!next_digest.ok()) {
    return Status::InvalidArgument("the next set: " + next_digest.status().message());
  }
  const EpochChangeStatement statement{e, *block_id, header.height(), *next_digest};
  const crypto::Hash32 digest = EpochChangeDigest(ctx.chain_id, statement);

  const size_t n = ctx.validators->n();
  std::vector<bool> seen(n, false);
  size_t signers = 0;
  for (const v1::ValidatorSignature& s : proof.signatures()) {
    const uint32_t i = s.validator_index();
    if (i >= n) {
      return Status::InvalidArgument("epoch-change signature by validator " + std::to_string(i) +
                                     ", not one of the " + std::to_string(n) + " of " +
                                     EpochText(e));
    }
    if (seen[i]) {
      return Status::InvalidArgument("validator " + std::to_string(i) +
                                     " is named twice in the epoch-change signatures");
    }
    seen[i] = true;
    Result<crypto::Signature> signature = crypto::SignatureFromBytes(s.signature());
    if (!signature.ok()) {
      return Status::InvalidArgument("the epoch-change signature of validator " +
                                     std::to_string(i) + ": " + signature.status().message());
    }
    if (!crypto::Verify(ctx.validators->keys[i], digest, *signature)) {
      return Status::InvalidArgument(
          "the epoch-change signature of validator " + std::to_string(i) +
          " does not verify over this block and next set in " + EpochText(e));
    }
    ++signers;
  }
  if (signers < ctx.validators->quorum()) {
    return Status::InvalidArgument("the epoch-change statement is signed by " +
                                   std::to_string(signers) + " of " + std::to_string(n) +
                                   " validators of " + EpochText(e) + ", below the quorum of " +
                                   std::to_string(ctx.validators->quorum()));
  }
  return next;
}

Result<EpochState> VerifyEpochChain(const v1::Genesis& genesis,
                                    const std::vector<v1::EpochChangeProof>& proofs) {
  const std::string& chain_id = genesis.chain_id();
  if (!crypto::IsValidChainId(chain_id)) {
    return Status::InvalidArgument("genesis chain_id must be 1 to 64 bytes");
  }
  EpochState state;
  *state.set.mutable_validators() = genesis.validators();
  *state.set.mutable_consensus() = genesis.consensus();
  Result<consensus::ValidatorSet> keys = KeysOf(state.set);
  if (!keys.ok()) return Status::InvalidArgument("genesis: " + keys.status().message());
  state.keys = *std::move(keys);
  state.root_id = consensus::MakeGenesisBlock(chain_id, 0).id;

  for (size_t i = 0; i < proofs.size(); ++i) {
    const v1::EpochChangeProof& proof = proofs[i];
    const std::string which =
        "epoch-change proof " + std::to_string(i) + " (of " + EpochText(proof.epoch()) + ")";
    if (proof.epoch() != state.epoch) {
      return Status::InvalidArgument(which + ": the chain from genesis is at " +
                                     EpochText(state.epoch) +
                                     "; proofs must be one per epoch from epoch 0, in order");
    }
    Result<v1::ValidatorSet> next = VerifyEpochChangeProof(state.Context(chain_id), proof);
    if (!next.ok()) return Status::InvalidArgument(which + ": " + next.status().message());
    if (proof.header().height() <= state.root_height) {
      return Status::InvalidArgument(
          which + ": the block that ended it (height " + std::to_string(proof.header().height()) +
          ") is not above the epoch's root (height " + std::to_string(state.root_height) + ")");
    }
    Result<crypto::Hash32> root_id = HeaderId(proof.header(), chain_id);
    REEL_ASSERT(root_id.ok());  // VerifyEpochChangeProof computed it
    Result<consensus::ValidatorSet> next_keys = KeysOf(*next);
    REEL_ASSERT(next_keys.ok());  // and checked these
    state.epoch = next->epoch();
    state.root_height = proof.header().height();
    state.root_id = *root_id;
    state.keys = *std::move(next_keys);
    state.set = *std::move(next);
  }
  return state;
}

EpochChangeAggregator::EpochChangeAggregator(std::string chain_id, EpochState epoch)
    : chain_id_(std::move(chain_id)), epoch_(std::move(epoch)), votes_(epoch_.keys.n()) {}

Result<std::optional<v1::EpochChangeProof>> EpochChangeAggregator::SetStatement(
    const v1::BlockHeader& header, const v1::CommitProof& commit_proof,
    const v1::ValidatorSet& next) {
  const consensus::VerifyContext ctx = epoch_.Context(chain_id_);
  if (header.epoch() != epoch_.epoch) {
    return Status::InvalidArgument("the header is of " + EpochText(header.epoch()) + ", not of " +
                                   EpochText(epoch_.epoch));
  }
  Result<EpochChangeStatement> statement = EpochChangeStatementOf(chain_id_, header, next);
  if (!statement.ok()) return statement.status();
  if (statement_.has_value()) {
    if (*statement_ == *statement) return std::optional<v1::EpochChangeProof>();
    return Status::InvalidArgument("another epoch-change statement was set for " +
                                   EpochText(epoch_.epoch));
  }
  if (Status s = VerifyCommitProof(statement->block_id, commit_proof, ctx); !s.ok()) {
    return Status::InvalidArgument("the commit proof does not prove the header's block: " +
                                   s.message());
  }
  REEL_RETURN_IF_ERROR(CheckNextSet(next, epoch_.epoch, header.height()));
  statement_ = *statement;
  pending_.set_epoch(epoch_.epoch);
  *pending_.mutable_header() = header;
  *pending_.mutable_commit_proof() = commit_proof;
  *pending_.mutable_next() = next;
  return TryComplete();
}

Result<std::optional<v1::EpochChangeProof>> EpochChangeAggregator::Add(
    const v1::EpochChangeVote& vote) {
  if (proof_.has_value()) return std::optional<v1::EpochChangeProof>();
  Result<EpochChangeStatement> statement = VerifyEpochChangeVote(epoch_.Context(chain_id_), vote);
  if (!statement.ok()) return statement.status();
  std::optional<Signed>& held = votes_[vote.validator_index()];
  if (held.has_value()) {
    if (held->statement == *statement) return std::optional<v1::EpochChangeProof>();
    return Status::InvalidArgument("validator " + std::to_string(vote.validator_index()) +
                                   " signed two epoch-change statements for " +
                                   EpochText(epoch_.epoch));
  }
  Result<crypto::Signature> signature = crypto::SignatureFromBytes(vote.signature());
  REEL_ASSERT(signature.ok());  // VerifyEpochChangeVote checked it
  held = Signed{*statement, *signature};
  return TryComplete();
}

size_t EpochChangeAggregator::SignersOf(const EpochChangeStatement& statement) const {
  return static_cast<size_t>(std::count_if(votes_.begin(), votes_.end(), [&](const auto& v) {
    return v.has_value() && v->statement == statement;
  }));
}

std::optional<v1::EpochChangeProof> EpochChangeAggregator::TryComplete() {
  if (proof_.has_value() || !statement_.has_value()) return std::nullopt;
  if (SignersOf(*statement_) < epoch_.keys.quorum()) return std::nullopt;
  v1::EpochChangeProof proof = pending_;
  for (uint32_t i = 0; i < votes_.size(); ++i) {
    const std::optional<Signed>& v = votes_[i];
    if (!v.has_value() || v->statement != *statement_) continue;
    v1::ValidatorSignature* s = proof.add_signatures();
    s->set_validator_index(i);
    s->set_signature(std::string(crypto::AsBytes(v->signature)));
  }
  proof_ = std::move(proof);
  return proof_;
}

}  // namespace reel::replica
