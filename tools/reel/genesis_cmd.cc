// reel genesis: make a chain's genesis.json (reel.v1.Genesis) from the parts its
// members send, show it, and check it the way reeld does before it starts.
//
//   new            chain id, time and the chain's CA certificate; nothing else yet
//   add-validator  one validator: its name (a DNS name of its certificate), organisation,
//                  public key, peer address and TLS certificate, which must chain to the CA
//   add-org        one of the first organisations (RegisterOrg's fields as flags)
//   show, validate
//
// Each edit checks the file as a draft (node/config/genesis.h, ValidateGenesisDraft), so
// that a wrong part is refused when it is added, with the file and the field it would
// have taken: "genesis.json: validators[2].public_key: ...". `validate` asks for the
// whole: validators, organisations, a regulator.
#include <algorithm>
#include <filesystem>
#include <iostream>

#include "base/bytes.h"
#include "node/config/genesis.h"
#include "node/net/tls.h"
#include "tools/reel/chain_setup.h"
#include "tools/reel/cli.h"
#include "tools/reel/proto_flags.h"
#include "tools/reel/proto_print.h"
#include "tools/reel/rpc.h"

namespace reel::cli {
namespace {

namespace fs = std::filesystem;

Status RunShow(const Globals& globals, const std::string& path) {
  Result<v1::Genesis> genesis = ReadGenesisFile(path);
  if (!genesis.ok()) return genesis.status();
  if (globals.json) {
    std::cout << ToJson(*genesis) << "\n";
  } else {
    PrintReadable(*genesis);
  }
  return Status::Ok();
}

Status RunValidate(const Globals& globals, const std::string& path) {
  Result<v1::Genesis> genesis = config::LoadGenesis(path);
  if (!genesis.ok()) return genesis.status();
  PrintRecord(globals, {{"file", path},
                        {"valid", "yes"},
                        {"chain_id", genesis->chain_id()},
                        {"validators", std::to_string(genesis->validators_size())},
                        {"orgs", std::to_string(genesis->orgs_size())},
                        {"sites", std::to_string(genesis->sites_size())},
                        {"quotas", std::to_string(genesis->quotas_size())}});
  return Status::Ok();
}

struct NewOptions {
  std::string chain_id;
  std::string ca_cert;
  std::string out;
  uint64_t time_ms = 0;  // 0: now
  std::unique_ptr<MessageFlags> consensus;
};

Status RunNew(const Globals& globals, const NewOptions& o) {
  std::error_code ec;
  if (fs::exists(o.out, ec)) {
    return Status::AlreadyExists(o.out +
                                 " exists: `genesis new` starts a new file (add to one "
                                 "with add-validator and add-org)");
  }
  Result<std::string> ca = net::ReadCertPemFile(o.ca_cert);
  if (!ca.ok()) return Prefixed(o.out + ": tls_ca_pem", ca.status());
  Status is_ca = net::CheckCaCert(*ca);
  if (!is_ca.ok()) return Prefixed(o.out + ": tls_ca_pem: " + o.ca_cert, is_ca);
  v1::Genesis genesis = NewGenesis(o.chain_id, o.time_ms != 0 ? o.time_ms : NowMs(), *ca);
  Status consensus = o.consensus->Apply(genesis.mutable_consensus());
  if (!consensus.ok()) return Prefixed(o.out + ": consensus", consensus);
  REEL_RETURN_IF_ERROR(config::ValidateGenesisDraft(genesis, o.out));
  REEL_RETURN_IF_ERROR(WriteGenesisFile(o.out, genesis));
  Result<std::string> ca_name = net::CertCommonName(*ca);
  PrintRecord(globals, {{"file", o.out},
                        {"chain_id", genesis.chain_id()},
                        {"genesis_time_ms", std::to_string(genesis.genesis_time_ms())},
                        {"tls_ca", ca_name.ok() ? *ca_name : o.ca_cert},
                        {"next", "reel genesis add-org / add-validator --file " + o.out}});
  return Status::Ok();
}

struct AddValidatorOptions {
  std::string file;
  std::string name;  // "": the certificate's subject CN
  std::string org;
  std::string key;
  std::string address;
  std::string cert;
};

// The validator's certificate, checked against the genesis CA; `at` is the entry's path.
Result<std::string> ReadValidatorCert(const v1::Genesis& genesis, const AddValidatorOptions& o,
                                      const std::string& at) {
  const std::string field = at + ".tls_cert_pem";
  Result<std::string> cert = net::ReadCertPemFile(o.cert);
  if (!cert.ok()) return Prefixed(field, cert.status());
  if (genesis.tls_ca_pem().empty()) {
    return Status::FailedPrecondition(o.file +
                                      ": tls_ca_pem: empty, so no certificate can be checked "
                                      "(make the file with `reel genesis new --ca-cert`)");
  }
  Status issued = net::CheckIssuedBy(*cert, genesis.tls_ca_pem());
  if (!issued.ok()) return Prefixed(field + ": " + o.cert, issued);
  Result<std::string> sha256 = net::CertSha256(*cert);
  if (!sha256.ok()) return Prefixed(field + ": " + o.cert, sha256.status());
  for (int i = 0; i < genesis.validators_size(); ++i) {
    const v1::Validator& other = genesis.validators(i);
    Result<std::string> other_sha256 = net::CertSha256(other.tls_cert_pem());
    if ((other_sha256.ok() && *other_sha256 == *sha256) || other.tls_cert_sha256() == *sha256) {
      return Status::InvalidArgument(field + ": " + o.cert + " is already the certificate of " +
                                     "validators[" + std::to_string(i) + "] (" + other.name() +
                                     ")");
    }
  }
  return cert;
}

Status RunAddValidator(const Globals& globals, const AddValidatorOptions& o) {
  Result<v1::Genesis> genesis = ReadGenesisFile(o.file);
  if (!genesis.ok()) return genesis.status();
  const std::string at =
      o.file + ": validators[" + std::to_string(genesis->validators_size()) + "]";
  Result<std::string> key = ReadPublicKey(o.key);
  if (!key.ok()) return Prefixed(at + ".public_key: --key", key.status());
  Result<std::string> cert = ReadValidatorCert(*genesis, o, at);
  if (!cert.ok()) return cert.status();
  Result<std::string> name = ValidatorNameOf(*cert, o.name, o.cert, at);
  if (!name.ok()) return name.status();

  v1::Validator* validator = genesis->add_validators();
  validator->set_name(*name);
  validator->set_org_id(o.org);
  validator->set_public_key(*key);
  validator->set_address(o.address);
  validator->set_tls_cert_pem(*cert);
  REEL_RETURN_IF_ERROR(config::ValidateGenesisDraft(*genesis, o.file));
  REEL_RETURN_IF_ERROR(WriteGenesisFile(o.file, *genesis));
  PrintRecord(globals, {{"file", o.file},
                        {"validator", std::to_string(genesis->validators_size() - 1)},
                        {"name", *name},
                        {"org_id", o.org},
                        {"public_key", ToHex(*key)},
                        {"address", o.address},
                        {"validators", std::to_string(genesis->validators_size())}});
  return Status::Ok();
}

struct AddOrgOptions {
  std::string file;
  std::unique_ptr<MessageFlags> flags;
  CLI::Option* kind = nullptr;
  CLI::Option* quorum = nullptr;
};

Status RunAddOrg(const Globals& globals, const AddOrgOptions& o) {
  Result<v1::Genesis> genesis = ReadGenesisFile(o.file);
  if (!genesis.ok()) return genesis.status();
  const std::string at = o.file + ": orgs[" + std::to_string(genesis->orgs_size()) + "]";
  v1::RegisterOrg org;
  Status applied = o.flags->Apply(&org);
  if (!applied.ok()) return Prefixed(at, applied);
  // The organisations a chain starts with are its ministries, each signing alone
  // unless told otherwise.
  if (o.kind->count() == 0) org.set_kind(v1::ORG_KIND_MINISTRY);
  if (o.quorum->count() == 0) org.set_quorum(1);
  *genesis->add_orgs() = org;
  REEL_RETURN_IF_ERROR(config::ValidateGenesisDraft(*genesis, o.file));
  REEL_RETURN_IF_ERROR(WriteGenesisFile(o.file, *genesis));
  std::string roles;
  for (int role : org.roles()) {
    roles +=
        (roles.empty() ? "" : ",") + EnumShortName(v1::Role_descriptor()->FindValueByNumber(role));
  }
  PrintRecord(globals,
              {{"file", o.file},
               {"org", std::to_string(genesis->orgs_size() - 1)},
               {"org_id", org.org_id()},
               {"kind", EnumShortName(v1::OrgKind_descriptor()->FindValueByNumber(org.kind()))},
               {"roles", roles},
               {"signatory_keys", std::to_string(org.signatory_keys_size())},
               {"quorum", std::to_string(org.quorum())},
               {"orgs", std::to_string(genesis->orgs_size())}});
  return Status::Ok();
}

void RegisterNew(CLI::App* genesis, Globals& globals, Runner* selected) {
  auto o = std::make_shared<NewOptions>();
  CLI::App* make = genesis->add_subcommand(
      "new", "Start a genesis.json: chain id, time and the chain's CA certificate");
  make->add_option("--chain-id", o->chain_id, "Chain id (1 to 64 bytes)")->required();
  make->add_option("--ca-cert", o->ca_cert, "The chain's CA certificate (from reel ca new)")
      ->required();
  make->add_option("--out", o->out, "The genesis.json to create (must not exist)")->required();
  make->add_option("--time-ms", o->time_ms,
                   "Genesis time, milliseconds since the Unix epoch (default: now)");
  o->consensus =
      std::make_unique<MessageFlags>(make, v1::ConsensusParams::descriptor(), FlagSpec{});
  make->add_flag("--json", globals.json, "Print the result as JSON");
  OnRun(make, selected, [&globals, o] { return RunNew(globals, *o); });
}

void RegisterAddValidator(CLI::App* genesis, Globals& globals, Runner* selected) {
  auto o = std::make_shared<AddValidatorOptions>();
  CLI::App* add = genesis->add_subcommand(
      "add-validator", "Add a validator from what its operator sent: public key, certificate");
  add->add_option("--file", o->file, "The genesis.json to add to")->required();
  add->add_option("--name", o->name,
                  "Its name: a DNS name of its certificate (default: the certificate's CN)");
  add->add_option("--org", o->org, "The organisation that runs it")->required();
  add->add_option("--key", o->key,
                  "Its validator public key: a .pub file, a key file, hex or base64")
      ->required();
  add->add_option("--address", o->address, "HOST:PORT where the other validators reach it")
      ->required();
  add->add_option("--cert", o->cert, "Its TLS certificate (from reel ca sign)")->required();
  add->add_flag("--json", globals.json, "Print the result as JSON");
  OnRun(add, selected, [&globals, o] { return RunAddValidator(globals, *o); });
}

void RegisterAddOrg(CLI::App* genesis, Globals& globals, Runner* selected) {
  auto o = std::make_shared<AddOrgOptions>();
  CLI::App* add = genesis->add_subcommand(
      "add-org", "Add one of the first organisations (kind ministry and quorum 1 by default)");
  add->add_option("--file", o->file, "The genesis.json to add to")->required();
  o->flags = std::make_unique<MessageFlags>(
      add, v1::RegisterOrg::descriptor(),
      FlagSpec{FieldNames("org_id name roles"), {}, {{"signatory_keys", "key"}}});
  o->kind = add->get_option("--kind");
  o->quorum = add->get_option("--quorum");
  add->add_flag("--json", globals.json, "Print the result as JSON");
  OnRun(add, selected, [&globals, o] { return RunAddOrg(globals, *o); });
}

}  // namespace

void RegisterGenesis(CLI::App& app, Globals& globals, Runner* selected) {
  CLI::App* genesis = app.add_subcommand("genesis", "Make, show or check a chain's genesis.json");
  genesis->require_subcommand(1);
  RegisterNew(genesis, globals, selected);
  RegisterAddValidator(genesis, globals, selected);
  RegisterAddOrg(genesis, globals, selected);

  auto file = std::make_shared<std::string>();
  CLI::App* show =
      genesis->add_subcommand("show", "Chain id, validators, organisations, sites, quotas");
  show->add_option("--file", *file, "The genesis.json")->required();
  show->add_flag("--json", globals.json, "Print it as JSON");
  OnRun(show, selected, [&globals, file] { return RunShow(globals, *file); });

  CLI::App* validate =
      genesis->add_subcommand("validate", "Check it as reeld does before it starts");
  validate->add_option("--file", *file, "The genesis.json")->required();
  validate->add_flag("--json", globals.json, "Print the result as JSON");
  OnRun(validate, selected, [&globals, file] { return RunValidate(globals, *file); });
}

}  // namespace reel::cli
