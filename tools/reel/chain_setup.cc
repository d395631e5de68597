#include "tools/reel/chain_setup.h"

#include <google/protobuf/util/json_util.h>
#include <sodium.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>

#include "base/bytes.h"
#include "base/file.h"
#include "base/limits.h"
#include "crypto/keyfile.h"
#include "node/config/genesis.h"

namespace reel::cli {
namespace {

namespace fs = std::filesystem;

// 64 hex digits or base64 of 32 bytes; nullopt for anything else.
std::optional<std::string> ParsePublicKeyText(const std::string& text) {
  if (std::optional<std::string> raw = FromHex(text); raw.has_value() && raw->size() == 32) {
    return raw;
  }
  unsigned char raw[33];
  size_t size = 0;
  if (sodium_base642bin(raw, sizeof raw, text.data(), text.size(), nullptr, &size, nullptr,
                        sodium_base64_VARIANT_ORIGINAL) == 0 &&
      size == 32) {
    return std::string(reinterpret_cast<const char*>(raw), size);
  }
  return std::nullopt;
}

std::string Trim(const std::string& text) {
  const size_t first = text.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) return "";
  return text.substr(first, text.find_last_not_of(" \t\r\n") - first + 1);
}

}  // namespace

uint64_t NowMs() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
}

std::string RawKey(const crypto::PublicKey& key) {
  return std::string(reinterpret_cast<const char*>(key.data()), key.size());
}

Result<std::string> ReadPublicKey(const std::string& text) {
  if (std::optional<std::string> raw = ParsePublicKeyText(text)) return *raw;
  std::error_code ec;
  if (!fs::is_regular_file(text, ec)) {
    return Status::InvalidArgument("'" + text +
                                   "' is neither a public key (64 hex digits or base64) nor a "
                                   "key file");
  }
  std::ifstream in(text, std::ios::binary);
  std::string head(limits::key_file_bytes_max + 1, '\0');
  in.read(head.data(), static_cast<std::streamsize>(head.size()));
  head.resize(static_cast<size_t>(in.gcount()));
  if (Trim(head).starts_with("{")) {  // a reel key file (crypto/keyfile.h)
    Result<crypto::PublicKey> key = crypto::ReadKeyFilePublicKey(text);
    if (!key.ok()) return key.status();
    return RawKey(*key);
  }
  if (std::optional<std::string> raw = ParsePublicKeyText(Trim(head))) return *raw;
  return Status::InvalidArgument(text +
                                 ": neither a reel key file nor a public key file (64 hex digits "
                                 "on one line)");
}

Status Prefixed(const std::string& prefix, const Status& status) {
  return Status(status.code(), prefix + ": " + status.message());
}

Result<std::string> ValidatorNameOf(const std::string& cert_pem, const std::string& name,
                                    const std::string& cert_file, const std::string& at) {
  Result<std::vector<std::string>> names = net::CertDnsNames(cert_pem);
  if (!names.ok()) return Prefixed(at + ".tls_cert_pem: " + cert_file, names.status());
  std::string chosen = name;
  if (chosen.empty()) {
    Result<std::string> common_name = net::CertCommonName(cert_pem);
    if (!common_name.ok()) return Prefixed(at + ".name: " + cert_file, common_name.status());
    chosen = *common_name;
  }
  if (std::find(names->begin(), names->end(), chosen) == names->end()) {
    std::string listed;
    for (const std::string& n : *names) listed += (listed.empty() ? "" : ", ") + n;
    return Status::InvalidArgument(at + ".name: \"" + chosen + "\" is not a DNS name of " +
                                   cert_file + " (it names: " + (listed.empty() ? "none" : listed) +
                                   "); peers check a validator's certificate by its name");
  }
  return chosen;
}

Status WritePublicKeyFile(const std::string& path, const crypto::PublicKey& key) {
  return WriteFileWithMode(path, ToHex(RawKey(key)) + "\n", 0644);
}

Status MakePrivateDir(const std::string& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (!ec) fs::permissions(dir, fs::perms::owner_all, fs::perm_options::replace, ec);
  if (ec) return Status::IoError("cannot create " + dir + ": " + ec.message());
  return Status::Ok();
}

Result<net::CertAndKey> MakeCaFiles(const std::string& dir, const std::string& name,
                                    uint32_t valid_days) {
  std::error_code ec;
  if (fs::exists(dir + "/ca.key", ec)) {
    return Status::AlreadyExists(dir +
                                 "/ca.key exists: a chain keeps its CA; choose another "
                                 "folder for a new one");
  }
  REEL_RETURN_IF_ERROR(MakePrivateDir(dir));
  Result<net::CertAndKey> ca = net::MakeCa(name, valid_days);
  if (!ca.ok()) return ca.status();
  REEL_RETURN_IF_ERROR(net::WriteCertAndKey(dir, "ca", *ca));
  return ca;
}

v1::Genesis NewGenesis(const std::string& chain_id, uint64_t time_ms, const std::string& ca_pem) {
  v1::Genesis genesis;
  genesis.set_chain_id(chain_id);
  genesis.set_genesis_time_ms(time_ms);
  genesis.set_tls_ca_pem(ca_pem);
  return genesis;
}

Result<v1::Genesis> ReadGenesisFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::NotFound(path + ": cannot read it (give --file PATH to a genesis.json)");
  std::string text(limits::daemon_genesis_file_bytes_max + 1, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  if (in.bad()) return Status::IoError(path + ": cannot read it");
  text.resize(static_cast<size_t>(in.gcount()));
  if (text.size() > limits::daemon_genesis_file_bytes_max) {
    return Status::InvalidArgument(path + ": larger than a genesis file may be");
  }
  return config::ParseGenesisJson(text, path);
}

Status WriteGenesisFile(const std::string& path, const v1::Genesis& genesis) {
  std::string json;
  google::protobuf::util::JsonPrintOptions print;
  print.add_whitespace = true;
  print.preserve_proto_field_names = true;
  if (!google::protobuf::util::MessageToJsonString(genesis, &json, print).ok()) {
    return Status::Internal(path + ": cannot render the genesis as JSON");
  }
  return ReplaceFileWithMode(path, json, 0644);
}

}  // namespace reel::cli
