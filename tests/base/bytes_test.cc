#include "base/bytes.h"

#include <gtest/gtest.h>

namespace reel {
namespace {

TEST(BytesTest, BigEndianRoundTrip) {
  std::string out;
  AppendU64BE(out, 0x0102030405060708ULL);
  ASSERT_EQ(out.size(), 8u);
  EXPECT_EQ(static_cast<uint8_t>(out[0]), 0x01);
  EXPECT_EQ(static_cast<uint8_t>(out[7]), 0x08);
  EXPECT_EQ(ReadU64BE(out), 0x0102030405060708ULL);
}

TEST(BytesTest, HexRoundTripAndRejectsBadInput) {
  std::string raw("\x00\xff\x10", 3);
  EXPECT_EQ(ToHex(raw), "00ff10");
  EXPECT_EQ(FromHex("00FF10").value(), raw);
  EXPECT_FALSE(FromHex("abc").has_value());
  EXPECT_FALSE(FromHex("zz").has_value());
}

}  // namespace
}  // namespace reel
