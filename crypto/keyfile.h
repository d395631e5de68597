// Key files: one Ed25519 key on disk, plain or sealed with a passphrase.
//
// Format (JSON, one object; field order does not matter):
//   plain:     {"version":1,"type":"ed25519","public_key":"<hex32>","seed":"<hex32>"}
//   encrypted: {"version":1,"type":"ed25519","public_key":"<hex32>",
//               "kdf":"argon2id13","opslimit":N,"memlimit":N,
//               "salt":"<hex16>","nonce":"<hex24>","ciphertext":"<hex48>"}
// Encrypted: key = Argon2id13(passphrase, salt, opslimit, memlimit) (libsodium
// crypto_pwhash, 32 bytes); ciphertext = crypto_secretbox_easy(seed, nonce, key)
// (XSalsa20-Poly1305, so any altered byte fails to open). The public key is
// stored in clear so that tools can show it without the passphrase; on read it
// must match the key derived from the seed.
//
// On disk a key file is private to its owner: WriteKeyFile creates it with mode
// 0600 and never overwrites; ReadKeyFile refuses one that group or others may
// read or write, so that a node will not start with an exposed key.
//
// Secrets (seed, derived key, decrypted bytes, the file's text) are wiped with
// sodium_memzero once used. Best effort: the JSON library's own scratch buffers
// cannot be reached, and a plain key file holds the seed on disk anyway.
//
// Errors (never thrown), each naming the file:
//   NotFound          no such file
//   AlreadyExists     WriteKeyFile: the file exists (it is left untouched)
//   PermissionDenied  mode lets group/others in (message says `chmod 600 <file>`),
//                     or the OS refused access
//   InvalidArgument   malformed JSON, unknown version/type/kdf, bad field, file
//                     too large (limits::key_file_bytes_max), passphrase given
//                     for a plain file, empty passphrase on write
//   FailedPrecondition  the file is encrypted and no passphrase was given
//   Unauthenticated   wrong passphrase, or the ciphertext was altered (the two
//                     cannot be told apart)
//   Corruption        public_key does not match the seed
//   ResourceExhausted Argon2id could not get its memory
//   IoError           any other read/write/fsync failure
// Thread safety: the functions share no state; calls on different files may
// run at once.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/status.h"
#include "crypto/keys.h"

namespace reel::crypto {

// Argon2id cost for encrypting a key file; stored in the file, so reading
// uses whatever the writer chose (within libsodium's MIN..SENSITIVE bounds).
struct KdfLimits {
  uint64_t opslimit = 0;
  size_t memlimit = 0;  // bytes

  // libsodium's INTERACTIVE limits (2 passes, 64 MiB): the default.
  static KdfLimits Interactive();
  // The smallest limits libsodium accepts. Fast and weak: tests only.
  static KdfLimits MinimumForTests();
};

// Writes `kp` to a new file at `path` (mode 0600, fsynced, as is its directory).
// With a passphrase the seed is encrypted using KdfLimits::Interactive().
Status WriteKeyFile(const std::string& path, const KeyPair& kp,
                    std::optional<std::string_view> passphrase);
// The same with explicit Argon2id limits (ignored for a plain file).
Status WriteKeyFile(const std::string& path, const KeyPair& kp,
                    std::optional<std::string_view> passphrase, const KdfLimits& limits);

// Reads the key in `path`; the passphrase is needed exactly when it is encrypted.
Result<KeyPair> ReadKeyFile(const std::string& path, std::optional<std::string_view> passphrase);

// The public key recorded in `path`, without decrypting anything (for tools
// that list keys). Same mode and format checks as ReadKeyFile; the seed is not
// checked against it.
Result<PublicKey> ReadKeyFilePublicKey(const std::string& path);

}  // namespace reel::crypto
