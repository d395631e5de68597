// What the crash writer (storage_crash_writer.cc) writes and the crash test
// (crash_test.cc) checks: batch k puts keys_per_batch keys "k/<k>/<i>" under the
// state prefix, with values derived from (k, i), and sets the committed-height
// pointer (keys::CommitHeightKey) to k, all in one synced batch.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/bytes.h"
#include "node/storage/keys.h"

namespace reel::storage::crash {

// The prefix under which all batch keys live.
inline std::string BatchKeysPrefix() {
  return keys::StateKey("k/");
}

// "k/" u64(k) "/" u32(i): fixed width, so keys of batch k sort together, by i.
inline std::string BatchKey(uint64_t batch, uint32_t index) {
  std::string rest = "k/";
  AppendU64BE(rest, batch);
  rest.push_back('/');
  AppendU32BE(rest, index);
  return keys::StateKey(rest);
}
inline constexpr size_t kBatchKeyBytes = 1 + 2 + 8 + 1 + 4;

// About 100 bytes that a wrong batch or index would not reproduce.
inline std::string BatchValue(uint64_t batch, uint32_t index) {
  std::string value = "batch " + std::to_string(batch) + " key " + std::to_string(index) + " ";
  uint64_t x = batch * 0x9e3779b97f4a7c15ull + index;
  while (value.size() < 100) {
    x ^= x >> 29;
    x *= 0xbf58476d1ce4e5b9ull;
    value.push_back(static_cast<char>('a' + x % 26));
  }
  return value;
}

}  // namespace reel::storage::crash
