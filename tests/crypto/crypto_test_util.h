// Helpers shared by the crypto tests: hex literals and an OK assertion.
#pragma once

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

#include "base/assert.h"
#include "base/bytes.h"
#include "base/status.h"
#include "tests/test_util.h"

namespace reel::crypto::testing {

// Bytes of a hex literal written in a test; a typo in the literal aborts.
inline std::string Unhex(std::string_view hex) {
  std::optional<std::string> bytes = FromHex(hex);
  REEL_ASSERT(bytes.has_value());
  return *bytes;
}

template <size_t N>
std::array<uint8_t, N> UnhexArray(std::string_view hex) {
  std::string bytes = Unhex(hex);
  REEL_ASSERT(bytes.size() == N);
  std::array<uint8_t, N> out;
  std::memcpy(out.data(), bytes.data(), N);
  return out;
}

template <size_t N>
std::string HexOf(const std::array<uint8_t, N>& a) {
  return ToHex(std::string_view(reinterpret_cast<const char*>(a.data()), N));
}

}  // namespace reel::crypto::testing
