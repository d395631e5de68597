// Validators: the governing organisations propose, approve and withdraw changes to the
// validator set; an approved change is applied to the set of the next epoch
// (validators.h). Certificates are checked against the chain's CA with OpenSSL, at the
// block time, so every node decides alike.
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <ctime>
#include <memory>

#include "base/bytes.h"
#include "base/limits.h"
#include "crypto/keys.h"
#include "node/config/consensus_params.h"
#include "node/ledger/exec.h"
#include "node/ledger/validators.h"

namespace reel::ledger {
namespace {

constexpr char kGovernance[] = "governance";
constexpr char kCurrent[] = "current";
constexpr char kNext[] = "next";
// A set of this size or more may not shrink below it (CONSENSUS.md: 4 tolerates one fault).
constexpr size_t kSmallestFaultTolerantSet = 4;

// --- Certificates ---------------------------------------------------------------------

struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
struct StoreFree {
  void operator()(X509_STORE* s) const { X509_STORE_free(s); }
};
struct StoreCtxFree {
  void operator()(X509_STORE_CTX* c) const { X509_STORE_CTX_free(c); }
};
struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};

std::unique_ptr<X509, X509Free> ParsePem(std::string_view pem) {
  if (pem.empty() || pem.size() > limits::tx_body_bytes_max) return nullptr;
  std::unique_ptr<BIO, BioFree> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) return nullptr;
  return std::unique_ptr<X509, X509Free>(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
}

// The certificate chains to the CA and is valid at the block time (never the wall clock).
Refusal CheckCertificate(const TxContext& ctx, const v1::ValidatorGovernance& gov,
                         std::string_view cert_pem, std::string_view what) {
  ERR_clear_error();
  if (gov.tls_ca_pem().empty()) {
    return Refuse(v1::CERT_NOT_BY_CHAIN_CA, "this chain's genesis has no tls_ca_pem, so no " +
                                                std::string(what) + " certificate can be checked");
  }
  std::unique_ptr<X509, X509Free> ca = ParsePem(gov.tls_ca_pem());
  std::unique_ptr<X509, X509Free> cert = ParsePem(cert_pem);
  if (!cert) {
    ERR_clear_error();
    return Refuse(v1::CERT_NOT_BY_CHAIN_CA, std::string(what) + " is not a PEM certificate");
  }
  std::unique_ptr<X509_STORE, StoreFree> store(X509_STORE_new());
  std::unique_ptr<X509_STORE_CTX, StoreCtxFree> verify(X509_STORE_CTX_new());
  bool ok = ca && store && verify && X509_STORE_add_cert(store.get(), ca.get()) == 1 &&
            X509_STORE_CTX_init(verify.get(), store.get(), cert.get(), nullptr) == 1;
  if (ok) {
    X509_STORE_CTX_set_time(verify.get(), 0, static_cast<time_t>(ctx.block.time_ms / 1000));
    ok = X509_verify_cert(verify.get()) == 1;
  }
  std::string reason = "cannot set up the check";
  if (verify) reason = X509_verify_cert_error_string(X509_STORE_CTX_get_error(verify.get()));
  ERR_clear_error();
  if (ok) return Accept();
  return Refuse(v1::CERT_NOT_BY_CHAIN_CA,
                std::string(what) +
                    " is not signed by the chain's CA, or not valid at the block time: " + reason);
}

// Peers dial a validator by its name and check that its certificate is for that name
// (TLS host name check), so a certificate that does not name it leaves it unreachable.
Refusal CheckCertificateNames(std::string_view cert_pem, std::string_view name) {
  std::unique_ptr<X509, X509Free> cert = ParsePem(cert_pem);
  const bool names = cert && X509_check_host(cert.get(), name.data(), name.size(), 0, nullptr) == 1;
  ERR_clear_error();
  if (names) return Accept();
  return Refuse(v1::CERT_NAME_MISMATCH, "the certificate is not for the name '" +
                                            std::string(name) +
                                            "' (its peers dial the validator by that name)");
}

// SHA-256 of a certificate's DER, to tell certificates apart whatever their PEM text;
// empty when it does not parse.
std::string CertFingerprint(std::string_view cert_pem) {
  std::unique_ptr<X509, X509Free> cert = ParsePem(cert_pem);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  const bool ok = cert && X509_digest(cert.get(), EVP_sha256(), digest, &size) == 1;
  ERR_clear_error();
  return ok ? std::string(reinterpret_cast<const char*>(digest), size) : std::string();
}

// --- State ----------------------------------------------------------------------------

struct Validators {
  v1::ValidatorGovernance governance;
  v1::ValidatorSet current;
  std::optional<v1::NextValidatorSet> next;
  // The set a change applies to: the next epoch's if one is recorded, else the current.
  const v1::ValidatorSet& base() const { return next ? next->validator_set() : current; }
};

Validators Load(const State& state) {
  Validators v;
  v.governance = state.Read<v1::ValidatorGovernance>(layout::ValidatorsKey(kGovernance))
                     .value_or(v1::ValidatorGovernance());
  v.current =
      state.Read<v1::ValidatorSet>(layout::ValidatorsKey(kCurrent)).value_or(v1::ValidatorSet());
  v.next = state.Read<v1::NextValidatorSet>(layout::ValidatorsKey(kNext));
  return v;
}

Refusal RequireGoverning(const TxContext& ctx, const Validators& v) {
  const auto& ids = v.governance.governing_org_ids();
  if (std::find(ids.begin(), ids.end(), ctx.signer_id()) != ids.end()) return Accept();
  return Refuse(v1::NOT_GOVERNING_ORG, "'" + ctx.signer_id() +
                                           "' is not one of the organisations that govern the "
                                           "validator set (Genesis.governance)");
}

const v1::Validator* FindByName(const v1::ValidatorSet& set, std::string_view name) {
  for (const v1::Validator& v : set.validators()) {
    if (v.name() == name) return &v;
  }
  return nullptr;
}

const v1::Validator* FindByKey(const v1::ValidatorSet& set, std::string_view key) {
  for (const v1::Validator& v : set.validators()) {
    if (v.public_key() == key) return &v;
  }
  return nullptr;
}

// A name, key or certificate used in the current set or in the next one is taken.
Refusal CheckUnused(const Validators& v, std::string_view name, std::string_view key,
                    std::string_view cert_pem = {}) {
  const std::string fingerprint = cert_pem.empty() ? std::string() : CertFingerprint(cert_pem);
  for (const v1::ValidatorSet* set : {&v.current, &v.base()}) {
    for (const v1::Validator& other : set->validators()) {
      if (fingerprint.empty()) break;
      const std::string theirs = other.tls_cert_pem().empty()
                                     ? other.tls_cert_sha256()
                                     : CertFingerprint(other.tls_cert_pem());
      if (theirs == fingerprint) {
        return Refuse(v1::VALIDATOR_IN_USE,
                      "the certificate is already validator '" + other.name() + "''s");
      }
    }
    if (!name.empty() && FindByName(*set, name) != nullptr) {
      return Refuse(v1::VALIDATOR_IN_USE,
                    "a validator is already named '" + std::string(name) + "'");
    }
    if (const v1::Validator* other = key.empty() ? nullptr : FindByKey(*set, key)) {
      return Refuse(v1::VALIDATOR_IN_USE, "the key is already validator '" + other->name() + "''s");
    }
  }
  return Accept();
}

Refusal CheckRemoval(const Validators& v, std::string_view name) {
  const v1::ValidatorSet& base = v.base();
  if (FindByName(base, name) == nullptr) {
    return Refuse(v1::VALIDATOR_NOT_FOUND, "no validator '" + std::string(name) + "' to remove");
  }
  const size_t n = static_cast<size_t>(base.validators_size());
  if (n <= 1 || (n >= kSmallestFaultTolerantSet && n - 1 < kSmallestFaultTolerantSet)) {
    return Refuse(v1::TOO_FEW_VALIDATORS, "removing '" + std::string(name) + "' would leave " +
                                              std::to_string(n - 1) +
                                              " validators; a set of 4 or more may not go below 4");
  }
  const uint32_t removals = (v.next ? v.next->removals() : 0) + 1;
  const uint32_t f = FaultsTolerated(static_cast<size_t>(v.current.validators_size()));
  if (removals > f) {
    return Refuse(v1::TOO_MANY_REMOVALS, "this would be removal " + std::to_string(removals) +
                                             " before the next epoch, but the current set of " +
                                             std::to_string(v.current.validators_size()) +
                                             " tolerates only f = " + std::to_string(f));
  }
  return Accept();
}

// The rules of a change against the state; run when it is proposed and again when the
// approval that makes it take effect commits (the set may have changed in between).
Refusal CheckChange(const TxContext& ctx, const Validators& v, const v1::ValidatorChange& change) {
  switch (change.change_case()) {
    case v1::ValidatorChange::kAdd: {
      const v1::Validator& add = change.add();
      REEL_TRY(CheckUnused(v, add.name(), add.public_key(), add.tls_cert_pem()));
      if (!ctx.state.GetOrg(add.org_id()).has_value()) {
        return Refuse(v1::ORG_NOT_FOUND,
                      "the validator's organisation '" + add.org_id() + "' is not registered");
      }
      if (static_cast<size_t>(v.base().validators_size()) >= limits::validators_max) {
        return Refuse(
            v1::TOO_MANY_ITEMS,
            "the set already has " + std::to_string(limits::validators_max) + " validators");
      }
      REEL_TRY(CheckCertificate(ctx, v.governance, add.tls_cert_pem(),
                                "the new validator's certificate"));
      return CheckCertificateNames(add.tls_cert_pem(), add.name());
    }
    case v1::ValidatorChange::kRemove:
      return CheckRemoval(v, change.remove().name());
    case v1::ValidatorChange::kReplace: {
      const v1::ReplaceValidatorCredentials& r = change.replace();
      if (FindByName(v.base(), r.name()) == nullptr) {
        return Refuse(v1::VALIDATOR_NOT_FOUND, "no validator '" + r.name() + "' to change");
      }
      REEL_TRY(CheckUnused(v, "", r.public_key(), r.tls_cert_pem()));
      if (r.tls_cert_pem().empty()) return Accept();
      REEL_TRY(CheckCertificate(ctx, v.governance, r.tls_cert_pem(), "the new certificate"));
      return CheckCertificateNames(r.tls_cert_pem(), r.name());
    }
    case v1::ValidatorChange::kConsensus:
      return Accept();
    case v1::ValidatorChange::CHANGE_NOT_SET:
      break;
  }
  return Refuse(v1::MALFORMED, "the change names nothing to change");
}

void ApplyToSet(const v1::ValidatorChange& change, v1::ValidatorSet* set) {
  auto* validators = set->mutable_validators();
  switch (change.change_case()) {
    case v1::ValidatorChange::kAdd:
      *validators->Add() = change.add();
      return;
    case v1::ValidatorChange::kRemove:
      for (int i = 0; i < validators->size(); ++i) {
        if (validators->Get(i).name() == change.remove().name()) {
          validators->erase(validators->begin() + i);  // keeps the order of the others
          return;
        }
      }
      return;
    case v1::ValidatorChange::kReplace:
      for (v1::Validator& v : *validators) {
        if (v.name() != change.replace().name()) continue;
        if (!change.replace().public_key().empty()) v.set_public_key(change.replace().public_key());
        if (!change.replace().tls_cert_pem().empty()) {
          v.set_tls_cert_pem(change.replace().tls_cert_pem());
          v.clear_tls_cert_sha256();
        }
      }
      return;
    case v1::ValidatorChange::kConsensus:
      *set->mutable_consensus() = change.consensus();
      return;
    case v1::ValidatorChange::CHANGE_NOT_SET:
      return;
  }
}

// Enough approvals: check the change again, mark it approved, and record the set of the
// next epoch with it.
Refusal TakeEffect(TxContext& ctx, const Validators& v, v1::ValidatorChangeRecord* record) {
  REEL_TRY(CheckChange(ctx, v, record->change()));
  v1::NextValidatorSet next = v.next.value_or(v1::NextValidatorSet());
  if (!v.next) *next.mutable_validator_set() = v.current;
  ApplyToSet(record->change(), next.mutable_validator_set());
  next.set_approved_height(ctx.block.height);
  next.add_change_ids(record->change_id());
  if (record->change().has_remove()) next.set_removals(next.removals() + 1);
  ctx.state.Write(layout::ValidatorsKey(kNext), next);
  record->set_status(v1::VALIDATOR_CHANGE_STATUS_APPROVED);
  record->set_decided_height(ctx.block.height);
  return Accept();
}

Refusal LoadPending(const TxContext& ctx, const std::string& change_id,
                    v1::ValidatorChangeRecord* record) {
  std::optional<v1::ValidatorChangeRecord> found =
      ctx.state.Read<v1::ValidatorChangeRecord>(layout::ValidatorChangeKey(change_id));
  if (!found) {
    return Refuse(v1::VALIDATOR_CHANGE_NOT_FOUND, "no validator change '" + change_id + "'");
  }
  if (found->status() != v1::VALIDATOR_CHANGE_STATUS_PENDING) {
    return Refuse(v1::VALIDATOR_CHANGE_NOT_PENDING,
                  "validator change '" + change_id + "' is " +
                      v1::ValidatorChangeStatus_Name(found->status()) + ", no longer pending");
  }
  *record = std::move(*found);
  return Accept();
}

// --- Form -------------------------------------------------------------------------------

Refusal CheckValidatorKey(std::string_view key) {
  if (crypto::PublicKeyFromBytes(key).ok()) return Accept();
  return Refuse(v1::INVALID_PUBLIC_KEY, "a validator key must be a 32-byte Ed25519 public key");
}

// A validator's name is the TLS name its peers dial: a DNS name, as genesis' must be.
Refusal CheckValidatorName(std::string_view name) {
  REEL_TRY(CheckText(name, "validator name", true));
  if (name.size() > limits::daemon_moniker_bytes_max) {
    return Refuse(v1::INVALID_TEXT, "a validator name has at most " +
                                        std::to_string(limits::daemon_moniker_bytes_max) +
                                        " bytes");
  }
  if (IsDnsName(name, limits::daemon_moniker_bytes_max)) return Accept();
  return Refuse(v1::INVALID_TEXT,
                "a validator name is the DNS name its peers dial: [A-Za-z0-9.-], not starting "
                "with '.' or '-', not ending with '.'");
}

// host:port, with a port of 1..65535; the host is not resolved.
Refusal CheckAddress(std::string_view address) {
  const size_t colon = address.rfind(':');
  const std::string_view port = colon == std::string_view::npos ? "" : address.substr(colon + 1);
  const bool digits =
      !port.empty() && port.size() <= 5 &&
      std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; });
  if (colon == 0 || !digits || std::stoul(std::string(port)) == 0 ||
      std::stoul(std::string(port)) > 65535 || address.size() > 255) {
    return Refuse(v1::INVALID_TEXT, "the validator address must be host:port");
  }
  return Accept();
}

// The same bounds as genesis' (node/config/consensus_params.h).
Refusal FormConsensus(const v1::ConsensusParams& params) {
  if (std::optional<config::ConsensusParamsError> bad = config::CheckConsensusParams(params)) {
    return Refuse(v1::INVALID_CONSENSUS_PARAMS, bad->field + ": " + bad->what);
  }
  return Accept();
}

v1::ValidatorChange ChangeOf(const v1::ProposeValidatorChange& propose_validator_change) {
  v1::ValidatorChange change;
  switch (propose_validator_change.change_case()) {
    case v1::ProposeValidatorChange::kAdd:
      *change.mutable_add() = propose_validator_change.add();
      break;
    case v1::ProposeValidatorChange::kRemove:
      *change.mutable_remove() = propose_validator_change.remove();
      break;
    case v1::ProposeValidatorChange::kReplace:
      *change.mutable_replace() = propose_validator_change.replace();
      break;
    case v1::ProposeValidatorChange::kConsensus:
      *change.mutable_consensus() = propose_validator_change.consensus();
      break;
    case v1::ProposeValidatorChange::CHANGE_NOT_SET:
      break;
  }
  return change;
}

}  // namespace

// --- Kinds ------------------------------------------------------------------------------

Refusal FormProposeValidatorChange(const v1::ProposeValidatorChange& propose_validator_change) {
  REEL_TRY(CheckObjectId(propose_validator_change.change_id(), "change id"));
  switch (propose_validator_change.change_case()) {
    case v1::ProposeValidatorChange::kAdd:
      REEL_TRY(CheckValidatorName(propose_validator_change.add().name()));
      REEL_TRY(CheckOrgId(propose_validator_change.add().org_id(), "validator organisation"));
      REEL_TRY(CheckValidatorKey(propose_validator_change.add().public_key()));
      REEL_TRY(CheckAddress(propose_validator_change.add().address()));
      if (propose_validator_change.add().tls_cert_pem().empty() ||
          !propose_validator_change.add().tls_cert_sha256().empty()) {
        return Refuse(v1::MALFORMED,
                      "a new validator needs tls_cert_pem (and no tls_cert_sha256): the ledger "
                      "checks the certificate against the chain's CA");
      }
      return Accept();
    case v1::ProposeValidatorChange::kRemove:
      return CheckValidatorName(propose_validator_change.remove().name());
    case v1::ProposeValidatorChange::kReplace:
      REEL_TRY(CheckValidatorName(propose_validator_change.replace().name()));
      if (propose_validator_change.replace().public_key().empty() &&
          propose_validator_change.replace().tls_cert_pem().empty()) {
        return Refuse(v1::EMPTY_UPDATE, "the replacement names neither a key nor a certificate");
      }
      if (!propose_validator_change.replace().public_key().empty())
        REEL_TRY(CheckValidatorKey(propose_validator_change.replace().public_key()));
      return Accept();
    case v1::ProposeValidatorChange::kConsensus:
      return FormConsensus(propose_validator_change.consensus());
    case v1::ProposeValidatorChange::CHANGE_NOT_SET:
      break;
  }
  return Refuse(v1::MALFORMED, "the proposal names no change (add, remove, replace or consensus)");
}

Refusal ApplyProposeValidatorChange(TxContext& ctx,
                                    const v1::ProposeValidatorChange& propose_validator_change) {
  const Validators v = Load(ctx.state);
  REEL_TRY(RequireGoverning(ctx, v));
  const std::string key = layout::ValidatorChangeKey(propose_validator_change.change_id());
  if (ctx.state.overlay().Get(key).has_value()) {
    return Refuse(v1::VALIDATOR_CHANGE_EXISTS,
                  "validator change '" + propose_validator_change.change_id() + "' already exists");
  }
  v1::ValidatorChangeRecord record;
  record.set_change_id(propose_validator_change.change_id());
  record.set_proposer_org_id(ctx.signer_id());
  *record.mutable_change() = ChangeOf(propose_validator_change);
  REEL_TRY(CheckChange(ctx, v, record.change()));
  record.set_status(v1::VALIDATOR_CHANGE_STATUS_PENDING);
  record.add_approver_org_ids(ctx.signer_id());
  record.set_proposed_height(ctx.block.height);
  if (v.governance.approvals_required() <= 1) REEL_TRY(TakeEffect(ctx, v, &record));
  ctx.state.Write(key, record);
  return Accept();
}

void EventProposeValidatorChange(const v1::ProposeValidatorChange& propose_validator_change,
                                 const TxOutcome&, v1::Event* e) {
  e->set_validator_change_id(propose_validator_change.change_id());
  if (propose_validator_change.has_add()) e->add_org_ids(propose_validator_change.add().org_id());
}

Refusal FormApproveValidatorChange(const v1::ApproveValidatorChange& approve_validator_change) {
  return CheckObjectId(approve_validator_change.change_id(), "change id");
}

Refusal ApplyApproveValidatorChange(TxContext& ctx,
                                    const v1::ApproveValidatorChange& approve_validator_change) {
  const Validators v = Load(ctx.state);
  REEL_TRY(RequireGoverning(ctx, v));
  v1::ValidatorChangeRecord record;
  REEL_TRY(LoadPending(ctx, approve_validator_change.change_id(), &record));
  auto* approvers = record.mutable_approver_org_ids();
  if (std::find(approvers->begin(), approvers->end(), ctx.signer_id()) != approvers->end()) {
    return Refuse(v1::ALREADY_APPROVED, "'" + ctx.signer_id() + "' has already approved '" +
                                            approve_validator_change.change_id() + "'");
  }
  *approvers->Add() = ctx.signer_id();
  std::sort(approvers->begin(), approvers->end());
  if (static_cast<uint32_t>(approvers->size()) >= v.governance.approvals_required()) {
    REEL_TRY(TakeEffect(ctx, v, &record));
  }
  ctx.state.Write(layout::ValidatorChangeKey(approve_validator_change.change_id()), record);
  return Accept();
}

void EventApproveValidatorChange(const v1::ApproveValidatorChange& approve_validator_change,
                                 const TxOutcome&, v1::Event* e) {
  e->set_validator_change_id(approve_validator_change.change_id());
}

Refusal FormWithdrawValidatorChange(const v1::WithdrawValidatorChange& withdraw_validator_change) {
  REEL_TRY(CheckObjectId(withdraw_validator_change.change_id(), "change id"));
  return CheckText(withdraw_validator_change.reason(), "reason", false);
}

Refusal ApplyWithdrawValidatorChange(TxContext& ctx,
                                     const v1::WithdrawValidatorChange& withdraw_validator_change) {
  v1::ValidatorChangeRecord record;
  REEL_TRY(LoadPending(ctx, withdraw_validator_change.change_id(), &record));
  if (record.proposer_org_id() != ctx.signer_id()) {
    return Refuse(v1::NOT_PROPOSER, "only its proposer '" + record.proposer_org_id() +
                                        "' may withdraw '" + withdraw_validator_change.change_id() +
                                        "'");
  }
  record.set_status(v1::VALIDATOR_CHANGE_STATUS_WITHDRAWN);
  record.set_decided_height(ctx.block.height);
  ctx.state.Write(layout::ValidatorChangeKey(withdraw_validator_change.change_id()), record);
  return Accept();
}

void EventWithdrawValidatorChange(const v1::WithdrawValidatorChange& withdraw_validator_change,
                                  const TxOutcome&, v1::Event* e) {
  e->set_validator_change_id(withdraw_validator_change.change_id());
}

// --- Genesis and queries (validators.h) ---------------------------------------------------

v1::ValidatorGovernance GovernanceOf(const v1::Genesis& genesis) {
  v1::ValidatorGovernance gov;
  if (genesis.has_governance() && !genesis.governance().governing_org_ids().empty()) {
    *gov.mutable_governing_org_ids() = genesis.governance().governing_org_ids();
  } else {
    for (const v1::RegisterOrg& org : genesis.orgs()) {
      const bool governs = std::any_of(org.roles().begin(), org.roles().end(), [](int role) {
        return role == v1::ROLE_REGULATOR || role == v1::ROLE_EXPORT_AUTHORITY;
      });
      if (governs) gov.add_governing_org_ids(org.org_id());
    }
  }
  std::sort(gov.mutable_governing_org_ids()->begin(), gov.mutable_governing_org_ids()->end());
  const uint32_t count = static_cast<uint32_t>(gov.governing_org_ids_size());
  const uint32_t required =
      genesis.has_governance() ? genesis.governance().approvals_required() : 0;
  gov.set_approvals_required(required != 0 ? required : count / 2 + 1);
  gov.set_tls_ca_pem(genesis.tls_ca_pem());
  return gov;
}

void PutGenesisValidators(const v1::Genesis& genesis, State& state) {
  state.Write(layout::ValidatorsKey(kGovernance), GovernanceOf(genesis));
  v1::ValidatorSet set;
  *set.mutable_validators() = genesis.validators();
  *set.mutable_consensus() = genesis.consensus();
  state.Write(layout::ValidatorsKey(kCurrent), set);
}

void BeginApprovedEpoch(State& state, uint64_t height) {
  std::optional<v1::NextValidatorSet> next =
      state.Read<v1::NextValidatorSet>(layout::ValidatorsKey(kNext));
  if (!next) return;
  REEL_ASSERT(next->approved_height() == height);  // never left over from an earlier block
  const v1::ValidatorSet current =
      state.Read<v1::ValidatorSet>(layout::ValidatorsKey(kCurrent)).value_or(v1::ValidatorSet());
  v1::ValidatorSet set = next->validator_set();
  set.set_epoch(current.epoch() + 1);
  set.set_start_height(height);
  state.Write(layout::ValidatorsKey(kCurrent), set);
  state.overlay().Delete(layout::ValidatorsKey(kNext));
}

uint32_t FaultsTolerated(size_t validator_count) {
  return validator_count == 0 ? 0 : static_cast<uint32_t>((validator_count - 1) / 3);
}

namespace {

template <typename M>
Result<std::optional<M>> ReadRecord(const storage::ReadView& view, const std::string& key) {
  Result<std::optional<std::string>> got = view.Get(key);
  if (!got.ok()) return got.status();
  if (!got->has_value()) return std::optional<M>();
  M message;
  if (!message.ParseFromString(**got)) {
    return Status::Corruption("ledger record " + ToHex(key) + " does not parse");
  }
  return std::optional<M>(std::move(message));
}

}  // namespace

Result<v1::ValidatorSet> CurrentValidatorSet(const storage::ReadView& view) {
  Result<std::optional<v1::ValidatorSet>> set =
      ReadRecord<v1::ValidatorSet>(view, layout::ValidatorsKey(kCurrent));
  if (!set.ok()) return set.status();
  return set->value_or(v1::ValidatorSet());
}

Result<std::optional<v1::NextValidatorSet>> PendingEpochChange(const storage::ReadView& view) {
  return ReadRecord<v1::NextValidatorSet>(view, layout::ValidatorsKey(kNext));
}

Result<std::optional<v1::ValidatorSet>> EpochEndedAt(const storage::ReadView& view,
                                                     uint64_t height) {
  Result<v1::ValidatorSet> current = CurrentValidatorSet(view);
  if (!current.ok()) return current.status();
  if (height == 0 || current->start_height() != height) return std::optional<v1::ValidatorSet>();
  return std::optional<v1::ValidatorSet>(*std::move(current));
}

Result<std::optional<v1::ValidatorChangeRecord>> GetValidatorChange(const storage::ReadView& view,
                                                                    std::string_view change_id) {
  return ReadRecord<v1::ValidatorChangeRecord>(view, layout::ValidatorChangeKey(change_id));
}

Result<v1::ValidatorGovernance> GetValidatorGovernance(const storage::ReadView& view) {
  Result<std::optional<v1::ValidatorGovernance>> gov =
      ReadRecord<v1::ValidatorGovernance>(view, layout::ValidatorsKey(kGovernance));
  if (!gov.ok()) return gov.status();
  return gov->value_or(v1::ValidatorGovernance());
}

}  // namespace reel::ledger
