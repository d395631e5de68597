#include "node/config/config.h"

#include <toml++/toml.h>

#include <algorithm>
#include <charconv>
#include <fstream>
#include <sstream>

#include "base/limits.h"

namespace reel::config {
namespace {

// How a key's text is checked. The file and the flags share these checks.
enum class Kind : uint8_t {
  kMoniker,
  kHostPort,
  kPath,          // non-empty path
  kOptionalPath,  // a path, or "" for "none"
  kUint,          // an integer in [min, max]
  kLogLevel,
  kLogFormat,
};

struct KeyDef {
  std::string_view name;  // dotted
  std::string_view doc;
  Kind kind;
  std::string* (*text)(NodeConfig&) = nullptr;  // every kind but kUint and kLogFormat
  uint64_t* (*number)(NodeConfig&) = nullptr;   // kUint
  uint64_t min = 0;
  uint64_t max = 0;
};

// The one list of keys. Order is the order of the default file.
const std::vector<KeyDef>& KeyDefs() {
  static const std::vector<KeyDef> defs = {
      {"moniker", "This node's name in logs and metrics: letters, digits, '.', '_', '-'.",
       Kind::kMoniker, [](NodeConfig& c) { return &c.moniker; }},
      {"p2p.listen", "host:port of the peer service (mutual TLS).", Kind::kHostPort,
       [](NodeConfig& c) { return &c.p2p.listen; }},
      {"p2p.validator_key_file",
       "The validator's Ed25519 key file (mode 0600). Empty: an observer node that does "
       "not vote.",
       Kind::kOptionalPath, [](NodeConfig& c) { return &c.p2p.validator_key_file; }},
      {"p2p.tls_cert_file", "This node's TLS certificate (PEM), named in genesis.", Kind::kPath,
       [](NodeConfig& c) { return &c.p2p.tls_cert_file; }},
      {"p2p.tls_key_file", "The private key of that certificate (PEM, mode 0600).", Kind::kPath,
       [](NodeConfig& c) { return &c.p2p.tls_key_file; }},
      {"api.listen", "host:port of the client API (gRPC) for wallets and the reel CLI.",
       Kind::kHostPort, [](NodeConfig& c) { return &c.api.listen; }},
      {"api.max_message_bytes", "Largest gRPC request the API accepts, bytes.", Kind::kUint,
       nullptr, [](NodeConfig& c) { return &c.api.max_message_bytes; },
       limits::daemon_api_message_bytes_min, limits::daemon_api_message_bytes_max},
      {"metrics.listen", "host:port of the HTTP server for /metrics (Prometheus) and /healthz.",
       Kind::kHostPort, [](NodeConfig& c) { return &c.metrics.listen; }},
      {"mempool.size_max", "Transactions the mempool holds at most; more are refused.", Kind::kUint,
       nullptr, [](NodeConfig& c) { return &c.mempool.size_max; },
       // At least a full block, at most the mempool's own bound (base/limits.h).
       limits::block_txs_max, limits::mempool_txs_max},
      {"log.level", "trace, debug, info, warn, error or off.", Kind::kLogLevel,
       [](NodeConfig& c) { return &c.log.level; }},
      {"log.format", "text (for people) or json (one object per line, for collectors).",
       Kind::kLogFormat},
      {"storage.data_dir", "The LevelDB store of blocks, transactions and state.", Kind::kPath,
       [](NodeConfig& c) { return &c.storage.data_dir; }},
  };
  return defs;
}

const KeyDef* FindKey(std::string_view name) {
  for (const KeyDef& def : KeyDefs()) {
    if (def.name == name) return &def;
  }
  return nullptr;
}

bool IsSection(std::string_view name) {
  return std::any_of(KeyDefs().begin(), KeyDefs().end(), [&](const KeyDef& def) {
    return def.name.size() > name.size() && def.name.substr(0, name.size()) == name &&
           def.name[name.size()] == '.';
  });
}

// The comma-separated keys of a section ("" = top level), for "unknown key" messages.
std::string KnownKeys(std::string_view section) {
  std::string out;
  for (const KeyDef& def : KeyDefs()) {
    size_t dot = def.name.find('.');
    std::string_view def_section = dot == std::string_view::npos ? "" : def.name.substr(0, dot);
    std::string_view leaf = dot == std::string_view::npos ? def.name : def.name.substr(dot + 1);
    if (def_section != section) continue;
    if (!out.empty()) out += ", ";
    out += leaf;
  }
  if (section.empty()) {
    std::vector<std::string> sections;
    for (const KeyDef& def : KeyDefs()) {
      size_t dot = def.name.find('.');
      if (dot == std::string_view::npos) continue;
      std::string name = "[" + std::string(def.name.substr(0, dot)) + "]";
      if (std::find(sections.begin(), sections.end(), name) == sections.end()) {
        sections.push_back(name);
      }
    }
    for (const std::string& name : sections) out += ", " + name;
  }
  return out;
}

// "api.listen" -> "[api] listen"; "moniker" stays.
std::string FileKeyLabel(std::string_view dotted) {
  size_t dot = dotted.find('.');
  if (dot == std::string_view::npos) return std::string(dotted);
  return "[" + std::string(dotted.substr(0, dot)) + "] " + std::string(dotted.substr(dot + 1));
}

std::string Quote(std::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') out += '\\';
    if (static_cast<unsigned char>(c) < 0x20) {
      out += '?';  // control characters are not worth echoing back
      continue;
    }
    out += c;
  }
  return out + "\"";
}

std::string LevelList() {
  std::string out;
  for (std::string_view level : kLogLevels) {
    if (!out.empty()) out += ", ";
    out += level;
  }
  return out;
}

// The value of one key, before its kind's check: text (strings and flags) or a number.
struct RawValue {
  bool is_number = false;
  std::string text;
  int64_t number = 0;
};

// Checks `raw` against `def` and stores it. Messages are "what is wrong" only; the
// caller prefixes where the value came from.
Status StoreValue(NodeConfig& config, const KeyDef& def, const RawValue& raw) {
  if (def.kind == Kind::kUint) {
    if (!raw.is_number)
      return Status::InvalidArgument("expected an integer, got " + Quote(raw.text));
    if (raw.number < 0 || static_cast<uint64_t>(raw.number) < def.min ||
        static_cast<uint64_t>(raw.number) > def.max) {
      return Status::InvalidArgument("must be between " + std::to_string(def.min) + " and " +
                                     std::to_string(def.max) + ", got " +
                                     std::to_string(raw.number));
    }
    *def.number(config) = static_cast<uint64_t>(raw.number);
    return Status::Ok();
  }
  if (raw.is_number) {
    return Status::InvalidArgument("expected a string, got the number " +
                                   std::to_string(raw.number));
  }
  const std::string& text = raw.text;
  if (text.find('\0') != std::string::npos) {
    return Status::InvalidArgument("must not contain a NUL byte");
  }
  switch (def.kind) {
    case Kind::kMoniker: {
      bool valid_chars = std::all_of(text.begin(), text.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '.' || c == '_' || c == '-';
      });
      if (text.empty() || text.size() > limits::daemon_moniker_bytes_max || !valid_chars) {
        return Status::InvalidArgument("expected 1 to " +
                                       std::to_string(limits::daemon_moniker_bytes_max) +
                                       " letters, digits, '.', '_' or '-', got " + Quote(text));
      }
      break;
    }
    case Kind::kHostPort: {
      Result<HostPort> parsed = ParseHostPort(text);
      if (!parsed.ok()) return parsed.status();
      break;
    }
    case Kind::kPath:
      if (text.empty()) return Status::InvalidArgument("expected a path, got \"\"");
      break;
    case Kind::kOptionalPath:
      break;
    case Kind::kLogLevel:
      if (!IsLogLevel(text)) {
        return Status::InvalidArgument("expected one of " + LevelList() + "; got " + Quote(text));
      }
      break;
    case Kind::kLogFormat:
      if (text == "text") {
        config.log.format = LogFormat::kText;
      } else if (text == "json") {
        config.log.format = LogFormat::kJson;
      } else {
        return Status::InvalidArgument("expected \"text\" or \"json\", got " + Quote(text));
      }
      return Status::Ok();
    case Kind::kUint:
      REEL_ASSERT(false);  // handled above
  }
  *def.text(config) = text;
  return Status::Ok();
}

std::string TomlTypeName(const toml::node& node) {
  switch (node.type()) {
    case toml::node_type::table:
      return "a table";
    case toml::node_type::array:
      return "an array";
    case toml::node_type::string:
      return "a string";
    case toml::node_type::integer:
      return "an integer";
    case toml::node_type::floating_point:
      return "a float";
    case toml::node_type::boolean:
      return "a boolean";
    default:
      return "a date or time";
  }
}

std::string LineSuffix(const toml::node& node) {
  const toml::source_position& begin = node.source().begin;
  if (!begin) return "";
  return " (line " + std::to_string(begin.line) + ")";
}

// One key's value from the file: `prefix` is "file: [api] listen".
Status StoreTomlValue(NodeConfig& config, const KeyDef& def, const toml::node& node,
                      const std::string& prefix) {
  RawValue raw;
  if (const auto* s = node.as_string()) {
    raw.text = s->get();
  } else if (const auto* i = node.as_integer()) {
    raw.is_number = true;
    raw.number = i->get();
  } else {
    std::string expected = def.kind == Kind::kUint ? "an integer" : "a string";
    return Status::InvalidArgument(prefix + ": expected " + expected + ", got " +
                                   TomlTypeName(node) + LineSuffix(node));
  }
  Status status = StoreValue(config, def, raw);
  if (!status.ok()) {
    return Status::InvalidArgument(prefix + ": " + status.message() + LineSuffix(node));
  }
  return Status::Ok();
}

Status StoreSection(NodeConfig& config, std::string_view section, const toml::table& table,
                    std::string_view source) {
  for (const auto& [key, node] : table) {
    std::string dotted = std::string(section) + "." + std::string(key.str());
    const KeyDef* def = FindKey(dotted);
    if (def == nullptr) {
      return Status::InvalidArgument(std::string(source) + ": " + FileKeyLabel(dotted) +
                                     ": unknown key" + LineSuffix(node) + "; known keys in [" +
                                     std::string(section) + "]: " + KnownKeys(section));
    }
    REEL_RETURN_IF_ERROR(
        StoreTomlValue(config, *def, node, std::string(source) + ": " + FileKeyLabel(dotted)));
  }
  return Status::Ok();
}

}  // namespace

NodeConfig::NodeConfig() {
  api.max_message_bytes = limits::daemon_api_message_bytes_max;
}

const std::vector<ConfigKey>& ConfigKeys() {
  static const std::vector<ConfigKey> keys = [] {
    std::vector<ConfigKey> out;
    for (const KeyDef& def : KeyDefs()) out.push_back({def.name, def.doc});
    return out;
  }();
  return keys;
}

Result<NodeConfig> ParseNodeConfig(std::string_view toml_text, std::string_view source) {
  // toml++ reports syntax errors by exception; they stop here, at the boundary.
  toml::table root;
  try {
    root = toml::parse(toml_text, source);
  } catch (const toml::parse_error& error) {
    const toml::source_position& at = error.source().begin;
    return Status::InvalidArgument(std::string(source) + ":" + std::to_string(at.line) + ":" +
                                   std::to_string(at.column) +
                                   ": TOML syntax error: " + std::string(error.description()));
  }
  NodeConfig config;
  for (const auto& [key, node] : root) {
    std::string name(key.str());
    if (IsSection(name)) {
      const toml::table* table = node.as_table();
      if (table == nullptr) {
        return Status::InvalidArgument(std::string(source) + ": " + name + ": expected a [" + name +
                                       "] table, got " + TomlTypeName(node) + LineSuffix(node));
      }
      REEL_RETURN_IF_ERROR(StoreSection(config, name, *table, source));
      continue;
    }
    const KeyDef* def = FindKey(name);
    if (def == nullptr) {
      std::string what =
          node.is_table() ? "[" + name + "]: unknown section" : name + ": unknown key";
      return Status::InvalidArgument(std::string(source) + ": " + what + LineSuffix(node) +
                                     "; known: " + KnownKeys(""));
    }
    REEL_RETURN_IF_ERROR(StoreTomlValue(config, *def, node, std::string(source) + ": " + name));
  }
  return config;
}

Result<NodeConfig> LoadNodeConfig(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return Status::NotFound(path + ": cannot open the node config (run `reeld init --home DIR`)");
  }
  std::string text(limits::daemon_config_file_bytes_max + 1, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  if (in.bad()) return Status::IoError(path + ": cannot read the node config");
  text.resize(static_cast<size_t>(in.gcount()));
  if (text.size() > limits::daemon_config_file_bytes_max) {
    return Status::InvalidArgument(path + ": larger than " +
                                   std::to_string(limits::daemon_config_file_bytes_max) +
                                   " bytes; this is not a node config");
  }
  return ParseNodeConfig(text, path);
}

Status SetConfigValue(NodeConfig& config, std::string_view key, std::string_view value,
                      std::string_view source) {
  const KeyDef* def = FindKey(key);
  if (def == nullptr) {
    std::string known;
    for (const KeyDef& d : KeyDefs()) known += (known.empty() ? "" : ", ") + std::string(d.name);
    return Status::InvalidArgument(std::string(source) + ": unknown config key \"" +
                                   std::string(key) + "\"; known keys: " + known);
  }
  RawValue raw;
  raw.text = std::string(value);
  if (def->kind == Kind::kUint) {
    uint64_t number = 0;
    auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), number);
    if (value.empty() || error != std::errc() || end != value.data() + value.size() ||
        number > static_cast<uint64_t>(INT64_MAX)) {
      return Status::InvalidArgument(std::string(source) + ": expected an integer, got " +
                                     Quote(value));
    }
    raw.is_number = true;
    raw.number = static_cast<int64_t>(number);
  }
  Status status = StoreValue(config, *def, raw);
  if (!status.ok()) return Status::InvalidArgument(std::string(source) + ": " + status.message());
  return Status::Ok();
}

Status ApplySetFlag(NodeConfig& config, std::string_view assignment) {
  size_t eq = assignment.find('=');
  if (eq == std::string_view::npos || eq == 0) {
    return Status::InvalidArgument("--set " + std::string(assignment) +
                                   ": expected key=value, e.g. --set api.listen=127.0.0.1:9090");
  }
  std::string_view key = assignment.substr(0, eq);
  return SetConfigValue(config, key, assignment.substr(eq + 1), "--set " + std::string(key));
}

bool IsLogLevel(std::string_view level) {
  return std::find(std::begin(kLogLevels), std::end(kLogLevels), level) != std::end(kLogLevels);
}

std::string GetConfigValue(const NodeConfig& config, std::string_view key) {
  const KeyDef* def = FindKey(key);
  if (def == nullptr) return "";
  NodeConfig& mutable_config = const_cast<NodeConfig&>(config);  // accessors are read here only
  switch (def->kind) {
    case Kind::kUint:
      return std::to_string(*def->number(mutable_config));
    case Kind::kLogFormat:
      return config.log.format == LogFormat::kJson ? "json" : "text";
    default:
      return *def->text(mutable_config);
  }
}

std::string DefaultNodeConfigToml(std::string_view moniker) {
  NodeConfig config;
  Status moniker_status = SetConfigValue(config, "moniker", moniker, "--moniker");
  REEL_ASSERT(moniker_status.ok());  // callers check the moniker first (reeld init does)
  return NodeConfigToml(config);
}

std::string NodeConfigToml(const NodeConfig& config) {
  std::ostringstream out;
  out << "# reeld node config. Every key is optional: a missing key takes the default shown.\n"
         "# Unknown keys are refused. Relative paths are relative to the home folder.\n"
         "# A flag overrides a key: --api.listen HOST:PORT, or --set api.listen=HOST:PORT.\n";
  std::string_view current_section;
  for (const KeyDef& def : KeyDefs()) {
    size_t dot = def.name.find('.');
    std::string_view section = dot == std::string_view::npos ? "" : def.name.substr(0, dot);
    std::string_view leaf = dot == std::string_view::npos ? def.name : def.name.substr(dot + 1);
    if (section != current_section) {
      out << "\n[" << section << "]\n";
      current_section = section;
    } else {
      out << "\n";
    }
    std::string value = GetConfigValue(config, def.name);
    out << "# " << def.doc << "\n" << leaf << " = ";
    if (def.kind == Kind::kUint) {
      out << value << "\n";
    } else {
      out << Quote(value) << "\n";
    }
  }
  return out.str();
}

Result<HostPort> ParseHostPort(std::string_view text) {
  auto bad = [&] { return Status::InvalidArgument("expected \"host:port\", got " + Quote(text)); };
  size_t colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == text.size()) return bad();
  std::string_view host = text.substr(0, colon);
  std::string_view port_text = text.substr(colon + 1);
  if (host.front() == '[') {
    if (host.size() < 3 || host.back() != ']') return bad();
    host = host.substr(1, host.size() - 2);
  } else if (host.find(':') != std::string_view::npos) {
    return bad();  // an IPv6 address must be bracketed: "[::1]:9090"
  }
  bool host_chars = std::all_of(host.begin(), host.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '-' || c == ':' || c == '_';
  });
  if (!host_chars) return bad();
  uint32_t port = 0;
  auto [end, error] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (error != std::errc() || end != port_text.data() + port_text.size() || port > 65535) {
    return Status::InvalidArgument("expected \"host:port\" with a port 0..65535, got " +
                                   Quote(text));
  }
  return HostPort{std::string(host), static_cast<uint16_t>(port)};
}

std::string ResolvePath(const std::string& home, const std::string& path) {
  if (path.empty() || path.front() == '/') return path;
  if (home.empty()) return path;
  return home.back() == '/' ? home + path : home + "/" + path;
}

}  // namespace reel::config
