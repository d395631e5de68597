#include "crypto/keyfile.h"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "base/limits.h"

namespace reel::crypto {
namespace {

using Json = nlohmann::json;

constexpr int kFormatVersion = 1;
constexpr std::string_view kKeyType = "ed25519";
constexpr std::string_view kKdfName = "argon2id13";
constexpr size_t kKeyBytes = crypto_secretbox_KEYBYTES;
constexpr size_t kSaltBytes = crypto_pwhash_SALTBYTES;
constexpr size_t kNonceBytes = crypto_secretbox_NONCEBYTES;
constexpr size_t kCiphertextBytes = crypto_secretbox_MACBYTES + kSeedBytes;
static_assert(kKeyBytes == 32);

// Wipes a fixed-size secret buffer when it goes out of scope, on every path.
template <size_t N>
struct SecretBytes {
  std::array<unsigned char, N> bytes{};
  SecretBytes() = default;
  SecretBytes(const SecretBytes&) = delete;
  SecretBytes& operator=(const SecretBytes&) = delete;
  ~SecretBytes() { sodium_memzero(bytes.data(), bytes.size()); }
  unsigned char* data() { return bytes.data(); }
  std::string_view view() const { return {reinterpret_cast<const char*>(bytes.data()), N}; }
};

// Wipes a string (file text, hex of a seed) when it goes out of scope.
struct StringWiper {
  std::string& s;
  ~StringWiper() { WipeString(s); }
};

std::string Quote(const std::string& path) {
  return "'" + path + "'";
}

std::string Errno(int err) {
  return std::strerror(err);
}

std::string ModeString(mode_t mode) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%04o", static_cast<unsigned>(mode & 07777));
  return buf;
}

// Exact-length hex decode into `out` (sodium_hex2bin: no table lookups on
// secret digits). False unless `hex` is exactly 2 * n hex digits.
bool DecodeHex(std::string_view hex, unsigned char* out, size_t n) {
  if (hex.size() != 2 * n) return false;
  size_t len = 0;
  const char* end = nullptr;
  int rc = sodium_hex2bin(out, n, hex.data(), hex.size(), nullptr, &len, &end);
  return rc == 0 && len == n && end == hex.data() + hex.size();
}

std::string EncodeHex(const unsigned char* data, size_t n) {
  std::string hex(2 * n + 1, '\0');
  sodium_bin2hex(hex.data(), hex.size(), data, n);
  hex.pop_back();  // the NUL sodium_bin2hex writes
  return hex;
}

// ---------------------------------------------------------------- reading

// Opens, checks the mode, and reads at most key_file_bytes_max bytes. The
// mode is checked on the open descriptor, so the file checked is the file read.
Result<std::string> ReadPrivateFile(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) {
    int err = errno;
    if (err == ENOENT) return Status::NotFound("key file " + Quote(path) + " does not exist");
    if (err == EACCES) {
      return Status::PermissionDenied("cannot open key file " + Quote(path) + ": " + Errno(err));
    }
    return Status::IoError("cannot open key file " + Quote(path) + ": " + Errno(err));
  }
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};

  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    return Status::IoError("cannot stat key file " + Quote(path) + ": " + Errno(errno));
  }
  if (!S_ISREG(st.st_mode)) {
    return Status::InvalidArgument("key file " + Quote(path) + " is not a regular file");
  }
  if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
    return Status::PermissionDenied(
        "key file " + Quote(path) + " has mode " + ModeString(st.st_mode) +
        ", which lets group or others read or write it; run `chmod 600 " + path + "`");
  }
  if (static_cast<uint64_t>(st.st_size) > limits::key_file_bytes_max) {
    return Status::InvalidArgument("key file " + Quote(path) + " is " + std::to_string(st.st_size) +
                                   " bytes, more than the " +
                                   std::to_string(limits::key_file_bytes_max) + " allowed");
  }

  // Sized once, so the secret text is never left behind by a reallocation;
  // one byte of slack notices a file that grew after fstat.
  std::string text(limits::key_file_bytes_max + 1, '\0');
  size_t got = 0;
  while (got < text.size()) {
    ssize_t n = ::read(fd, text.data() + got, text.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int err = errno;
      WipeString(text);
      return Status::IoError("cannot read key file " + Quote(path) + ": " + Errno(err));
    }
    if (n == 0) break;
    got += static_cast<size_t>(n);
  }
  if (got > limits::key_file_bytes_max) {
    WipeString(text);
    return Status::InvalidArgument("key file " + Quote(path) + " is larger than the " +
                                   std::to_string(limits::key_file_bytes_max) + " bytes allowed");
  }
  sodium_memzero(text.data() + got, text.size() - got);
  text.resize(got);
  return text;
}

Status Malformed(const std::string& path, const std::string& why) {
  return Status::InvalidArgument("key file " + Quote(path) + " is malformed: " + why);
}

// The string field `name`, or nullptr if absent or not a string.
std::string* StringField(Json& j, const char* name) {
  auto it = j.find(name);
  if (it == j.end() || !it->is_string()) return nullptr;
  return &it->get_ref<std::string&>();
}

std::optional<uint64_t> UnsignedField(const Json& j, const char* name) {
  auto it = j.find(name);
  if (it == j.end() || !it->is_number_unsigned()) return std::nullopt;
  return it->get<uint64_t>();
}

// Parses the text and checks the fields every key file has.
Result<Json> ParseKeyFile(const std::string& path, const std::string& text) {
  Json j = Json::parse(text, /*cb=*/nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) {
    return Status::InvalidArgument("key file " + Quote(path) + " is not valid JSON");
  }
  if (!j.is_object()) return Malformed(path, "not a JSON object");
  if (UnsignedField(j, "version") != std::optional<uint64_t>(kFormatVersion)) {
    return Malformed(path, "\"version\" must be 1");
  }
  std::string* type = StringField(j, "type");
  if (type == nullptr || *type != kKeyType) return Malformed(path, "\"type\" must be \"ed25519\"");
  bool has_seed = j.contains("seed");
  bool has_kdf = j.contains("kdf");
  if (has_seed == has_kdf) {
    return Malformed(path, "exactly one of \"seed\" (plain) or \"kdf\" (encrypted) is needed");
  }
  return j;
}

Result<PublicKey> PublicKeyOf(const std::string& path, Json& j) {
  std::string* hex = StringField(j, "public_key");
  PublicKey pk{};
  if (hex == nullptr || !DecodeHex(*hex, pk.data(), pk.size())) {
    return Malformed(path, "\"public_key\" must be 64 hex digits");
  }
  return pk;
}

Status CheckLimits(uint64_t opslimit, uint64_t memlimit) {
  if (opslimit < crypto_pwhash_OPSLIMIT_MIN || opslimit > crypto_pwhash_OPSLIMIT_SENSITIVE ||
      memlimit < crypto_pwhash_MEMLIMIT_MIN || memlimit > crypto_pwhash_MEMLIMIT_SENSITIVE) {
    return Status::InvalidArgument(
        "Argon2id limits out of range: opslimit " + std::to_string(opslimit) + " (allowed " +
        std::to_string(crypto_pwhash_OPSLIMIT_MIN) + ".." +
        std::to_string(crypto_pwhash_OPSLIMIT_SENSITIVE) + "), memlimit " +
        std::to_string(memlimit) + " (allowed " + std::to_string(crypto_pwhash_MEMLIMIT_MIN) +
        ".." + std::to_string(crypto_pwhash_MEMLIMIT_SENSITIVE) + ")");
  }
  return Status::Ok();
}

Status DeriveKey(std::string_view passphrase, const unsigned char* salt, uint64_t opslimit,
                 uint64_t memlimit, unsigned char* key) {
  int rc = crypto_pwhash(key, kKeyBytes, passphrase.data(), passphrase.size(), salt, opslimit,
                         static_cast<size_t>(memlimit), crypto_pwhash_ALG_ARGON2ID13);
  // With checked limits, libsodium fails only when it cannot allocate memlimit.
  if (rc != 0) {
    return Status::ResourceExhausted("Argon2id could not allocate " + std::to_string(memlimit) +
                                     " bytes");
  }
  return Status::Ok();
}

// Decrypts the seed of an encrypted key file into `seed`.
Status OpenSeed(const std::string& path, Json& j, std::string_view passphrase,
                SecretBytes<kSeedBytes>& seed) {
  std::string* kdf = StringField(j, "kdf");
  if (kdf == nullptr || *kdf != kKdfName) return Malformed(path, "\"kdf\" must be \"argon2id13\"");
  std::optional<uint64_t> opslimit = UnsignedField(j, "opslimit");
  std::optional<uint64_t> memlimit = UnsignedField(j, "memlimit");
  if (!opslimit || !memlimit) {
    return Malformed(path, "\"opslimit\" and \"memlimit\" must be unsigned integers");
  }
  Status limits_ok = CheckLimits(*opslimit, *memlimit);
  if (!limits_ok.ok()) return Malformed(path, limits_ok.message());

  std::array<unsigned char, kSaltBytes> salt{};
  std::array<unsigned char, kNonceBytes> nonce{};
  std::array<unsigned char, kCiphertextBytes> ciphertext{};
  std::string* salt_hex = StringField(j, "salt");
  std::string* nonce_hex = StringField(j, "nonce");
  std::string* ciphertext_hex = StringField(j, "ciphertext");
  if (salt_hex == nullptr || !DecodeHex(*salt_hex, salt.data(), salt.size())) {
    return Malformed(path, "\"salt\" must be " + std::to_string(2 * kSaltBytes) + " hex digits");
  }
  if (nonce_hex == nullptr || !DecodeHex(*nonce_hex, nonce.data(), nonce.size())) {
    return Malformed(path, "\"nonce\" must be " + std::to_string(2 * kNonceBytes) + " hex digits");
  }
  if (ciphertext_hex == nullptr ||
      !DecodeHex(*ciphertext_hex, ciphertext.data(), ciphertext.size())) {
    return Malformed(
        path, "\"ciphertext\" must be " + std::to_string(2 * kCiphertextBytes) + " hex digits");
  }

  SecretBytes<kKeyBytes> key;
  REEL_RETURN_IF_ERROR(DeriveKey(passphrase, salt.data(), *opslimit, *memlimit, key.data()));
  if (crypto_secretbox_open_easy(seed.data(), ciphertext.data(), ciphertext.size(), nonce.data(),
                                 key.data()) != 0) {
    return Status::Unauthenticated("wrong passphrase for key file " + Quote(path) +
                                   " (or its ciphertext was altered)");
  }
  return Status::Ok();
}

// Gets the seed of a plain key file into `seed`.
Status PlainSeed(const std::string& path, Json& j, SecretBytes<kSeedBytes>& seed) {
  std::string* hex = StringField(j, "seed");
  if (hex == nullptr) return Malformed(path, "\"seed\" must be a string");
  if (!DecodeHex(*hex, seed.data(), kSeedBytes)) {
    return Malformed(path, "\"seed\" must be 64 hex digits");
  }
  return Status::Ok();
}

Result<KeyPair> ReadKeyFileUnchecked(const std::string& path, Json& j,
                                     std::optional<std::string_view> passphrase) {
  Result<PublicKey> recorded = PublicKeyOf(path, j);
  if (!recorded.ok()) return recorded.status();

  SecretBytes<kSeedBytes> seed;
  if (j.contains("seed")) {
    Status plain = PlainSeed(path, j, seed);
    if (!plain.ok()) return plain;
    if (passphrase) {
      return Status::InvalidArgument("key file " + Quote(path) +
                                     " is not encrypted, but a passphrase was given");
    }
  } else {
    if (!passphrase) {
      return Status::FailedPrecondition("key file " + Quote(path) +
                                        " is encrypted; a passphrase is needed to read it");
    }
    REEL_RETURN_IF_ERROR(OpenSeed(path, j, *passphrase, seed));
  }

  Result<KeyPair> kp = KeyPair::FromSeed(seed.view());
  if (!kp.ok()) return kp.status();
  if (kp->public_key() != *recorded) {
    return Status::Corruption("key file " + Quote(path) +
                              ": \"public_key\" does not match the key derived from its seed");
  }
  return kp;
}

// ---------------------------------------------------------------- writing

Result<std::string> SerializeKeyFile(const KeyPair& kp, std::optional<std::string_view> passphrase,
                                     const KdfLimits& limits) {
  Json j = Json::object();
  j["version"] = kFormatVersion;
  j["type"] = kKeyType;
  j["public_key"] = EncodeHex(kp.public_key().data(), kp.public_key().size());

  SecretBytes<kSeedBytes> seed;
  {
    std::string exported = kp.ExportSeed();
    std::memcpy(seed.data(), exported.data(), kSeedBytes);
    WipeString(exported);
  }

  if (!passphrase) {
    j["seed"] = EncodeHex(seed.data(), kSeedBytes);
    std::string text = j.dump(2);  // not `+ "\n"`: that would leave an unwiped copy
    WipeString(j["seed"].get_ref<std::string&>());
    return text;
  }

  if (passphrase->empty()) return Status::InvalidArgument("empty passphrase for a key file");
  REEL_RETURN_IF_ERROR(CheckLimits(limits.opslimit, limits.memlimit));
  std::array<unsigned char, kSaltBytes> salt{};
  std::array<unsigned char, kNonceBytes> nonce{};
  std::array<unsigned char, kCiphertextBytes> ciphertext{};
  randombytes_buf(salt.data(), salt.size());
  randombytes_buf(nonce.data(), nonce.size());
  SecretBytes<kKeyBytes> key;
  REEL_RETURN_IF_ERROR(
      DeriveKey(*passphrase, salt.data(), limits.opslimit, limits.memlimit, key.data()));
  int rc =
      crypto_secretbox_easy(ciphertext.data(), seed.data(), kSeedBytes, nonce.data(), key.data());
  if (rc != 0) return Status::Internal("crypto_secretbox_easy failed");

  j["kdf"] = kKdfName;
  j["opslimit"] = limits.opslimit;
  j["memlimit"] = static_cast<uint64_t>(limits.memlimit);
  j["salt"] = EncodeHex(salt.data(), salt.size());
  j["nonce"] = EncodeHex(nonce.data(), nonce.size());
  j["ciphertext"] = EncodeHex(ciphertext.data(), ciphertext.size());
  return j.dump(2);
}

Status WriteAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Status::IoError(Errno(errno));
    data.remove_prefix(static_cast<size_t>(n));
  }
  return Status::Ok();
}

// Makes the new directory entry durable, not just the file's bytes.
Status SyncParentDirectory(const std::string& path) {
  std::filesystem::path parent = std::filesystem::path(path).parent_path();
  if (parent.empty()) parent = ".";
  int dir = ::open(parent.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir < 0)
    return Status::IoError("cannot open directory of " + Quote(path) + ": " + Errno(errno));
  int rc = ::fsync(dir);
  int err = errno;
  ::close(dir);
  if (rc != 0)
    return Status::IoError("cannot fsync directory of " + Quote(path) + ": " + Errno(err));
  return Status::Ok();
}

// Creates `path` (never an existing file), writes, syncs; removes it on failure.
Status CreatePrivateFile(const std::string& path, std::string_view text) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) {
    int err = errno;
    if (err == EEXIST) {
      return Status::AlreadyExists("key file " + Quote(path) +
                                   " already exists; refusing to overwrite it");
    }
    if (err == ENOENT) {
      return Status::NotFound("cannot create key file " + Quote(path) +
                              ": its directory does not exist");
    }
    if (err == EACCES) {
      return Status::PermissionDenied("cannot create key file " + Quote(path) + ": " + Errno(err));
    }
    return Status::IoError("cannot create key file " + Quote(path) + ": " + Errno(err));
  }
  // The umask may only narrow the 0600 above; fchmod makes it exactly 0600.
  Status status;
  if (::fchmod(fd, 0600) != 0) {
    status = Status::IoError("cannot chmod key file " + Quote(path) + ": " + Errno(errno));
  }
  if (status.ok()) {
    Status wrote = WriteAll(fd, text);
    if (wrote.ok()) wrote = WriteAll(fd, "\n");
    if (!wrote.ok()) {
      status = Status::IoError("cannot write key file " + Quote(path) + ": " + wrote.message());
    }
  }
  if (status.ok() && ::fsync(fd) != 0) {
    status = Status::IoError("cannot fsync key file " + Quote(path) + ": " + Errno(errno));
  }
  if (::close(fd) != 0 && status.ok()) {
    status = Status::IoError("cannot close key file " + Quote(path) + ": " + Errno(errno));
  }
  if (!status.ok()) {
    ::unlink(path.c_str());  // ours: O_EXCL created it
    return status;
  }
  return SyncParentDirectory(path);
}

}  // namespace

KdfLimits KdfLimits::Interactive() {
  return {crypto_pwhash_OPSLIMIT_INTERACTIVE, crypto_pwhash_MEMLIMIT_INTERACTIVE};
}

KdfLimits KdfLimits::MinimumForTests() {
  return {crypto_pwhash_OPSLIMIT_MIN, crypto_pwhash_MEMLIMIT_MIN};
}

Status WriteKeyFile(const std::string& path, const KeyPair& kp,
                    std::optional<std::string_view> passphrase) {
  return WriteKeyFile(path, kp, passphrase, KdfLimits::Interactive());
}

Status WriteKeyFile(const std::string& path, const KeyPair& kp,
                    std::optional<std::string_view> passphrase, const KdfLimits& limits) {
  REEL_RETURN_IF_ERROR(EnsureSodiumInitialized());
  try {
    Result<std::string> text = SerializeKeyFile(kp, passphrase, limits);
    if (!text.ok()) return text.status();
    StringWiper wipe_text{*text};
    return CreatePrivateFile(path, *text);
  } catch (const std::exception& e) {  // nlohmann::json or std::bad_alloc
    return Status::Internal("cannot serialise key file " + Quote(path) + ": " + e.what());
  }
}

Result<KeyPair> ReadKeyFile(const std::string& path, std::optional<std::string_view> passphrase) {
  REEL_RETURN_IF_ERROR(EnsureSodiumInitialized());
  Result<std::string> text = ReadPrivateFile(path);
  if (!text.ok()) return text.status();
  StringWiper wipe_text{*text};
  try {
    Result<Json> j = ParseKeyFile(path, *text);
    if (!j.ok()) return j.status();
    Result<KeyPair> kp = ReadKeyFileUnchecked(path, *j, passphrase);
    if (std::string* seed_hex = StringField(*j, "seed")) WipeString(*seed_hex);
    return kp;
  } catch (const std::exception& e) {
    return Status::InvalidArgument("key file " + Quote(path) + " is malformed: " + e.what());
  }
}

Result<PublicKey> ReadKeyFilePublicKey(const std::string& path) {
  REEL_RETURN_IF_ERROR(EnsureSodiumInitialized());
  Result<std::string> text = ReadPrivateFile(path);
  if (!text.ok()) return text.status();
  StringWiper wipe_text{*text};
  try {
    Result<Json> j = ParseKeyFile(path, *text);
    if (!j.ok()) return j.status();
    if (std::string* seed_hex = StringField(*j, "seed")) WipeString(*seed_hex);
    return PublicKeyOf(path, *j);
  } catch (const std::exception& e) {
    return Status::InvalidArgument("key file " + Quote(path) + " is malformed: " + e.what());
  }
}

}  // namespace reel::crypto
