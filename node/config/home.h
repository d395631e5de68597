// The home folder of a node, laid out like CometBFT's:
//
//   <home>/config/node.toml     this node's settings (config.h)
//   <home>/config/genesis.json  the chain's genesis (genesis.h), from `reel testnet init`
//   <home>/keys/                the validator key file, mode 0600 (0700 folder)
//   <home>/tls/                 the peer TLS certificate and key (0700 folder)
//   <home>/data/                the LevelDB store (0700 folder; [storage] data_dir)
//
// InitHome creates the folders and a commented default node.toml; it never
// overwrites a node.toml that exists (AlreadyExists naming it), and leaves genesis
// and keys to the tools that make them. LoadHome reads and checks everything
// `reeld start` needs before it touches the network or the store.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "crypto/keys.h"
#include "node/config/config.h"
#include "reel/v1/genesis.pb.h"

namespace reel::config {

struct HomePaths {
  explicit HomePaths(std::string home_dir);

  std::string home;
  std::string config_dir;
  std::string config_file;
  std::string genesis_file;
  std::string keys_dir;
  std::string tls_dir;
  std::string default_data_dir;
};

// Creates the layout above. `moniker` must be a valid moniker (InvalidArgument).
Status InitHome(const std::string& home, const std::string& moniker);
// The same with every node.toml value given (`reel testnet init` sets ports per node).
Status InitHome(const std::string& home, const NodeConfig& config);

// Everything start-up reads from the home, checked.
struct LoadedHome {
  NodeConfig config;
  reel::v1::Genesis genesis;
  // The validator key, empty for an observer (p2p.validator_key_file = ""), and its place
  // in genesis, empty too for a key genesis does not name (a validator added later, or a
  // replaced key: it votes from the epoch whose set names it).
  std::optional<crypto::KeyPair> validator_key;
  std::optional<size_t> validator_index;
  std::string data_dir;  // resolved against the home
  std::string home_dir;  // the home folder itself, for paths relative to it
};

// Command-line overrides, applied after the file: every --set first (in order), then
// each named flag (key, value), in order; so a named flag wins over --set.
struct ConfigOverrides {
  std::vector<std::string> set_assignments;                // "api.listen=..."
  std::vector<std::pair<std::string, std::string>> flags;  // {"api.listen", "..."}
};

// Loads node.toml, applies the overrides, loads and validates genesis, and reads the
// validator key (refused if group or others may read it). A key file that is
// encrypted needs its passphrase in $REEL_VALIDATOR_KEY_PASSPHRASE. A key that is
// not one of the genesis validators is refused: a node configured as a validator
// that could never vote is a mistake worth stopping for.
Result<LoadedHome> LoadHome(const HomePaths& paths, const ConfigOverrides& overrides);

}  // namespace reel::config
