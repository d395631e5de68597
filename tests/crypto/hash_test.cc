#include "crypto/hash.h"

#include <gtest/gtest.h>

#include <cctype>
#include <string>

#include "crypto/keys.h"
#include "tests/crypto/crypto_test_util.h"

namespace reel::crypto {
namespace {

// BLAKE2b with a 32-byte digest, no key (hashlib.blake2b(digest_size=32)).
TEST(Blake2b256Test, KnownAnswers) {
  EXPECT_EQ(HashToHex(Blake2b256("")),
            "0e5751c026e543b2e8ab2eb06099daa1d1e5df47778f7787faab45cdf12fe3a8");
  EXPECT_EQ(HashToHex(Blake2b256("abc")),
            "bddd813c634239723171ef3fee98579b94964e3bb1cb3e427262c8c068d52319");
}

TEST(Blake2b256Test, HashesEmbeddedZeroBytes) {
  // A string_view with NULs must be hashed whole, not up to the first NUL.
  std::string with_nul("a\0b", 3);
  EXPECT_NE(Blake2b256(with_nul), Blake2b256("a"));
  EXPECT_NE(Blake2b256(with_nul), Blake2b256(std::string("a\0c", 3)));
}

TEST(Blake2b256Test, IncrementalEqualsOneShotForEverySplit) {
  std::string data;
  for (int i = 0; i < 300; ++i) data.push_back(static_cast<char>(i * 7 + 3));
  const Hash32 expected = Blake2b256(data);
  // Splits around the 128-byte block size matter most.
  for (size_t split = 0; split <= data.size(); ++split) {
    Blake2b256Hasher hasher;
    hasher.Update(std::string_view(data).substr(0, split));
    hasher.Update(std::string_view(data).substr(split));
    ASSERT_EQ(hasher.Final(), expected) << "split at " << split;
  }
  Blake2b256Hasher bytewise;
  for (char c : data) bytewise.Update(std::string_view(&c, 1));
  EXPECT_EQ(bytewise.Final(), expected);
}

TEST(Blake2b256Test, IncrementalKnownAnswer) {
  Blake2b256Hasher hasher;
  hasher.Update("a");
  hasher.Update("");
  hasher.Update("bc");
  EXPECT_EQ(HashToHex(hasher.Final()),
            "bddd813c634239723171ef3fee98579b94964e3bb1cb3e427262c8c068d52319");
}

TEST(Blake2b256DeathTest, FinalTwiceAsserts) {
  Blake2b256Hasher hasher;
  hasher.Final();
  EXPECT_DEATH(hasher.Final(), "REEL_ASSERT");
}

TEST(HashHexTest, RoundTripsAndRejectsBadInput) {
  Hash32 h = Blake2b256("abc");
  std::string hex = HashToHex(h);
  EXPECT_EQ(hex.size(), 64u);
  ASSERT_TRUE(HashFromHex(hex).has_value());
  EXPECT_EQ(*HashFromHex(hex), h);
  std::string upper = hex;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  EXPECT_EQ(HashFromHex(upper), h);
  EXPECT_FALSE(HashFromHex(hex.substr(0, 62)).has_value());
  EXPECT_FALSE(HashFromHex(hex + "00").has_value());
  std::string bad = hex;
  bad[10] = 'g';
  EXPECT_FALSE(HashFromHex(bad).has_value());
}

TEST(HashHexTest, AsBytesViewsTheArray) {
  Hash32 h = Blake2b256("x");
  std::string_view v = AsBytes(h);
  ASSERT_EQ(v.size(), 32u);
  EXPECT_EQ(static_cast<const void*>(v.data()), static_cast<const void*>(h.data()));
  EXPECT_EQ(ToHex(v), HashToHex(h));
}

TEST(SodiumTest, InitialisesOnceAndReportsOk) {
  ASSERT_OK(EnsureSodiumInitialized());
  ASSERT_OK(EnsureSodiumInitialized());
}

}  // namespace
}  // namespace reel::crypto
