// reel node request: what a member runs on its node's machine to join a chain. It makes
// the node's TLS key and a certificate request for the node's DNS name, for the CA
// holder to sign (`reel ca sign`); with --validator also the validator's Ed25519 key and
// its public key file, for whoever edits genesis (`reel genesis add-validator`), or for
// a later validator-set change. Keys never leave the machine.
//
// HOME becomes a node home first if it is not one (as `reeld init` makes it, with the
// DNS name as moniker, and as an observer without --validator). The paths come from its
// node.toml ([p2p] tls_key_file, validator_key_file):
//   tls/node.key                 the TLS key, 0600; kept if it exists (a renewal)
//   tls/node.csr                 the request, 0644: send it to the CA holder
//   tls/node.crt                 where the signed certificate goes
//   keys/validator_key.json      --validator: the validator key, 0600; kept if it exists
//   keys/validator_key.pub       --validator: its public key (hex), 0644: send it too
#include <filesystem>

#include "crypto/keyfile.h"
#include "node/config/config.h"
#include "node/config/home.h"
#include "node/net/tls.h"
#include "tools/reel/chain_setup.h"
#include "tools/reel/cli.h"

namespace reel::cli {
namespace {

namespace fs = std::filesystem;

struct RequestOptions {
  std::string home;
  std::string dns;
  bool validator = false;
};

std::string WithExtension(const std::string& path, const std::string& extension) {
  return fs::path(path).replace_extension(extension).string();
}

// The node.toml of `home`, made (with the folders) if the home has none yet.
Result<config::NodeConfig> LoadOrMakeConfig(const RequestOptions& o) {
  config::HomePaths paths(o.home);
  std::error_code ec;
  if (!fs::exists(paths.config_file, ec)) {
    config::NodeConfig config;
    REEL_RETURN_IF_ERROR(config::SetConfigValue(config, "moniker", o.dns, "--dns"));
    if (!o.validator) {
      REEL_RETURN_IF_ERROR(
          config::SetConfigValue(config, "p2p.validator_key_file", "", "--validator"));
    }
    // InitHome makes the home itself, not the folders above it.
    const fs::path parent = fs::absolute(fs::path(o.home), ec).parent_path();
    if (!ec) fs::create_directories(parent, ec);
    if (ec) return Status::IoError("cannot create " + parent.string() + ": " + ec.message());
    REEL_RETURN_IF_ERROR(config::InitHome(o.home, config));
  }
  return config::LoadNodeConfig(paths.config_file);
}

// The TLS key at `path`: the one there, or a new one. Says which in `made`.
Result<std::string> TlsKey(const std::string& path, bool& made) {
  std::error_code ec;
  made = !fs::exists(path, ec);
  if (!made) return net::ReadKeyPemFile(path);
  REEL_RETURN_IF_ERROR(MakePrivateDir(fs::path(path).parent_path().string()));
  Result<std::string> key = net::NewKeyPem();
  if (!key.ok()) return key.status();
  REEL_RETURN_IF_ERROR(net::WriteKeyPemFile(path, *key));
  return key;
}

// The validator's public key: from the key file at `path`, made if there is none.
Result<crypto::PublicKey> ValidatorKey(const std::string& path, bool& made) {
  std::error_code ec;
  made = !fs::exists(path, ec);
  if (!made) return crypto::ReadKeyFilePublicKey(path);
  REEL_RETURN_IF_ERROR(MakePrivateDir(fs::path(path).parent_path().string()));
  crypto::KeyPair key = crypto::KeyPair::Generate();
  REEL_RETURN_IF_ERROR(crypto::WriteKeyFile(path, key, std::nullopt));
  return key.public_key();
}

Status RunRequest(const Globals& globals, const RequestOptions& o) {
  if (!net::IsDnsName(o.dns, 64)) {
    return Status::InvalidArgument("--dns: '" + o.dns +
                                   "' is not a DNS name (1 to 64 bytes of A-Z a-z 0-9 . -)");
  }
  Result<config::NodeConfig> config = LoadOrMakeConfig(o);
  if (!config.ok()) return config.status();
  const config::HomePaths paths(o.home);
  const std::string key_path = config::ResolvePath(o.home, config->p2p.tls_key_file);
  const std::string cert_path = config::ResolvePath(o.home, config->p2p.tls_cert_file);
  const std::string request_path = WithExtension(key_path, ".csr");

  bool made_key = false;
  Result<std::string> key = TlsKey(key_path, made_key);
  if (!key.ok()) return key.status();
  Result<std::string> request = net::MakeCertRequest(o.dns, *key);
  if (!request.ok())
    return Status(request.status().code(), key_path + ": " + request.status().message());
  REEL_RETURN_IF_ERROR(net::WriteCertPemFile(request_path, *request));

  std::vector<std::pair<std::string, std::string>> printed = {
      {"home", o.home},
      {"dns", o.dns},
      {"tls_key", key_path + (made_key ? " (new)" : " (kept)")},
      {"request", request_path}};
  std::string send = "send " + request_path +
                     " to the CA holder (reel ca sign); put the "
                     "certificate it returns at " +
                     cert_path;
  if (o.validator) {
    if (config->p2p.validator_key_file.empty()) {
      return Status::FailedPrecondition(
          paths.config_file +
          ": [p2p] validator_key_file: \"\" makes this node an observer; "
          "set it to \"keys/validator_key.json\" to make it a validator");
    }
    const std::string validator_path = config::ResolvePath(o.home, config->p2p.validator_key_file);
    bool made_validator_key = false;
    Result<crypto::PublicKey> public_key = ValidatorKey(validator_path, made_validator_key);
    if (!public_key.ok()) return public_key.status();
    const std::string public_path = WithExtension(validator_path, ".pub");
    REEL_RETURN_IF_ERROR(WritePublicKeyFile(public_path, *public_key));
    printed.push_back(
        {"validator_key", validator_path + (made_validator_key ? " (new)" : " (kept)")});
    printed.push_back({"validator_public_key", public_path});
    send += "; send " + public_path + ", the certificate and this node's p2p address " +
            "(HOST:PORT) to whoever edits genesis (reel genesis add-validator)";
  }
  printed.push_back({"next", send});
  PrintRecord(globals, printed);
  return Status::Ok();
}

}  // namespace

void RegisterNodeSetup(CLI::App& app, Globals& globals, Runner* selected) {
  CLI::App* node = app.add_subcommand("node", "A member's node: its keys and certificate request");
  node->require_subcommand(1);
  auto o = std::make_shared<RequestOptions>();
  CLI::App* request = node->add_subcommand(
      "request", "Make the node's TLS key and a certificate request for its DNS name");
  request->add_option("--home", o->home, "The node's home folder (made if missing)")->required();
  request->add_option("--dns", o->dns, "The node's DNS name, as peers will know it")->required();
  request->add_flag("--validator", o->validator,
                    "Also make the validator key (if absent) and its public key file");
  request->add_flag("--json", globals.json, "Print the result as JSON");
  OnRun(request, selected, [&globals, o] { return RunRequest(globals, *o); });
}

}  // namespace reel::cli
