// Ed25519 keys, signatures over 32-byte digests, and libsodium start-up.
//
// What is signed is always a signing digest (crypto/signing.h), never raw
// bytes: KeyPair::SignDigest signs the 32 digest bytes as the Ed25519 message
// (pure Ed25519, RFC 8032), and Verify checks them with libsodium's
// crypto_sign_verify_detached, which rejects a non-canonical S, a small-order
// or non-canonical public key, and a small-order R (proto/README.md).
//
// Secrets: a KeyPair keeps its secret key in its own heap block, which is
// wiped with sodium_memzero when the KeyPair is destroyed. Moving a KeyPair
// moves the block, so the secret is never copied; a moved-from KeyPair may
// only be destroyed or assigned to (SignDigest on it asserts).
//
// Thread safety: Verify and EnsureSodiumInitialized may be called from any
// number of threads at once. A const KeyPair may be used from many threads.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "base/status.h"
#include "crypto/hash.h"

namespace reel::crypto {

using PublicKey = std::array<uint8_t, 32>;
using Signature = std::array<uint8_t, 64>;

inline constexpr size_t kSeedBytes = 32;

// Runs sodium_init exactly once per process, whichever thread calls first;
// later calls cost one atomic load. Every function in crypto/ calls it, so
// callers need not; a daemon may call it at start to fail early. Internal error
// if libsodium cannot initialise (e.g. no source of randomness).
Status EnsureSodiumInitialized();

class KeyPair {
 public:
  // A fresh key from libsodium's CSPRNG. Asserts if libsodium cannot start.
  static KeyPair Generate();
  // The key derived from a 32-byte seed (RFC 8032 private key). InvalidArgument
  // if `seed32` is not 32 bytes. The caller still owns (and wipes) `seed32`.
  static Result<KeyPair> FromSeed(std::string_view seed32);

  KeyPair(KeyPair&&) noexcept = default;
  KeyPair& operator=(KeyPair&&) noexcept = default;
  KeyPair(const KeyPair&) = delete;
  KeyPair& operator=(const KeyPair&) = delete;
  ~KeyPair() = default;  // SecretKeyDeleter wipes the secret

  const PublicKey& public_key() const { return public_key_; }

  // Ed25519 signature whose message is the 32 bytes of `digest`.
  // Deterministic: the same key and digest always give the same signature.
  Signature SignDigest(const Hash32& digest) const;

  // The 32-byte seed, for writing a key file only. The caller must wipe the
  // returned string with sodium_memzero (or WipeString) when done.
  std::string ExportSeed() const;

 private:
  struct SecretKeyDeleter {
    void operator()(std::array<uint8_t, 64>* sk) const;
  };
  using SecretKey = std::unique_ptr<std::array<uint8_t, 64>, SecretKeyDeleter>;

  KeyPair(PublicKey pk, SecretKey sk) : public_key_(pk), secret_key_(std::move(sk)) {}

  PublicKey public_key_{};
  SecretKey secret_key_;  // libsodium's 64-byte form: seed || public key
};

// True only if `sig` is a valid Ed25519 signature by `key` of the 32 bytes of
// `digest`, by crypto_sign_verify_detached's rules. Never fails otherwise.
bool Verify(const PublicKey& key, const Hash32& digest, const Signature& sig);

// The 64 bytes of `sig` as a string_view (no copy; valid while `sig` lives).
std::string_view AsBytes(const Signature& sig);

// From wire bytes (a protobuf `bytes` field): InvalidArgument naming the
// expected and actual length unless exactly 32 (resp. 64) bytes. A key of the
// right length may still be refused by Verify (e.g. a small-order point).
Result<PublicKey> PublicKeyFromBytes(std::string_view bytes);
Result<Signature> SignatureFromBytes(std::string_view bytes);

// Overwrites every byte of `s` with sodium_memzero (which the compiler may not
// elide), then clears it. For seeds, passphrases and other secret strings.
void WipeString(std::string& s);

}  // namespace reel::crypto
