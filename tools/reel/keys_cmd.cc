// reel keys new|show|list: Ed25519 key files for organisations' signatories and
// validators (crypto/keyfile.h: mode 0600, optional passphrase). `new` also writes the
// public key beside the key file as NAME.pub (hex, 0644), the part to send to others.
#include <sodium.h>

#include <cstdlib>
#include <filesystem>
#include <regex>
#include <set>

#include "base/bytes.h"
#include "crypto/hash.h"
#include "crypto/keyfile.h"
#include "crypto/keys.h"
#include "tools/reel/chain_setup.h"
#include "tools/reel/cli.h"

namespace reel::cli {
namespace {

namespace fs = std::filesystem;

std::string DefaultKeyDir() {
  if (const char* home = std::getenv("REEL_HOME"); home != nullptr && *home != '\0') {
    return std::string(home) + "/keys";
  }
  const char* user_home = std::getenv("HOME");
  return std::string(user_home != nullptr ? user_home : ".") + "/.reel/keys";
}

std::string PublicKeyHex(const crypto::PublicKey& key) {
  return ToHex(std::string_view(reinterpret_cast<const char*>(key.data()), key.size()));
}

// As proto3 JSON writes bytes fields: what a RegisterOrg body's signatory_keys hold.
std::string PublicKeyBase64(const crypto::PublicKey& key) {
  char out[sodium_base64_ENCODED_LEN(32, sodium_base64_VARIANT_ORIGINAL)];
  sodium_bin2base64(out, sizeof out, key.data(), key.size(), sodium_base64_VARIANT_ORIGINAL);
  return out;
}

// A name is a file name in the key folder; a path (with a slash or .key) is used as is.
std::string KeyPath(const std::string& name_or_path, const std::string& dir) {
  if (name_or_path.find('/') != std::string::npos || name_or_path.ends_with(".key")) {
    return name_or_path;
  }
  return dir + "/" + name_or_path + ".key";
}

// "yes" / "no", or the error that stops the key from being read at all.
Result<std::string> Encrypted(const std::string& path) {
  Result<crypto::KeyPair> plain = crypto::ReadKeyFile(path, std::nullopt);
  if (plain.ok()) return std::string("no");
  if (plain.status().code() == Code::kFailedPrecondition) return std::string("yes");
  return plain.status();
}

struct NewOptions {
  std::string name;
  std::string dir;
  std::string passphrase_file;
  std::string passphrase_env;
};

Status RunNew(const Globals& globals, const NewOptions& o) {
  static const std::regex kName("[A-Za-z0-9._-]{1,64}");
  if (!std::regex_match(o.name, kName)) {
    return Status::InvalidArgument("key name '" + o.name +
                                   "' must be 1 to 64 of A-Z a-z 0-9 . _ -");
  }
  Result<std::optional<std::string>> passphrase =
      ReadPassphrase(o.passphrase_file, o.passphrase_env);
  if (!passphrase.ok()) return passphrase.status();
  std::error_code ec;
  fs::create_directories(o.dir, ec);
  if (ec) return Status::IoError("cannot create key folder " + o.dir + ": " + ec.message());
  fs::permissions(o.dir, fs::perms::owner_all, fs::perm_options::replace, ec);
  const std::string path = KeyPath(o.name, o.dir);
  crypto::KeyPair key = crypto::KeyPair::Generate();
  std::optional<std::string_view> secret;
  if (passphrase->has_value()) secret = **passphrase;
  REEL_RETURN_IF_ERROR(crypto::WriteKeyFile(path, key, secret));
  // The public half, to send to whoever registers the organisation (genesis add-org,
  // tx register-org --signatory-key FILE).
  const std::string public_path = fs::path(path).replace_extension(".pub").string();
  REEL_RETURN_IF_ERROR(WritePublicKeyFile(public_path, key.public_key()));
  PrintRecord(globals, {{"name", o.name},
                        {"public_key", PublicKeyHex(key.public_key())},
                        {"public_key_base64", PublicKeyBase64(key.public_key())},
                        {"encrypted", secret.has_value() ? "yes" : "no"},
                        {"path", path},
                        {"public_key_file", public_path}});
  if (passphrase->has_value()) crypto::WipeString(**passphrase);
  return Status::Ok();
}

Status RunShow(const Globals& globals, const std::string& name_or_path, const std::string& dir) {
  const std::string path = KeyPath(name_or_path, dir);
  Result<crypto::PublicKey> key = crypto::ReadKeyFilePublicKey(path);
  if (!key.ok()) return key.status();
  Result<std::string> encrypted = Encrypted(path);
  if (!encrypted.ok()) return encrypted.status();
  PrintRecord(globals, {{"name", fs::path(path).stem().string()},
                        {"public_key", PublicKeyHex(*key)},
                        {"public_key_base64", PublicKeyBase64(*key)},
                        {"encrypted", *encrypted},
                        {"path", path}});
  return Status::Ok();
}

Status RunList(const Globals& globals, const std::string& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    return Status::NotFound("no key folder " + dir + " (make a key with: reel keys new NAME)");
  }
  std::set<std::string> paths;  // sorted, so the listing is stable
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    if (entry.path().extension() == ".key") paths.insert(entry.path().string());
  }
  Table table({"name", "public_key", "encrypted", "problem"});
  for (const std::string& path : paths) {
    const std::string name = fs::path(path).stem().string();
    Result<crypto::PublicKey> key = crypto::ReadKeyFilePublicKey(path);
    if (!key.ok()) {
      table.Add({name, "-", "-", key.status().message()});
      continue;
    }
    Result<std::string> encrypted = Encrypted(path);
    table.Add({name, PublicKeyHex(*key), encrypted.ok() ? *encrypted : "-",
               encrypted.ok() ? "" : encrypted.status().message()});
  }
  table.Print(globals);
  return Status::Ok();
}

}  // namespace

void RegisterKeys(CLI::App& app, Globals& globals, Runner* selected) {
  CLI::App* keys = app.add_subcommand("keys", "Make, show and list Ed25519 key files (mode 0600)");
  keys->require_subcommand(1);

  auto new_options = std::make_shared<NewOptions>();
  new_options->dir = DefaultKeyDir();
  CLI::App* make = keys->add_subcommand(
      "new", "Make a new key file DIR/NAME.key and its public key DIR/NAME.pub");
  make->add_option("name", new_options->name, "Key name (file name without .key)")->required();
  make->add_option("--dir", new_options->dir, "Key folder ($REEL_HOME/keys or ~/.reel/keys)")
      ->capture_default_str();
  make->add_option("--passphrase-file", new_options->passphrase_file,
                   "Encrypt with the passphrase in this file (Argon2id + secretbox)");
  make->add_option("--passphrase-env", new_options->passphrase_env,
                   "Encrypt with the passphrase in this environment variable");
  OnRun(make, selected, [&globals, new_options] { return RunNew(globals, *new_options); });

  auto show_target = std::make_shared<std::string>();
  auto show_dir = std::make_shared<std::string>(DefaultKeyDir());
  CLI::App* show = keys->add_subcommand("show", "Show a key file's public key");
  show->add_option("key", *show_target, "Key name in --dir, or a path to a .key file")->required();
  show->add_option("--dir", *show_dir, "Key folder")->capture_default_str();
  OnRun(show, selected,
        [&globals, show_target, show_dir] { return RunShow(globals, *show_target, *show_dir); });

  auto list_dir = std::make_shared<std::string>(DefaultKeyDir());
  CLI::App* list = keys->add_subcommand("list", "List the key files in a folder");
  list->add_option("--dir", *list_dir, "Key folder")->capture_default_str();
  OnRun(list, selected, [&globals, list_dir] { return RunList(globals, *list_dir); });
}

}  // namespace reel::cli
