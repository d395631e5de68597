#include "node/config/home.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "base/bytes.h"
#include "crypto/keyfile.h"
#include "node/config/genesis.h"

namespace reel::config {
namespace {

// Creates `dir` with `mode` if missing (one level: the home itself is made first).
Status MakeDir(const std::string& dir, mode_t mode) {
  if (::mkdir(dir.c_str(), mode) == 0) return Status::Ok();
  if (errno == EEXIST) {
    struct stat st {};
    if (::stat(dir.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) return Status::Ok();
    return Status::FailedPrecondition(dir + " exists and is not a folder");
  }
  return Status::IoError("cannot create " + dir + ": " + std::strerror(errno));
}

// Writes a new file; never replaces one (O_EXCL), so `init` cannot lose settings.
Status WriteNewFile(const std::string& path, const std::string& text, mode_t mode) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) {
    if (errno == EEXIST) {
      return Status::AlreadyExists(path + " already exists; it is left as it is");
    }
    return Status::IoError("cannot create " + path + ": " + std::strerror(errno));
  }
  size_t written = 0;
  while (written < text.size()) {
    ssize_t n = ::write(fd, text.data() + written, text.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      int err = errno;
      ::close(fd);
      return Status::IoError("cannot write " + path + ": " + std::strerror(err));
    }
    written += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    return Status::IoError("cannot write " + path + ": " + std::strerror(errno));
  }
  return Status::Ok();
}

Status ApplyOverrides(NodeConfig& config, const ConfigOverrides& overrides) {
  for (const std::string& assignment : overrides.set_assignments) {
    REEL_RETURN_IF_ERROR(ApplySetFlag(config, assignment));
  }
  for (const auto& [key, value] : overrides.flags) {
    REEL_RETURN_IF_ERROR(SetConfigValue(config, key, value, "--" + key));
  }
  return Status::Ok();
}

Result<crypto::KeyPair> ReadValidatorKey(const std::string& path) {
  Result<crypto::KeyPair> key = crypto::ReadKeyFile(path, std::nullopt);
  if (!key.ok() && key.status().code() == Code::kFailedPrecondition) {
    // Encrypted: the passphrase comes from the environment, never from a flag (flags
    // show up in `ps` and shell history).
    const char* passphrase = std::getenv("REEL_VALIDATOR_KEY_PASSPHRASE");
    if (passphrase == nullptr) {
      return Status::FailedPrecondition(
          "[p2p] validator_key_file: " + path +
          " is encrypted; set REEL_VALIDATOR_KEY_PASSPHRASE to its passphrase");
    }
    key = crypto::ReadKeyFile(path, std::string_view(passphrase));
  }
  if (!key.ok()) {
    return Status(key.status().code(), "[p2p] validator_key_file: " + key.status().message());
  }
  return key;
}

}  // namespace

HomePaths::HomePaths(std::string home_dir)
    : home(std::move(home_dir)),
      config_dir(ResolvePath(home, "config")),
      config_file(ResolvePath(home, "config/node.toml")),
      genesis_file(ResolvePath(home, "config/genesis.json")),
      keys_dir(ResolvePath(home, "keys")),
      tls_dir(ResolvePath(home, "tls")),
      default_data_dir(ResolvePath(home, "data")) {}

Status InitHome(const std::string& home, const std::string& moniker) {
  NodeConfig config;
  REEL_RETURN_IF_ERROR(SetConfigValue(config, "moniker", moniker, "--moniker"));
  return InitHome(home, config);
}

Status InitHome(const std::string& home, const NodeConfig& config) {
  if (home.empty()) return Status::InvalidArgument("--home: expected a folder, got \"\"");
  HomePaths paths(home);
  REEL_RETURN_IF_ERROR(MakeDir(paths.home, 0755));
  REEL_RETURN_IF_ERROR(MakeDir(paths.config_dir, 0755));
  // Secrets and the store are the node operator's alone.
  REEL_RETURN_IF_ERROR(MakeDir(paths.keys_dir, 0700));
  REEL_RETURN_IF_ERROR(MakeDir(paths.tls_dir, 0700));
  REEL_RETURN_IF_ERROR(MakeDir(paths.default_data_dir, 0700));
  return WriteNewFile(paths.config_file, NodeConfigToml(config), 0644);
}

Result<LoadedHome> LoadHome(const HomePaths& paths, const ConfigOverrides& overrides) {
  Result<NodeConfig> config = LoadNodeConfig(paths.config_file);
  if (!config.ok()) return config.status();
  REEL_RETURN_IF_ERROR(ApplyOverrides(*config, overrides));

  Result<reel::v1::Genesis> genesis = LoadGenesis(paths.genesis_file);
  if (!genesis.ok()) return genesis.status();

  LoadedHome loaded;
  loaded.config = std::move(*config);
  loaded.genesis = std::move(*genesis);
  loaded.data_dir = ResolvePath(paths.home, loaded.config.storage.data_dir);
  loaded.home_dir = paths.home;

  const std::string& key_setting = loaded.config.p2p.validator_key_file;
  if (!key_setting.empty()) {
    std::string key_path = ResolvePath(paths.home, key_setting);
    Result<crypto::KeyPair> key = ReadValidatorKey(key_path);
    if (!key.ok()) return key.status();
    // A key genesis does not name is accepted: the node of a validator added later (or
    // whose key was replaced) runs with it, follows the chain, and votes from the epoch
    // whose set names it (reeld logs which epoch that is, and GetStatus shows the index).
    std::optional<size_t> index = FindValidator(loaded.genesis, key->public_key());
    loaded.validator_key = std::move(*key);
    loaded.validator_index = index;
  }
  return loaded;
}

}  // namespace reel::config
