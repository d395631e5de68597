// reel testnet init: every file a local network needs, in one folder:
//   DIR/ca/ca.crt, ca.key            the testnet certificate authority
//   DIR/genesis.json                 the chain's genesis (also in each home)
//   DIR/keys/<org>.key               signatory keys of the genesis organisations
//   DIR/node<i>/                     one reeld home per validator (config, keys, tls, data)
//   DIR/observer<j>/                 one home per observer (no validator key; it syncs)
//   DIR/nodes.json                   where each node listens, for scripts
// Ports: node i uses base + 10*i for p2p, +1 for the client API, +2 for metrics;
// observer j comes after the validators, as node number validators + j.
#include <filesystem>

#include "base/file.h"
#include "base/limits.h"
#include "crypto/keyfile.h"
#include "crypto/keys.h"
#include "node/config/config.h"
#include "node/config/genesis.h"
#include "node/config/home.h"
#include "node/net/tls.h"
#include "tools/reel/chain_setup.h"
#include "tools/reel/cli.h"

namespace reel::cli {
namespace {

namespace fs = std::filesystem;

struct TestnetOptions {
  uint32_t validators = 4;
  std::string out = "testnet/.run";
  std::string chain_id = "reel-testnet";
  std::string host = "127.0.0.1";
  uint32_t base_port = 26600;
  uint32_t observers = 0;
  uint64_t block_interval_ms = 0;       // 0: the node default
  uint64_t idle_block_interval_ms = 0;  // 0: the node default
  uint64_t round_timeout_ms = 0;        // 0: the node default
};

// The ministries every REEL chain starts with: the regulator governs, the export
// authority decides licences, customs clears exports. The rest register on chain.
struct GenesisOrg {
  const char* id;
  const char* name;
  v1::Role role;
};
constexpr GenesisOrg kGenesisOrgs[] = {
    {"miit", "Ministry of Industry and Information Technology", v1::ROLE_REGULATOR},
    {"mofcom", "Ministry of Commerce", v1::ROLE_EXPORT_AUTHORITY},
    {"gacc", "General Administration of Customs", v1::ROLE_CUSTOMS},
};

std::string Port(const TestnetOptions& o, uint32_t i, uint32_t offset) {
  return o.host + ":" + std::to_string(o.base_port + 10 * i + offset);
}

Status RunInit(const Globals& globals, const TestnetOptions& o) {
  if (o.validators < 1 || o.validators > limits::validators_max) {
    return Status::InvalidArgument("--validators must be 1 to " +
                                   std::to_string(limits::validators_max));
  }
  const uint32_t all = o.validators + o.observers;
  if (o.observers > limits::validators_max) {
    return Status::InvalidArgument("--observers must be 0 to " +
                                   std::to_string(limits::validators_max));
  }
  if (o.base_port < 1024 || o.base_port + 10 * all + 2 > 65535) {
    return Status::InvalidArgument("--base-port leaves no room for " + std::to_string(all) +
                                   " nodes below 65536");
  }
  std::error_code ec;
  if (fs::exists(o.out, ec) && !fs::is_empty(o.out, ec)) {
    return Status::AlreadyExists(o.out + " exists and is not empty: remove it or choose --out");
  }
  REEL_RETURN_IF_ERROR(MakePrivateDir(o.out + "/keys"));
  Result<net::CertAndKey> ca = MakeCaFiles(o.out + "/ca", o.chain_id + "-ca", 3650);
  if (!ca.ok()) return ca.status();

  v1::Genesis genesis = NewGenesis(o.chain_id, NowMs(), ca->cert_pem);
  genesis.mutable_consensus()->set_block_interval_min_ms(o.block_interval_ms);
  genesis.mutable_consensus()->set_idle_block_interval_ms(o.idle_block_interval_ms);
  genesis.mutable_consensus()->set_round_timeout_ms(o.round_timeout_ms);
  for (const GenesisOrg& org : kGenesisOrgs) {
    crypto::KeyPair key = crypto::KeyPair::Generate();
    REEL_RETURN_IF_ERROR(
        crypto::WriteKeyFile(o.out + "/keys/" + org.id + ".key", key, std::nullopt));
    v1::RegisterOrg* entry = genesis.add_orgs();
    entry->set_org_id(org.id);
    entry->set_name(org.name);
    entry->set_kind(v1::ORG_KIND_MINISTRY);
    entry->add_roles(org.role);
    entry->add_signatory_keys(RawKey(key.public_key()));
    entry->set_quorum(1);
  }

  nlohmann::json nodes = nlohmann::json::array();
  std::vector<std::string> homes;
  for (uint32_t i = 0; i < all; ++i) {
    const bool observer = i >= o.validators;
    const std::string name =
        observer ? "observer" + std::to_string(i - o.validators) : "node" + std::to_string(i);
    const std::string home = o.out + "/" + name;
    homes.push_back(home);
    config::NodeConfig config;
    if (observer) {
      REEL_RETURN_IF_ERROR(
          config::SetConfigValue(config, "p2p.validator_key_file", "", "observer"));
    }
    REEL_RETURN_IF_ERROR(config::SetConfigValue(config, "moniker", name, "--moniker"));
    REEL_RETURN_IF_ERROR(config::SetConfigValue(config, "p2p.listen", Port(o, i, 0), "p2p"));
    REEL_RETURN_IF_ERROR(config::SetConfigValue(config, "api.listen", Port(o, i, 1), "api"));
    REEL_RETURN_IF_ERROR(
        config::SetConfigValue(config, "metrics.listen", Port(o, i, 2), "metrics"));
    REEL_RETURN_IF_ERROR(config::InitHome(home, config));
    config::HomePaths paths(home);
    Result<net::CertAndKey> cert = net::MakeNodeCert(*ca, name, {o.host}, 365);
    if (!cert.ok()) return cert.status();
    REEL_RETURN_IF_ERROR(net::WriteCertAndKey(paths.tls_dir, "node", *cert));
    nodes.push_back({{"name", name},
                     {"role", observer ? "observer" : "validator"},
                     {"api", Port(o, i, 1)},
                     {"p2p", Port(o, i, 0)},
                     {"metrics", Port(o, i, 2)},
                     {"home", home}});
    if (observer) continue;  // not in genesis: it follows the validators

    crypto::KeyPair key = crypto::KeyPair::Generate();
    REEL_RETURN_IF_ERROR(
        crypto::WriteKeyFile(paths.keys_dir + "/validator_key.json", key, std::nullopt));

    v1::Validator* v = genesis.add_validators();
    v->set_name(name);
    v->set_org_id(kGenesisOrgs[i % std::size(kGenesisOrgs)].id);
    v->set_public_key(RawKey(key.public_key()));
    v->set_address(Port(o, i, 0));
    v->set_tls_cert_pem(cert->cert_pem);
  }
  REEL_RETURN_IF_ERROR(config::ValidateGenesis(genesis, "generated genesis"));

  REEL_RETURN_IF_ERROR(WriteGenesisFile(o.out + "/genesis.json", genesis));
  for (const std::string& home : homes) {
    REEL_RETURN_IF_ERROR(WriteGenesisFile(config::HomePaths(home).genesis_file, genesis));
  }
  REEL_RETURN_IF_ERROR(WriteFileWithMode(o.out + "/nodes.json", nodes.dump(2) + "\n", 0644));

  Table table({"node", "api", "p2p", "metrics", "home"});
  for (const auto& n : nodes) {
    table.Add({n["name"], n["api"], n["p2p"], n["metrics"], n["home"]});
  }
  table.Print(globals);
  return Status::Ok();
}

}  // namespace

void RegisterTestnet(CLI::App& app, Globals& globals, Runner* selected) {
  CLI::App* testnet = app.add_subcommand("testnet", "Make the files of a local test network");
  testnet->require_subcommand(1);
  auto o = std::make_shared<TestnetOptions>();
  CLI::App* init = testnet->add_subcommand(
      "init", "Keys, TLS certificates from a testnet CA, genesis and one home per node");
  init->add_option("--validators", o->validators, "Number of validators")->capture_default_str();
  init->add_option("--out", o->out, "Folder to create (must be empty)")->capture_default_str();
  init->add_option("--chain-id", o->chain_id, "Chain id")->capture_default_str();
  init->add_option("--host", o->host, "Address the nodes listen on")->capture_default_str();
  init->add_option("--base-port", o->base_port, "First port; node i uses base+10i .. base+10i+2")
      ->capture_default_str();
  init->add_option("--observers", o->observers,
                   "Observer nodes: they hold no validator key and follow the chain by block sync")
      ->capture_default_str();
  init->add_option("--block-interval-ms", o->block_interval_ms,
                   "Genesis: least time between blocks (0: the node default)")
      ->capture_default_str();
  init->add_option("--idle-block-interval-ms", o->idle_block_interval_ms,
                   "Genesis: time between blocks with nothing to order (0: the node default)")
      ->capture_default_str();
  init->add_option("--round-timeout-ms", o->round_timeout_ms,
                   "Genesis: first round timer (0: the node default)")
      ->capture_default_str();
  OnRun(init, selected, [&globals, o] { return RunInit(globals, *o); });
}

}  // namespace reel::cli
