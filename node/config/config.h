// node.toml: the node's own settings, as a typed struct.
//
// What it promises
//   - Every key a node.toml may hold is listed once, in ConfigKeys(): its dotted name
//     ("api.listen"), its kind, its default and a one-line doc. Parsing the file,
//     overriding from the command line (--api.listen, --set api.listen=...) and writing
//     the default file all go through that list, so they cannot disagree.
//   - Unknown sections and keys are refused: a typo must not pass silently.
//   - Every error names where the value came from (the file, or the flag), the key,
//     and what is wrong, e.g.
//       /home/n1/config/node.toml: [api] listen: expected "host:port", got "8080"
//       --api.listen: expected "host:port", got "8080"
//     TOML syntax errors give file:line:column.
//   - Keys missing from the file keep their defaults, so an older file still loads.
//
// Paths in the config (key file, TLS files, data_dir) may be relative: they are
// relative to the home folder (ResolvePath).
//
// Errors are returned as InvalidArgument (or IoError/NotFound for the file itself);
// nothing here throws. Plain functions and values: thread-compatible.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace reel::config {

enum class LogFormat : uint8_t { kText, kJson };
// The values log.level may take; the logger maps them with spdlog::level::from_str.
inline constexpr std::string_view kLogLevels[] = {"trace", "debug", "info", "warn", "error", "off"};
bool IsLogLevel(std::string_view level);

struct NodeConfig {
  std::string moniker = "reel-node";  // this node's name in logs and metrics
  struct P2p {
    std::string listen = "0.0.0.0:26656";
    std::string validator_key_file = "keys/validator_key.json";  // "" = observer
    std::string tls_cert_file = "tls/node.crt";
    std::string tls_key_file = "tls/node.key";
  } p2p;
  struct Api {
    std::string listen = "127.0.0.1:26657";
    uint64_t max_message_bytes = 0;  // set from limits in the constructor below
  } api;
  struct Metrics {
    std::string listen = "127.0.0.1:26660";
  } metrics;
  struct Mempool {
    uint64_t size_max = 10000;  // transactions
  } mempool;
  struct Log {
    std::string level = "info";  // trace, debug, info, warn, error, off
    LogFormat format = LogFormat::kText;
  } log;
  struct Storage {
    std::string data_dir = "data";
  } storage;

  NodeConfig();
};

// One key of node.toml, as the parser, the flags and the default file see it.
struct ConfigKey {
  std::string_view name;  // dotted: "moniker", "api.listen"
  std::string_view doc;   // one line, written above the key in the default file
};
const std::vector<ConfigKey>& ConfigKeys();

// Parses node.toml text. `source` names the file in error messages.
Result<NodeConfig> ParseNodeConfig(std::string_view toml_text, std::string_view source);
// Reads and parses the file at `path` (bounded by limits::daemon_config_file_bytes_max).
Result<NodeConfig> LoadNodeConfig(const std::string& path);

// Sets one key from its command-line text ("8080", "json", "12"), checked as the file's
// value would be. `source` names the flag in messages ("--api.listen").
Status SetConfigValue(NodeConfig& config, std::string_view key, std::string_view value,
                      std::string_view source);
// "key=value" from --set; InvalidArgument naming the flag if there is no '='.
Status ApplySetFlag(NodeConfig& config, std::string_view assignment);

// The value of a key as text (for logs and tests); "" for an unknown key.
std::string GetConfigValue(const NodeConfig& config, std::string_view key);

// The commented default node.toml that `reeld init` writes.
// The commented node.toml of `config`: every key with its doc and value.
std::string NodeConfigToml(const NodeConfig& config);
std::string DefaultNodeConfigToml(std::string_view moniker);

// "host:port" with a non-empty host (a name, IPv4, or [IPv6]) and a port 0..65535
// (0 asks the OS for a free port). Split for binding.
struct HostPort {
  std::string host;  // without brackets
  uint16_t port = 0;
};
Result<HostPort> ParseHostPort(std::string_view text);

// `path` if absolute, else `home`/`path`.
std::string ResolvePath(const std::string& home, const std::string& path);

}  // namespace reel::config
