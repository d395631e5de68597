#include "crypto/hash.h"

#include <sodium.h>

#include <cstring>

#include "base/assert.h"
#include "base/bytes.h"
#include "crypto/keys.h"

namespace reel::crypto {
namespace {

static_assert(crypto_generichash_BYTES_MIN <= 32 && 32 <= crypto_generichash_BYTES_MAX);

crypto_generichash_state* State(unsigned char* storage) {
  return reinterpret_cast<crypto_generichash_state*>(storage);
}

const unsigned char* Data(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

void RequireSodium() {
  REEL_ASSERT(EnsureSodiumInitialized().ok());
}

}  // namespace

Hash32 Blake2b256(std::string_view data) {
  RequireSodium();
  Hash32 out;
  int rc = crypto_generichash(out.data(), out.size(), Data(data), data.size(), nullptr, 0);
  REEL_ASSERT(rc == 0);
  return out;
}

Blake2b256Hasher::Blake2b256Hasher() {
  static_assert(sizeof(state_) >= sizeof(crypto_generichash_state));
  static_assert(alignof(Blake2b256Hasher) >= alignof(crypto_generichash_state));
  RequireSodium();
  int rc = crypto_generichash_init(State(state_), nullptr, 0, sizeof(Hash32));
  REEL_ASSERT(rc == 0);
}

void Blake2b256Hasher::Update(std::string_view data) {
  REEL_ASSERT(!finalized_);
  int rc = crypto_generichash_update(State(state_), Data(data), data.size());
  REEL_ASSERT(rc == 0);
}

Hash32 Blake2b256Hasher::Final() {
  REEL_ASSERT(!finalized_);
  finalized_ = true;
  Hash32 out;
  int rc = crypto_generichash_final(State(state_), out.data(), out.size());
  REEL_ASSERT(rc == 0);
  return out;
}

std::string_view AsBytes(const Hash32& h) {
  return {reinterpret_cast<const char*>(h.data()), h.size()};
}

std::string HashToHex(const Hash32& h) {
  return ToHex(AsBytes(h));
}

std::optional<Hash32> HashFromHex(std::string_view hex) {
  if (hex.size() != 2 * sizeof(Hash32)) return std::nullopt;
  std::optional<std::string> bytes = FromHex(hex);
  if (!bytes) return std::nullopt;
  Hash32 out;
  std::memcpy(out.data(), bytes->data(), out.size());
  return out;
}

}  // namespace reel::crypto
