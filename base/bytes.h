// Byte helpers shared by the wire formats: big-endian integers and hex.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace reel {

// Appends `v` to `out` as 8 bytes, most significant first.
inline void AppendU64BE(std::string& out, uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8)
    out.push_back(static_cast<char>((v >> shift) & 0xff));
}
inline void AppendU32BE(std::string& out, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8)
    out.push_back(static_cast<char>((v >> shift) & 0xff));
}
// Reads 8 big-endian bytes; `in` must hold at least 8.
uint64_t ReadU64BE(std::string_view in);
// Reads 4 big-endian bytes; `in` must hold at least 4.
uint32_t ReadU32BE(std::string_view in);

std::string ToHex(std::string_view bytes);
// Lower or upper case; nullopt on odd length or a non-hex character.
std::optional<std::string> FromHex(std::string_view hex);

// A DNS label or dotted name of [A-Za-z0-9.-], not starting with '-' or '.', not ending
// with '.', of 1..max_bytes bytes: what a certificate host may be, and (at most 64 bytes)
// a validator name, so that it can be the TLS target name its peers dial.
bool IsDnsName(std::string_view name, size_t max_bytes = 253);

}  // namespace reel
