// BLAKE2b-256, the one hash of REEL (proto/README.md, "Primitives"): unkeyed
// BLAKE2b with a 32-byte output, libsodium's crypto_generichash.
//
// Thread safety: the free functions are safe to call from any thread. A
// Blake2b256Hasher is a plain value: one thread at a time.
// Failure: none that a caller can cause. If libsodium cannot initialise (see
// EnsureSodiumInitialized in crypto/keys.h) the process stops with REEL_ASSERT,
// because no hash that REEL relies on could be trusted after that.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace reel::crypto {

using Hash32 = std::array<uint8_t, 32>;

// H(data).
Hash32 Blake2b256(std::string_view data);

// H(a || b || ...) without building the concatenation: Update any number of
// times, then Final exactly once (a second Final, or Update after Final, is a
// programming error and asserts).
class Blake2b256Hasher {
 public:
  Blake2b256Hasher();
  void Update(std::string_view data);
  Hash32 Final();

 private:
  // libsodium's crypto_generichash_state, kept opaque so that sodium.h stays
  // out of every file that hashes; hash.cc checks the size and alignment.
  alignas(64) unsigned char state_[384];
  bool finalized_ = false;
};

// The 32 bytes of `h` as a string_view (no copy; valid while `h` lives).
// Also fits crypto::PublicKey, which is the same type.
std::string_view AsBytes(const Hash32& h);

// 64 lower-case hex digits.
std::string HashToHex(const Hash32& h);

// The inverse of HashToHex (either case); nullopt unless exactly 64 hex digits.
std::optional<Hash32> HashFromHex(std::string_view hex);

}  // namespace reel::crypto
