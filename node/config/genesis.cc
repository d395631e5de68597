#include "node/config/genesis.h"

#include <google/protobuf/util/json_util.h>

#include <algorithm>
#include <fstream>
#include <set>

#include "base/limits.h"
#include "node/config/config.h"
#include "node/config/consensus_params.h"
#include "reel/v1/types.pb.h"

namespace reel::config {
namespace {

using reel::v1::Genesis;

// Collects the first error with its field path; the checks below read as a list.
class Checker {
 public:
  explicit Checker(std::string_view source) : source_(source) {}

  // Records "source: path: what" unless an earlier error is already recorded.
  bool Fail(const std::string& path, const std::string& what) {
    if (status_.ok()) {
      status_ = Status::InvalidArgument(std::string(source_) + ": " + path + ": " + what);
    }
    return false;
  }
  bool Require(bool condition, const std::string& path, const std::string& what) {
    return condition || Fail(path, what);
  }
  bool Bytes(std::string_view value, size_t expected, const std::string& path) {
    return Require(
        value.size() == expected, path,
        "expected " + std::to_string(expected) + " bytes, got " + std::to_string(value.size()));
  }
  bool ok() const { return status_.ok(); }
  Status status() const { return status_; }

 private:
  std::string_view source_;
  Status status_;
};

std::string At(std::string_view list, size_t index) {
  return std::string(list) + "[" + std::to_string(index) + "]";
}

bool IsPrintableUtf8Text(std::string_view text) {
  // Control characters in an id end up in logs and file names; refuse them. Bytes
  // >= 0x80 are allowed (UTF-8); protobuf has already checked the encoding.
  return std::none_of(text.begin(), text.end(),
                      [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; });
}

// org_id: [a-z0-9][a-z0-9._-]{1,62} (tx.proto, RegisterOrg).
bool IsOrgId(std::string_view id) {
  if (id.size() < 2 || id.size() > limits::org_id_bytes_max) return false;
  auto lower_or_digit = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  if (!lower_or_digit(id.front())) return false;
  return std::all_of(id.begin() + 1, id.end(),
                     [&](char c) { return lower_or_digit(c) || c == '.' || c == '_' || c == '-'; });
}

// site_id: [A-Za-z0-9._:-]{1,64} (tx.proto, RegisterSite).
bool IsSiteId(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == ':' || c == '-';
  });
}

// A draft (a genesis being assembled, `reel genesis add-*`) may still lack validators,
// organisations and a regulator; each entry it has is checked all the same.
void CheckValidators(const Genesis& genesis, bool draft, Checker& check) {
  check.Require(draft || !genesis.validators().empty(), "validators",
                "at least one validator is needed");
  check.Require(static_cast<size_t>(genesis.validators_size()) <= limits::validators_max,
                "validators",
                "at most " + std::to_string(limits::validators_max) + " validators, got " +
                    std::to_string(genesis.validators_size()));
  std::set<std::string> names;
  std::set<std::string> keys;
  for (int i = 0; i < genesis.validators_size() && check.ok(); ++i) {
    const reel::v1::Validator& v = genesis.validators(i);
    std::string path = At("validators", static_cast<size_t>(i));
    check.Require(
        !v.name().empty() && v.name().size() <= limits::daemon_moniker_bytes_max &&
            IsPrintableUtf8Text(v.name()),
        path + ".name",
        "expected 1 to " + std::to_string(limits::daemon_moniker_bytes_max) + " printable bytes");
    check.Require(names.insert(v.name()).second, path + ".name",
                  "\"" + v.name() + "\" is already the name of an earlier validator");
    check.Require(!v.org_id().empty(), path + ".org_id", "must name the organisation");
    check.Bytes(v.public_key(), 32, path + ".public_key");
    check.Require(keys.insert(v.public_key()).second, path + ".public_key",
                  "the same key as an earlier validator");
    Result<HostPort> address = ParseHostPort(v.address());
    check.Require(address.ok(), path + ".address", address.ok() ? "" : address.status().message());
    if (v.tls_cert_pem().empty()) {
      check.Require(!v.tls_cert_sha256().empty(), path,
                    "needs tls_cert_pem or tls_cert_sha256 (peers authenticate it by it)");
      check.Bytes(v.tls_cert_sha256(), 32, path + ".tls_cert_sha256");
    } else {
      check.Require(v.tls_cert_pem().find("-----BEGIN CERTIFICATE-----") != std::string::npos,
                    path + ".tls_cert_pem", "expected a PEM certificate");
      check.Require(v.tls_cert_sha256().empty() || v.tls_cert_sha256().size() == 32,
                    path + ".tls_cert_sha256", "expected 32 bytes or nothing");
    }
  }
}

void CheckOrgs(const Genesis& genesis, bool draft, Checker& check, std::set<std::string>& org_ids) {
  check.Require(draft || !genesis.orgs().empty(), "orgs", "at least one organisation is needed");
  bool has_regulator = false;
  for (int i = 0; i < genesis.orgs_size() && check.ok(); ++i) {
    const reel::v1::RegisterOrg& org = genesis.orgs(i);
    std::string path = At("orgs", static_cast<size_t>(i));
    check.Require(IsOrgId(org.org_id()), path + ".org_id",
                  "expected [a-z0-9][a-z0-9._-]{1,62}, got \"" + org.org_id() + "\"");
    check.Require(org_ids.insert(org.org_id()).second, path + ".org_id",
                  "\"" + org.org_id() + "\" is registered twice");
    check.Require(
        org.kind() != reel::v1::ORG_KIND_UNSPECIFIED && reel::v1::OrgKind_IsValid(org.kind()),
        path + ".kind", "must be a known ORG_KIND_*");
    std::set<int> roles;
    for (int r = 0; r < org.roles_size() && check.ok(); ++r) {
      std::string role_path = path + ".roles" + "[" + std::to_string(r) + "]";
      check.Require(
          org.roles(r) != reel::v1::ROLE_UNSPECIFIED && reel::v1::Role_IsValid(org.roles(r)),
          role_path, "must be a known ROLE_*");
      check.Require(roles.insert(org.roles(r)).second, role_path, "listed twice");
      has_regulator = has_regulator || org.roles(r) == reel::v1::ROLE_REGULATOR;
    }
    check.Require(!org.signatory_keys().empty() &&
                      static_cast<size_t>(org.signatory_keys_size()) <= limits::ledger_org_keys_max,
                  path + ".signatory_keys",
                  "expected 1 to " + std::to_string(limits::ledger_org_keys_max) + " keys");
    std::set<std::string> keys;
    for (int k = 0; k < org.signatory_keys_size() && check.ok(); ++k) {
      std::string key_path = path + ".signatory_keys[" + std::to_string(k) + "]";
      check.Bytes(org.signatory_keys(k), 32, key_path);
      check.Require(keys.insert(org.signatory_keys(k)).second, key_path, "listed twice");
    }
    check.Require(org.quorum() >= 1 && org.quorum() <= static_cast<uint32_t>(keys.size()),
                  path + ".quorum",
                  "must be between 1 and the number of signatory keys (" +
                      std::to_string(keys.size()) + "), got " + std::to_string(org.quorum()));
  }
  if (check.ok() && !draft) {
    check.Require(has_regulator, "orgs",
                  "no organisation holds ROLE_REGULATOR, so the chain could not be governed");
  }
}

void CheckSitesAndQuotas(const Genesis& genesis, Checker& check,
                         const std::set<std::string>& org_ids) {
  std::set<std::string> site_ids;
  for (int i = 0; i < genesis.sites_size() && check.ok(); ++i) {
    const reel::v1::RegisterSite& site = genesis.sites(i);
    std::string path = At("sites", static_cast<size_t>(i));
    check.Require(IsSiteId(site.site_id()), path + ".site_id",
                  "expected [A-Za-z0-9._:-]{1,64}, got \"" + site.site_id() + "\"");
    check.Require(site_ids.insert(site.site_id()).second, path + ".site_id", "registered twice");
    check.Require(org_ids.count(site.org_id()) == 1, path + ".org_id",
                  "\"" + site.org_id() + "\" is not one of the genesis orgs");
    check.Require(
        site.kind() != reel::v1::SITE_KIND_UNSPECIFIED && reel::v1::SiteKind_IsValid(site.kind()),
        path + ".kind", "must be a known SITE_KIND_*");
  }
  for (int i = 0; i < genesis.quotas_size() && check.ok(); ++i) {
    const reel::v1::SetQuota& quota = genesis.quotas(i);
    std::string path = At("quotas", static_cast<size_t>(i));
    check.Require(org_ids.count(quota.org_id()) == 1, path + ".org_id",
                  "\"" + quota.org_id() + "\" is not one of the genesis orgs");
    check.Require(quota.year() >= limits::ledger_quota_year_min &&
                      quota.year() <= limits::ledger_quota_year_max,
                  path + ".year",
                  "must be between " + std::to_string(limits::ledger_quota_year_min) + " and " +
                      std::to_string(limits::ledger_quota_year_max));
    check.Require(quota.category() != reel::v1::QUOTA_CATEGORY_UNSPECIFIED &&
                      reel::v1::QuotaCategory_IsValid(quota.category()),
                  path + ".category", "must be a known QUOTA_CATEGORY_*");
    check.Require(quota.amount_g() >= 0, path + ".amount_g", "must not be negative");
  }
}

// Genesis.governance: who may change the validator set. Absent, the ledger defaults to
// the REGULATOR and EXPORT_AUTHORITY organisations and a majority of them (there is
// always a regulator, checked above).
void CheckGovernance(const Genesis& genesis, Checker& check, const std::set<std::string>& org_ids) {
  if (!genesis.has_governance()) return;
  const reel::v1::Governance& gov = genesis.governance();
  check.Require(!gov.governing_org_ids().empty(), "governance.governing_org_ids",
                "at least one organisation must govern the validator set");
  std::set<std::string> seen;
  for (int i = 0; i < gov.governing_org_ids_size() && check.ok(); ++i) {
    const std::string& id = gov.governing_org_ids(i);
    std::string path = At("governance.governing_org_ids", static_cast<size_t>(i));
    check.Require(org_ids.count(id) == 1, path, "\"" + id + "\" is not one of the genesis orgs");
    check.Require(seen.insert(id).second, path, "\"" + id + "\" is listed twice");
  }
  check.Require(gov.approvals_required() <= seen.size(), "governance.approvals_required",
                "must be between 1 and the number of governing organisations (" +
                    std::to_string(seen.size()) + "), or 0 for a majority; got " +
                    std::to_string(gov.approvals_required()));
}

}  // namespace

Result<Genesis> ParseGenesisJson(std::string_view json, std::string_view source) {
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = false;  // a misspelt key must be an error
  Genesis genesis;
  auto status = google::protobuf::util::JsonStringToMessage(
      google::protobuf::StringPiece(json.data(), json.size()), &genesis, options);
  if (!status.ok()) {
    return Status::InvalidArgument(
        std::string(source) + ": not a valid reel.v1.Genesis: " + std::string(status.message()));
  }
  return genesis;
}

namespace {

Status Validate(const Genesis& genesis, std::string_view source, bool draft) {
  Checker check(source);
  check.Require(
      !genesis.chain_id().empty() && genesis.chain_id().size() <= limits::chain_id_bytes_max,
      "chain_id",
      "must be 1 to " + std::to_string(limits::chain_id_bytes_max) + " bytes, got " +
          std::to_string(genesis.chain_id().size()));
  check.Require(IsPrintableUtf8Text(genesis.chain_id()), "chain_id",
                "must not contain control characters");
  check.Require(genesis.genesis_time_ms() > 0, "genesis_time_ms", "must be set (Unix ms)");
  // Optional until peer networking is wired; the peer transport decides whether it
  // needs one. When present it must at least be a PEM certificate.
  check.Require(genesis.tls_ca_pem().empty() ||
                    genesis.tls_ca_pem().find("-----BEGIN CERTIFICATE-----") != std::string::npos,
                "tls_ca_pem", "expected a PEM certificate");
  if (check.ok()) CheckValidators(genesis, draft, check);
  std::set<std::string> org_ids;
  if (check.ok()) CheckOrgs(genesis, draft, check, org_ids);
  if (check.ok()) CheckSitesAndQuotas(genesis, check, org_ids);
  if (check.ok()) CheckGovernance(genesis, check, org_ids);
  if (check.ok()) {
    if (std::optional<ConsensusParamsError> bad = CheckConsensusParams(genesis.consensus())) {
      check.Fail(bad->field, bad->what);
    }
  }
  return check.status();
}

}  // namespace

Status ValidateGenesis(const Genesis& genesis, std::string_view source) {
  return Validate(genesis, source, /*draft=*/false);
}

Status ValidateGenesisDraft(const Genesis& genesis, std::string_view source) {
  return Validate(genesis, source, /*draft=*/true);
}

Result<Genesis> LoadGenesis(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return Status::NotFound(path +
                            ": cannot open the genesis file (it comes from `reel testnet init` "
                            "or the chain's operators)");
  }
  std::string text(limits::daemon_genesis_file_bytes_max + 1, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  if (in.bad()) return Status::IoError(path + ": cannot read the genesis file");
  text.resize(static_cast<size_t>(in.gcount()));
  if (text.size() > limits::daemon_genesis_file_bytes_max) {
    return Status::InvalidArgument(path + ": larger than " +
                                   std::to_string(limits::daemon_genesis_file_bytes_max) +
                                   " bytes; this is not a genesis file");
  }
  Result<Genesis> genesis = ParseGenesisJson(text, path);
  if (!genesis.ok()) return genesis.status();
  REEL_RETURN_IF_ERROR(ValidateGenesis(*genesis, path));
  return genesis;
}

std::optional<size_t> FindValidator(const Genesis& genesis, const crypto::PublicKey& key) {
  std::string_view bytes(reinterpret_cast<const char*>(key.data()), key.size());
  for (int i = 0; i < genesis.validators_size(); ++i) {
    if (genesis.validators(i).public_key() == bytes) return static_cast<size_t>(i);
  }
  return std::nullopt;
}

}  // namespace reel::config
