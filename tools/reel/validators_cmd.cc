// reel validators: the validator set for the operators of the governing organisations
// (the ministries, by default), over the queries ListValidatorChanges and
// GetValidatorChange, and the transactions ProposeValidatorChange, ApproveValidatorChange
// and WithdrawValidatorChange (docs/LEDGER.md), signed as `reel tx` signs (tx_submit.h).
//
//   list                      the current epoch: validators, consensus timings, governance,
//                             and the pending changes with their approvals
//   show CHANGE_ID            one change: what, status, proposer, approvers, heights
//   show --name NAME          one validator of the current set
//   propose add|remove|replace|timings   one change; its proposal is the first approval
//   approve CHANGE_ID, withdraw CHANGE_ID [--reason]
//
// `propose add` takes what `reel node request --validator` and `reel ca sign` make: the
// public key file (keys/validator_key.pub, or any form ReadPublicKey reads) and the signed
// certificate, or the member's folder with both (--from-request DIR). `propose timings`
// starts from the current epoch's timings and changes only the flags given, since a
// change replaces the whole ConsensusParams. After a commit each transaction command
// prints the change as the ledger now holds it: pending with k of m approvals, approved
// with the epoch it began, or withdrawn.
#include <google/protobuf/descriptor.h>

#include <chrono>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>

#include "base/bytes.h"
#include "node/config/config.h"
#include "node/config/home.h"
#include "node/net/tls.h"
#include "reel/v1/api.grpc.pb.h"
#include "tools/reel/chain_setup.h"
#include "tools/reel/cli.h"
#include "tools/reel/proto_flags.h"
#include "tools/reel/rpc.h"
#include "tools/reel/tx_submit.h"

namespace reel::cli {
namespace {

namespace fs = std::filesystem;
namespace pb = google::protobuf;

// A list longer than this many pages is cut (a chain has a handful of changes a year).
constexpr int kChangePagesMax = 100;
constexpr size_t kShortHex = 16;  // hex digits of a key or digest in a table

std::string Short(const std::string& hex) {
  return hex.size() <= kShortHex ? hex : hex.substr(0, kShortHex) + "...";
}

std::string Joined(const google::protobuf::RepeatedPtrField<std::string>& items) {
  std::string out;
  for (const std::string& item : items) out += (out.empty() ? "" : ", ") + item;
  return out;
}

std::string StatusWord(v1::ValidatorChangeStatus status) {
  return EnumShortName(v1::ValidatorChangeStatus_descriptor()->FindValueByNumber(status));
}

// The SHA-256 of a validator's certificate, hex: what peers pin.
std::string CertSha256Hex(const v1::Validator& v) {
  if (!v.tls_cert_pem().empty()) {
    Result<std::string> sha256 = net::CertSha256(v.tls_cert_pem());
    return sha256.ok() ? ToHex(*sha256) : "unreadable";
  }
  return ToHex(v.tls_cert_sha256());
}

// The fields of a ConsensusParams as (name, value); 0 is the node's default.
std::vector<std::pair<std::string, std::string>> ConsensusFields(const v1::ConsensusParams& p) {
  std::vector<std::pair<std::string, std::string>> out;
  const pb::Descriptor* d = p.GetDescriptor();
  const pb::Reflection* r = p.GetReflection();
  for (int i = 0; i < d->field_count(); ++i) {
    const pb::FieldDescriptor* f = d->field(i);
    const uint64_t value = f->cpp_type() == pb::FieldDescriptor::CPPTYPE_UINT32
                               ? r->GetUInt32(p, f)
                               : r->GetUInt64(p, f);
    out.emplace_back(f->name(), value == 0 ? "0 (default)" : std::to_string(value));
  }
  return out;
}

// One line for a person: what the change does.
std::string Describe(const v1::ValidatorChange& change) {
  switch (change.change_case()) {
    case v1::ValidatorChange::kAdd: {
      const v1::Validator& v = change.add();
      return "add " + v.name() + " (org " + v.org_id() + ", " + v.address() + ", key " +
             Short(ToHex(v.public_key())) + ", cert " + Short(CertSha256Hex(v)) + ")";
    }
    case v1::ValidatorChange::kRemove:
      return "remove " + change.remove().name();
    case v1::ValidatorChange::kReplace: {
      const v1::ReplaceValidatorCredentials& r = change.replace();
      std::string what = "replace " + r.name() + ":";
      if (!r.public_key().empty()) what += " key " + Short(ToHex(r.public_key()));
      if (!r.tls_cert_pem().empty()) {
        Result<std::string> sha256 = net::CertSha256(r.tls_cert_pem());
        what += " cert " + (sha256.ok() ? Short(ToHex(*sha256)) : std::string("unreadable"));
      }
      return what;
    }
    case v1::ValidatorChange::kConsensus: {
      std::string what = "timings:";
      for (const auto& [name, value] : ConsensusFields(change.consensus())) {
        if (value.find("default") == std::string::npos) what += " " + name + "=" + value;
      }
      return what + " (others: default)";
    }
    case v1::ValidatorChange::CHANGE_NOT_SET:
      break;
  }
  return "nothing";
}

// Governing organisations that have not approved yet.
std::vector<std::string> WaitingFor(const v1::ValidatorChangeRecord& change,
                                    const v1::ValidatorGovernance& governance) {
  std::vector<std::string> waiting;
  for (const std::string& org : governance.governing_org_ids()) {
    const auto& approvers = change.approver_org_ids();
    if (std::find(approvers.begin(), approvers.end(), org) == approvers.end()) {
      waiting.push_back(org);
    }
  }
  return waiting;
}

std::string Approvals(const v1::ValidatorChangeRecord& change,
                      const v1::ValidatorGovernance& governance) {
  return std::to_string(change.approver_org_ids_size()) + " of " +
         std::to_string(governance.approvals_required());
}

// What an approved or withdrawn change did; `current` is the set now in force.
std::string Effect(const v1::ValidatorChangeRecord& change, const v1::ValidatorSet& current) {
  const std::string at = std::to_string(change.decided_height());
  switch (change.status()) {
    case v1::VALIDATOR_CHANGE_STATUS_PENDING:
      return "none yet: it takes effect at the end of the block that brings its last approval";
    case v1::VALIDATOR_CHANGE_STATUS_APPROVED:
      if (current.start_height() == change.decided_height()) {
        return "epoch " + std::to_string(current.epoch()) + " began with it at the end of block " +
               at;
      }
      return "in force since the end of block " + at + " (epoch now " +
             std::to_string(current.epoch()) + ")";
    case v1::VALIDATOR_CHANGE_STATUS_WITHDRAWN:
      return "withdrawn at block " + at + "; its id stays used";
    default:
      return "";
  }
}

nlohmann::json AsJson(const pb::Message& message) {
  return nlohmann::json::parse(ToJson(message, /*pretty=*/false));
}

// --- the queries ------------------------------------------------------------------

// Every change with `status` (UNSPECIFIED: any), with the governance and the current set
// of the first page.
Result<v1::ListValidatorChangesResponse> FetchChanges(const NodeOptions& node,
                                                      v1::ValidatorChangeStatus status,
                                                      uint32_t page_size = 0) {
  const pb::MethodDescriptor* method = ApiService()->FindMethodByName("ListValidatorChanges");
  v1::ListValidatorChangesRequest request;
  request.set_status(status);
  request.set_page_size(page_size);
  v1::ListValidatorChangesResponse all;
  for (int page = 0; page < kChangePagesMax; ++page) {
    v1::ListValidatorChangesResponse answer;
    REEL_RETURN_IF_ERROR(CallUnary(node, method, request, &answer));
    if (page == 0) {
      *all.mutable_governance() = answer.governance();
      *all.mutable_current() = answer.current();
    }
    for (v1::ValidatorChangeRecord& c : *answer.mutable_changes())
      *all.add_changes() = std::move(c);
    // One page is enough when the caller asked for a page's worth only.
    if (answer.next_page_token().empty() || page_size != 0) break;
    request.set_page_token(answer.next_page_token());
  }
  return all;
}

Result<v1::GetValidatorChangeResponse> FetchChange(const NodeOptions& node,
                                                   const std::string& change_id) {
  v1::GetValidatorChangeRequest request;
  request.set_change_id(change_id);
  v1::GetValidatorChangeResponse answer;
  REEL_RETURN_IF_ERROR(
      CallUnary(node, ApiService()->FindMethodByName("GetValidatorChange"), request, &answer));
  return answer;
}

// The set in force now (one short page of changes comes with it).
Result<v1::ValidatorSet> FetchCurrentSet(const NodeOptions& node) {
  Result<v1::ListValidatorChangesResponse> answer =
      FetchChanges(node, v1::VALIDATOR_CHANGE_STATUS_UNSPECIFIED, 1);
  if (!answer.ok()) return answer.status();
  return answer->current();
}

// --- list and show ----------------------------------------------------------------

struct ListOptions {
  NodeOptions node;
  std::string status = "pending";
};

Result<v1::ValidatorChangeStatus> StatusFilter(const std::string& word) {
  if (word == "all") return v1::VALIDATOR_CHANGE_STATUS_UNSPECIFIED;
  for (v1::ValidatorChangeStatus s :
       {v1::VALIDATOR_CHANGE_STATUS_PENDING, v1::VALIDATOR_CHANGE_STATUS_APPROVED,
        v1::VALIDATOR_CHANGE_STATUS_WITHDRAWN}) {
    std::string name = StatusWord(s);
    std::transform(name.begin(), name.end(), name.begin(), ::tolower);
    if (word == name) return s;
  }
  return Status::InvalidArgument("--status: '" + word +
                                 "' is not one of pending, approved, withdrawn, all");
}

Status RunList(const Globals& globals, const ListOptions& o) {
  Result<v1::ValidatorChangeStatus> filter = StatusFilter(o.status);
  if (!filter.ok()) return filter.status();
  Result<v1::ListValidatorChangesResponse> answer = FetchChanges(o.node, *filter);
  if (!answer.ok()) return answer.status();
  const v1::ValidatorSet& set = answer->current();
  const v1::ValidatorGovernance& gov = answer->governance();
  if (globals.json) {
    nlohmann::json out;
    out["epoch"] = set.epoch();
    out["start_height"] = set.start_height();
    out["governing_org_ids"] = nlohmann::json::array();
    for (const std::string& org : gov.governing_org_ids()) out["governing_org_ids"].push_back(org);
    out["approvals_required"] = gov.approvals_required();
    out["consensus"] = AsJson(set.consensus());
    out["validators"] = nlohmann::json::array();
    for (int i = 0; i < set.validators_size(); ++i) {
      const v1::Validator& v = set.validators(i);
      out["validators"].push_back({{"index", i},
                                   {"name", v.name()},
                                   {"org_id", v.org_id()},
                                   {"address", v.address()},
                                   {"public_key", ToHex(v.public_key())},
                                   {"tls_cert_sha256", CertSha256Hex(v)}});
    }
    out["changes"] = nlohmann::json::array();
    for (const v1::ValidatorChangeRecord& c : answer->changes()) {
      nlohmann::json change = AsJson(c);
      change["approvals"] = c.approver_org_ids_size();
      change["approvals_required"] = gov.approvals_required();
      change["summary"] = Describe(c.change());
      out["changes"].push_back(std::move(change));
    }
    std::cout << out.dump(2) << "\n";
    return Status::Ok();
  }
  std::vector<std::pair<std::string, std::string>> record = {
      {"epoch", std::to_string(set.epoch())},
      {"epoch_start_height",
       std::to_string(set.start_height()) + (set.epoch() == 0 ? " (genesis)" : "")},
      {"validators", std::to_string(set.validators_size())},
      {"governing_orgs", Joined(gov.governing_org_ids())},
      {"approvals_required", std::to_string(gov.approvals_required())}};
  for (const auto& [name, value] : ConsensusFields(set.consensus())) {
    record.emplace_back("consensus." + name, value);
  }
  PrintRecord(globals, record);
  std::cout << "\n";
  Table validators({"index", "name", "org", "address", "public_key", "cert_sha256"});
  for (int i = 0; i < set.validators_size(); ++i) {
    const v1::Validator& v = set.validators(i);
    validators.Add({std::to_string(i), v.name(), v.org_id(), v.address(),
                    Short(ToHex(v.public_key())), Short(CertSha256Hex(v))});
  }
  validators.Print(globals);
  std::cout << "\n";
  const std::string what = o.status == "all" ? "" : o.status + " ";
  if (answer->changes_size() == 0) {
    std::cout << "no " << what << "changes\n";
    return Status::Ok();
  }
  std::cout << answer->changes_size() << " " << what << "change"
            << (answer->changes_size() == 1 ? "" : "s") << ":\n";
  Table changes(
      {"change_id", "status", "change", "proposer", "approvals", "approvers", "proposed_height"});
  for (const v1::ValidatorChangeRecord& c : answer->changes()) {
    changes.Add({c.change_id(), StatusWord(c.status()), Describe(c.change()), c.proposer_org_id(),
                 Approvals(c, gov), Joined(c.approver_org_ids()),
                 std::to_string(c.proposed_height())});
  }
  changes.Print(globals);
  return Status::Ok();
}

// The change as the ledger holds it, for a person or as JSON; `extra` leads (the
// transaction that brought it there, when there was one).
Status PrintChange(const Globals& globals, const NodeOptions& node,
                   const v1::GetValidatorChangeResponse& answer,
                   std::vector<std::pair<std::string, std::string>> extra) {
  const v1::ValidatorChangeRecord& c = answer.change();
  v1::ValidatorSet current;
  if (c.status() == v1::VALIDATOR_CHANGE_STATUS_APPROVED) {
    Result<v1::ValidatorSet> set = FetchCurrentSet(node);
    if (!set.ok()) return set.status();
    current = *std::move(set);
  }
  const std::vector<std::string> waiting = WaitingFor(c, answer.governance());
  std::string waiting_text;
  for (const std::string& org : waiting) waiting_text += (waiting_text.empty() ? "" : ", ") + org;
  if (globals.json) {
    nlohmann::json out = nlohmann::json::object();
    for (const auto& [k, v] : extra) out[k] = v;
    out["change"] = AsJson(c);
    out["summary"] = Describe(c.change());
    out["approvals"] = c.approver_org_ids_size();
    out["approvals_required"] = answer.governance().approvals_required();
    out["waiting_for"] = waiting;
    if (c.status() == v1::VALIDATOR_CHANGE_STATUS_APPROVED &&
        current.start_height() == c.decided_height()) {
      out["epoch"] = current.epoch();
    }
    out["effect"] = Effect(c, current);
    std::cout << out.dump(2) << "\n";
    return Status::Ok();
  }
  std::vector<std::pair<std::string, std::string>> record = std::move(extra);
  record.insert(record.end(), {{"change_id", c.change_id()},
                               {"status", StatusWord(c.status())},
                               {"change", Describe(c.change())},
                               {"proposer", c.proposer_org_id()},
                               {"approvals", Approvals(c, answer.governance())},
                               {"approvers", Joined(c.approver_org_ids())}});
  if (c.status() == v1::VALIDATOR_CHANGE_STATUS_PENDING) {
    record.emplace_back("waiting_for", waiting_text.empty() ? "-" : waiting_text);
  }
  record.emplace_back("proposed_height", std::to_string(c.proposed_height()));
  record.emplace_back("decided_height",
                      c.decided_height() == 0 ? "-" : std::to_string(c.decided_height()));
  record.emplace_back("effect", Effect(c, current));
  PrintRecord(globals, record);
  return Status::Ok();
}

struct ShowOptions {
  NodeOptions node;
  std::string change_id;
  std::string name;
};

Status RunShowValidator(const Globals& globals, const ShowOptions& o) {
  Result<v1::ValidatorSet> set = FetchCurrentSet(o.node);
  if (!set.ok()) return set.status();
  for (int i = 0; i < set->validators_size(); ++i) {
    const v1::Validator& v = set->validators(i);
    if (v.name() != o.name) continue;
    PrintRecord(globals, {{"epoch", std::to_string(set->epoch())},
                          {"index", std::to_string(i)},
                          {"name", v.name()},
                          {"org_id", v.org_id()},
                          {"address", v.address()},
                          {"public_key", ToHex(v.public_key())},
                          {"tls_cert_sha256", CertSha256Hex(v)}});
    return Status::Ok();
  }
  std::string names;
  for (const v1::Validator& v : set->validators()) names += (names.empty() ? "" : ", ") + v.name();
  return Status::NotFound("--name: no validator '" + o.name + "' in epoch " +
                          std::to_string(set->epoch()) + " (its validators: " + names + ")");
}

Status RunShow(const Globals& globals, const ShowOptions& o) {
  if (o.change_id.empty() == o.name.empty()) {
    return Status::InvalidArgument(
        "give a CHANGE_ID (a proposed change) or --name NAME (a validator of the current set)");
  }
  if (!o.name.empty()) return RunShowValidator(globals, o);
  Result<v1::GetValidatorChangeResponse> answer = FetchChange(o.node, o.change_id);
  if (!answer.ok()) return answer.status();
  return PrintChange(globals, o.node, *answer, {});
}

// --- the transactions -------------------------------------------------------------

// Signs and submits `body`, then prints the change it names as the ledger holds it.
Status SubmitAndReport(const Globals& globals, const SignOptions& sign, v1::TxBody body,
                       const std::string& change_id) {
  Result<std::optional<v1::SubmitTransactionResponse>> response =
      SignAndSubmit(sign, std::move(body));
  if (!response.ok()) return response.status();
  if (!response->has_value()) return Status::Ok();  // --dry-run printed the body
  const v1::SubmitTransactionResponse& tx = **response;
  std::vector<std::pair<std::string, std::string>> head = {
      {"tx_id", ToHex(tx.tx_id())}, {"tx_status", v1::TxStatus_Name(tx.status())}};
  if (tx.status() == v1::TX_STATUS_COMMITTED)
    head.emplace_back("height", std::to_string(tx.height()));
  const Status refused = RefusalOf(tx);
  if (!refused.ok() || tx.status() != v1::TX_STATUS_COMMITTED) {
    // Refused, or not committed yet (--no-wait, or the wait ran out): what the node said.
    head.emplace_back("change_id", change_id);
    if (!refused.ok()) {
      head.emplace_back("code", v1::ErrorCode_Name(tx.result().code()));
      head.emplace_back("message", tx.result().message());
    }
    PrintRecord(globals, head);
    return refused;
  }
  Result<v1::GetValidatorChangeResponse> change = FetchChange(sign.node, change_id);
  if (!change.ok()) return change.status();
  return PrintChange(globals, sign.node, *change, std::move(head));
}

// A change id for a proposal that was given none: what it does and when, unique enough
// for a chain where people propose a handful a year (a clash is refused with
// VALIDATOR_CHANGE_EXISTS, never misapplied).
std::string DefaultChangeId(const std::string& what, const std::string& name) {
  const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(
                           std::chrono::system_clock::now().time_since_epoch())
                           .count();
  std::string id = what + (name.empty() ? "" : "-" + name.substr(0, 40));
  return id + "-" + std::to_string(seconds);
}

struct ProposeOptions {
  SignOptions sign;
  std::string change_id;
  std::string name;
  std::string org;
  std::string public_key;
  std::string from_request;
  std::string address;
  std::string tls_cert;
  std::unique_ptr<MessageFlags> timings;
};

void AddProposeFlags(CLI::App* command, ProposeOptions& o, Globals& globals) {
  AddSignFlags(command, o.sign, globals, true);
  command->add_option("--change-id", o.change_id,
                      "The change's id, unique forever (default: KIND-NAME-UNIXTIME)");
}

// A certificate file, read and parsed: a file that is not a PEM certificate is named.
Result<std::string> ReadCert(const std::string& path, const std::string& flag) {
  Result<std::string> pem = net::ReadCertPemFile(path);
  if (!pem.ok()) return Prefixed(flag, pem.status());
  Result<std::string> sha256 = net::CertSha256(*pem);
  if (!sha256.ok()) {
    return Status::InvalidArgument(flag + ": " + path + ": " + sha256.status().message() +
                                   " (give the certificate that reel ca sign wrote)");
  }
  return pem;
}

// The validator public key file and certificate in a member's folder from `reel node
// request --validator` (its node.toml says where; the defaults otherwise).
struct RequestFiles {
  std::string public_key;
  std::string cert;
};
Result<RequestFiles> FilesOfRequest(const std::string& dir) {
  const config::HomePaths paths(dir);
  std::string key_file = "keys/validator_key.json";
  std::string cert_file = "tls/node.crt";
  std::error_code ec;
  if (fs::exists(paths.config_file, ec)) {
    Result<config::NodeConfig> config = config::LoadNodeConfig(paths.config_file);
    if (!config.ok()) return Prefixed("--from-request", config.status());
    if (!config->p2p.validator_key_file.empty()) key_file = config->p2p.validator_key_file;
    cert_file = config->p2p.tls_cert_file;
  }
  RequestFiles files{
      fs::path(config::ResolvePath(dir, key_file)).replace_extension(".pub").string(),
      config::ResolvePath(dir, cert_file)};
  if (!fs::exists(files.public_key, ec)) {
    return Status::NotFound("--from-request: " + dir + " has no validator public key at " +
                            files.public_key + " (make it with reel node request --validator)");
  }
  return files;
}

Status RunProposeAdd(const Globals& globals, const ProposeOptions& o) {
  std::string key_source = o.public_key;
  std::string cert_source = o.tls_cert;
  if (!o.from_request.empty()) {
    Result<RequestFiles> files = FilesOfRequest(o.from_request);
    if (!files.ok()) return files.status();
    if (key_source.empty()) key_source = files->public_key;
    if (cert_source.empty()) cert_source = files->cert;
  }
  if (key_source.empty()) {
    return Status::InvalidArgument(
        "give --public-key (hex, or the .pub file of reel node request --validator) or "
        "--from-request DIR");
  }
  if (cert_source.empty()) {
    return Status::InvalidArgument(
        "give --tls-cert (the certificate from reel ca sign) or --from-request DIR");
  }
  Result<std::string> key = ReadPublicKey(key_source);
  if (!key.ok()) return Prefixed("--public-key", key.status());
  Result<std::string> cert = ReadCert(cert_source, "--tls-cert");
  if (!cert.ok()) return cert.status();
  Result<std::string> name = ValidatorNameOf(*cert, o.name, cert_source, "add");
  if (!name.ok()) return name.status();

  v1::TxBody body;
  v1::ProposeValidatorChange* p = body.mutable_propose_validator_change();
  p->set_change_id(o.change_id.empty() ? DefaultChangeId("add", *name) : o.change_id);
  v1::Validator* v = p->mutable_add();
  v->set_name(*name);
  v->set_org_id(o.org);
  v->set_public_key(*key);
  v->set_address(o.address);
  v->set_tls_cert_pem(*cert);
  const std::string id = p->change_id();
  return SubmitAndReport(globals, o.sign, std::move(body), id);
}

Status RunProposeRemove(const Globals& globals, const ProposeOptions& o) {
  v1::TxBody body;
  v1::ProposeValidatorChange* p = body.mutable_propose_validator_change();
  p->set_change_id(o.change_id.empty() ? DefaultChangeId("remove", o.name) : o.change_id);
  p->mutable_remove()->set_name(o.name);
  const std::string id = p->change_id();
  return SubmitAndReport(globals, o.sign, std::move(body), id);
}

Status RunProposeReplace(const Globals& globals, const ProposeOptions& o) {
  if (o.public_key.empty() && o.tls_cert.empty()) {
    return Status::InvalidArgument("give --public-key, --tls-cert or both: what to replace");
  }
  v1::TxBody body;
  v1::ProposeValidatorChange* p = body.mutable_propose_validator_change();
  p->set_change_id(o.change_id.empty() ? DefaultChangeId("replace", o.name) : o.change_id);
  v1::ReplaceValidatorCredentials* r = p->mutable_replace();
  r->set_name(o.name);
  if (!o.public_key.empty()) {
    Result<std::string> key = ReadPublicKey(o.public_key);
    if (!key.ok()) return Prefixed("--public-key", key.status());
    r->set_public_key(*key);
  }
  if (!o.tls_cert.empty()) {
    Result<std::string> cert = ReadCert(o.tls_cert, "--tls-cert");
    if (!cert.ok()) return cert.status();
    r->set_tls_cert_pem(*cert);
  }
  const std::string id = p->change_id();
  return SubmitAndReport(globals, o.sign, std::move(body), id);
}

Status RunProposeTimings(const Globals& globals, const ProposeOptions& o) {
  // A change replaces the whole ConsensusParams: start from the epoch's own, so that a
  // timing not named keeps its value instead of going back to the default.
  Result<v1::ValidatorSet> current = FetchCurrentSet(o.sign.node);
  if (!current.ok()) return current.status();
  v1::TxBody body;
  v1::ProposeValidatorChange* p = body.mutable_propose_validator_change();
  p->set_change_id(o.change_id.empty() ? DefaultChangeId("timings", "") : o.change_id);
  *p->mutable_consensus() = current->consensus();
  REEL_RETURN_IF_ERROR(o.timings->Apply(p->mutable_consensus()));
  if (p->consensus().SerializeAsString() == current->consensus().SerializeAsString()) {
    return Status::InvalidArgument(
        "the timings given are the current epoch's: give at least one that changes "
        "(--round-timeout-ms, ...; see --help)");
  }
  const std::string id = p->change_id();
  return SubmitAndReport(globals, o.sign, std::move(body), id);
}

struct DecideOptions {
  SignOptions sign;
  std::string change_id;
  std::string reason;
};

void RegisterPropose(CLI::App* validators, Globals& globals, Runner* selected) {
  CLI::App* propose = validators->add_subcommand(
      "propose", "Propose a change to the validator set (a governing organisation's key)");
  propose->require_subcommand(1);

  auto add = std::make_shared<ProposeOptions>();
  CLI::App* add_cmd = propose->add_subcommand(
      "add", "Add a validator: its public key and certificate (reel node request, reel ca sign)");
  AddProposeFlags(add_cmd, *add, globals);
  add_cmd->add_option("--name", add->name,
                      "Its name: a DNS name of its certificate (default: the certificate's CN)");
  add_cmd->add_option("--org", add->org, "The organisation that runs it")->required();
  add_cmd->add_option("--public-key,--key-file", add->public_key,
                      "Its validator public key: the .pub file of reel node request "
                      "--validator, a key file, hex or base64");
  add_cmd->add_option("--tls-cert", add->tls_cert, "Its TLS certificate, PEM (from reel ca sign)");
  add_cmd->add_option("--from-request", add->from_request,
                      "The member's folder from reel node request --validator: its "
                      "keys/validator_key.pub, and tls/node.crt unless --tls-cert");
  add_cmd->add_option("--address", add->address, "HOST:PORT where the validators reach it")
      ->required();
  OnRun(add_cmd, selected, [&globals, add] { return RunProposeAdd(globals, *add); });

  auto remove = std::make_shared<ProposeOptions>();
  CLI::App* remove_cmd = propose->add_subcommand("remove", "Remove a validator by name");
  AddProposeFlags(remove_cmd, *remove, globals);
  remove_cmd->add_option("--name", remove->name, "The validator to remove")->required();
  OnRun(remove_cmd, selected, [&globals, remove] { return RunProposeRemove(globals, *remove); });

  auto replace = std::make_shared<ProposeOptions>();
  CLI::App* replace_cmd =
      propose->add_subcommand("replace", "Replace a validator's public key, certificate or both");
  AddProposeFlags(replace_cmd, *replace, globals);
  replace_cmd->add_option("--name", replace->name, "The validator")->required();
  replace_cmd->add_option("--public-key,--key-file", replace->public_key,
                          "Its new public key: a .pub file, a key file, hex or base64");
  replace_cmd->add_option("--tls-cert", replace->tls_cert, "Its new TLS certificate, PEM");
  OnRun(replace_cmd, selected,
        [&globals, replace] { return RunProposeReplace(globals, *replace); });

  auto timings = std::make_shared<ProposeOptions>();
  CLI::App* timings_cmd = propose->add_subcommand(
      "timings", "New consensus timings and block limits; those not given keep their value");
  AddProposeFlags(timings_cmd, *timings, globals);
  timings->timings =
      std::make_unique<MessageFlags>(timings_cmd, v1::ConsensusParams::descriptor(), FlagSpec{});
  OnRun(timings_cmd, selected,
        [&globals, timings] { return RunProposeTimings(globals, *timings); });
}

void RegisterDecide(CLI::App* validators, Globals& globals, Runner* selected) {
  auto approve = std::make_shared<DecideOptions>();
  CLI::App* approve_cmd = validators->add_subcommand(
      "approve", "Approve a pending change (another governing organisation's key)");
  approve_cmd->add_option("change_id", approve->change_id, "The change")->required();
  AddSignFlags(approve_cmd, approve->sign, globals, true);
  OnRun(approve_cmd, selected, [&globals, approve] {
    v1::TxBody body;
    body.mutable_approve_validator_change()->set_change_id(approve->change_id);
    return SubmitAndReport(globals, approve->sign, std::move(body), approve->change_id);
  });

  auto withdraw = std::make_shared<DecideOptions>();
  CLI::App* withdraw_cmd = validators->add_subcommand(
      "withdraw", "Withdraw a pending change (the proposer's key); its id stays used");
  withdraw_cmd->add_option("change_id", withdraw->change_id, "The change")->required();
  withdraw_cmd->add_option("--reason", withdraw->reason, "Why, for the record");
  AddSignFlags(withdraw_cmd, withdraw->sign, globals, true);
  OnRun(withdraw_cmd, selected, [&globals, withdraw] {
    v1::TxBody body;
    body.mutable_withdraw_validator_change()->set_change_id(withdraw->change_id);
    body.mutable_withdraw_validator_change()->set_reason(withdraw->reason);
    return SubmitAndReport(globals, withdraw->sign, std::move(body), withdraw->change_id);
  });
}

}  // namespace

void RegisterValidators(CLI::App& app, Globals& globals, Runner* selected) {
  CLI::App* validators = app.add_subcommand(
      "validators",
      "The validator set: list, show, and propose, approve or withdraw changes to it");
  validators->require_subcommand(1);

  auto list = std::make_shared<ListOptions>();
  CLI::App* list_cmd = validators->add_subcommand(
      "list", "The current epoch: validators, timings, governance and pending changes");
  AddNodeFlag(list_cmd, list->node);
  list_cmd
      ->add_option("--status", list->status, "Which changes: pending, approved, withdrawn or all")
      ->capture_default_str();
  list_cmd->add_flag("--json", globals.json, "Print the answer as JSON");
  OnRun(list_cmd, selected, [&globals, list] { return RunList(globals, *list); });

  auto show = std::make_shared<ShowOptions>();
  CLI::App* show_cmd = validators->add_subcommand(
      "show", "One change (CHANGE_ID) or one validator of the current set (--name)");
  show_cmd->add_option("change_id", show->change_id, "The change");
  show_cmd->add_option("--name", show->name, "A validator of the current set");
  AddNodeFlag(show_cmd, show->node);
  show_cmd->add_flag("--json", globals.json, "Print the answer as JSON");
  OnRun(show_cmd, selected, [&globals, show] { return RunShow(globals, *show); });

  RegisterPropose(validators, globals, selected);
  RegisterDecide(validators, globals, selected);
}

}  // namespace reel::cli
