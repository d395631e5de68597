#include "crypto/keys.h"

#include <sodium.h>

#include <cstring>
#include <tuple>

#include "base/assert.h"

namespace reel::crypto {

static_assert(sizeof(PublicKey) == crypto_sign_PUBLICKEYBYTES);
static_assert(sizeof(Signature) == crypto_sign_BYTES);
static_assert(kSeedBytes == crypto_sign_SEEDBYTES);
static_assert(sizeof(std::array<uint8_t, 64>) == crypto_sign_SECRETKEYBYTES);

Status EnsureSodiumInitialized() {
  // A function-local static is initialised once, thread-safely, by the
  // compiler; calling sodium_init every time would take its global lock on
  // every hash and verify. sodium_init returns 1 when already initialised
  // (e.g. by another library in the process), which is fine too.
  static const int rc = sodium_init();
  if (rc < 0) return Status::Internal("libsodium failed to initialise (sodium_init)");
  return Status::Ok();
}

void KeyPair::SecretKeyDeleter::operator()(std::array<uint8_t, 64>* sk) const {
  sodium_memzero(sk->data(), sk->size());
  delete sk;
}

KeyPair KeyPair::Generate() {
  REEL_ASSERT(EnsureSodiumInitialized().ok());
  PublicKey pk;
  SecretKey sk(new std::array<uint8_t, 64>);
  int rc = crypto_sign_keypair(pk.data(), sk->data());
  REEL_ASSERT(rc == 0);
  return KeyPair(pk, std::move(sk));
}

Result<KeyPair> KeyPair::FromSeed(std::string_view seed32) {
  REEL_RETURN_IF_ERROR(EnsureSodiumInitialized());
  if (seed32.size() != kSeedBytes) {
    return Status::InvalidArgument("Ed25519 seed must be 32 bytes, got " +
                                   std::to_string(seed32.size()));
  }
  PublicKey pk;
  SecretKey sk(new std::array<uint8_t, 64>);
  int rc = crypto_sign_seed_keypair(pk.data(), sk->data(),
                                    reinterpret_cast<const unsigned char*>(seed32.data()));
  if (rc != 0) return Status::Internal("crypto_sign_seed_keypair failed");
  return KeyPair(pk, std::move(sk));
}

Signature KeyPair::SignDigest(const Hash32& digest) const {
  REEL_ASSERT(secret_key_ != nullptr);  // not a moved-from KeyPair
  Signature sig;
  int rc =
      crypto_sign_detached(sig.data(), nullptr, digest.data(), digest.size(), secret_key_->data());
  REEL_ASSERT(rc == 0);
  return sig;
}

std::string KeyPair::ExportSeed() const {
  REEL_ASSERT(secret_key_ != nullptr);
  // libsodium's secret key is seed || public key (crypto_sign_ed25519_sk_to_seed).
  std::string seed(kSeedBytes, '\0');
  int rc = crypto_sign_ed25519_sk_to_seed(reinterpret_cast<unsigned char*>(seed.data()),
                                          secret_key_->data());
  REEL_ASSERT(rc == 0);
  return seed;
}

bool Verify(const PublicKey& key, const Hash32& digest, const Signature& sig) {
  if (!EnsureSodiumInitialized().ok()) return false;
  return crypto_sign_verify_detached(sig.data(), digest.data(), digest.size(), key.data()) == 0;
}

std::string_view AsBytes(const Signature& sig) {
  return {reinterpret_cast<const char*>(sig.data()), sig.size()};
}

namespace {
template <typename Array>
Result<Array> ArrayFromBytes(std::string_view bytes, const char* what) {
  if (bytes.size() != std::tuple_size_v<Array>) {
    return Status::InvalidArgument(std::string(what) + " must be " +
                                   std::to_string(std::tuple_size_v<Array>) + " bytes, got " +
                                   std::to_string(bytes.size()));
  }
  Array out;
  std::memcpy(out.data(), bytes.data(), out.size());
  return out;
}
}  // namespace

Result<PublicKey> PublicKeyFromBytes(std::string_view bytes) {
  return ArrayFromBytes<PublicKey>(bytes, "Ed25519 public key");
}

Result<Signature> SignatureFromBytes(std::string_view bytes) {
  return ArrayFromBytes<Signature>(bytes, "Ed25519 signature");
}

void WipeString(std::string& s) {
  if (!s.empty()) sodium_memzero(s.data(), s.size());
  s.clear();
}

}  // namespace reel::crypto
