#include "crypto/keys.h"

#include <gtest/gtest.h>
#include <sodium.h>

#include <string>
#include <vector>

#include "crypto/signing.h"
#include "tests/crypto/crypto_test_util.h"
#include "tests/test_util.h"

namespace reel::crypto {
namespace {

using testing::HexOf;
using testing::Unhex;
using testing::UnhexArray;

constexpr std::string_view kChain = "reel-main";

// RFC 8032 section 7.1, TEST 1.
constexpr std::string_view kRfcSeed =
    "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";
constexpr std::string_view kRfcPublicKey =
    "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";

std::string Body(size_t n) {
  std::string body;
  for (size_t i = 0; i < n; ++i) body.push_back(static_cast<char>(i * 31 + 5));
  return body;
}

KeyPair RfcKey() {
  Result<KeyPair> kp = KeyPair::FromSeed(Unhex(kRfcSeed));
  REEL_ASSERT(kp.ok());
  return std::move(kp).value();
}

// ------------------------------------------------------------ the primitive

// The raw libsodium primitive, to check the library under us is sane.
TEST(Ed25519Test, Rfc8032Vector1RawPrimitive) {
  std::string seed = Unhex(kRfcSeed);
  unsigned char pk[crypto_sign_PUBLICKEYBYTES];
  unsigned char sk[crypto_sign_SECRETKEYBYTES];
  ASSERT_EQ(crypto_sign_seed_keypair(pk, sk, reinterpret_cast<const unsigned char*>(seed.data())),
            0);
  EXPECT_EQ(ToHex(std::string_view(reinterpret_cast<char*>(pk), sizeof pk)), kRfcPublicKey);
  unsigned char sig[crypto_sign_BYTES];
  ASSERT_EQ(crypto_sign_detached(sig, nullptr, nullptr, 0, sk), 0);
  EXPECT_EQ(ToHex(std::string_view(reinterpret_cast<char*>(sig), sizeof sig)),
            "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155"
            "5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b");
  EXPECT_EQ(crypto_sign_verify_detached(sig, nullptr, 0, pk), 0);
}

TEST(KeyPairTest, FromSeedMatchesRfc8032PublicKey) {
  EXPECT_EQ(HexOf(RfcKey().public_key()), kRfcPublicKey);
}

// SignDigest is pure Ed25519 with the 32 digest bytes as the message. The
// expected signature was computed with RFC 8032's reference Python code over
// TransactionId("reel-main", "hello body"), so a wallet in another language
// that follows proto/README.md produces exactly these bytes.
TEST(KeyPairTest, SignDigestKnownAnswer) {
  Hash32 id = TransactionId(kChain, "hello body");
  ASSERT_EQ(HashToHex(id), "b0644fb82a2de270f74bfaa41fbcee0fc110c3c46c84760202bc3e33fef53a05");
  Signature sig = RfcKey().SignDigest(id);
  EXPECT_EQ(HexOf(sig),
            "86454d560155c75aff3d30182243332e4f1ecf8fcc97170ffe632eb337621cb1"
            "9c55d04f5b4954de37063d730e37a712bcb8f7fa46a7cbeb0171f9426800940b");
  EXPECT_TRUE(Verify(RfcKey().public_key(), id, sig));
}

// ------------------------------------------------------------ key pairs

TEST(KeyPairTest, GeneratedKeysSignAndVerify) {
  KeyPair a = KeyPair::Generate();
  KeyPair b = KeyPair::Generate();
  EXPECT_NE(a.public_key(), b.public_key());
  Hash32 digest = TransactionId(kChain, Body(100));
  Signature sig = a.SignDigest(digest);
  EXPECT_TRUE(Verify(a.public_key(), digest, sig));
  EXPECT_FALSE(Verify(b.public_key(), digest, sig));
  EXPECT_EQ(a.SignDigest(digest), sig);  // deterministic
}

TEST(KeyPairTest, SeedRoundTripsAndIsDeterministic) {
  KeyPair a = KeyPair::Generate();
  std::string seed = a.ExportSeed();
  ASSERT_EQ(seed.size(), kSeedBytes);
  Result<KeyPair> b = KeyPair::FromSeed(seed);
  WipeString(seed);
  EXPECT_TRUE(seed.empty());
  ASSERT_OK(b);
  EXPECT_EQ(b->public_key(), a.public_key());
  Hash32 digest = Blake2b256("d");
  EXPECT_EQ(b->SignDigest(digest), a.SignDigest(digest));
}

TEST(KeyPairTest, FromSeedRefusesWrongLength) {
  for (size_t n : {0, 31, 33, 64}) {
    Result<KeyPair> kp = KeyPair::FromSeed(std::string(n, 'x'));
    ASSERT_FALSE(kp.ok()) << n;
    EXPECT_EQ(kp.status().code(), Code::kInvalidArgument);
  }
}

TEST(KeyPairTest, MoveKeepsTheKey) {
  KeyPair a = KeyPair::Generate();
  PublicKey pk = a.public_key();
  KeyPair b = std::move(a);
  Hash32 digest = Blake2b256("m");
  EXPECT_EQ(b.public_key(), pk);
  EXPECT_TRUE(Verify(pk, digest, b.SignDigest(digest)));
}

TEST(KeyPairDeathTest, SigningWithMovedFromKeyAsserts) {
  KeyPair a = KeyPair::Generate();
  KeyPair b = std::move(a);
  EXPECT_DEATH(a.SignDigest(Blake2b256("x")), "REEL_ASSERT");  // NOLINT(bugprone-use-after-move)
}

TEST(WireBytesTest, PublicKeyAndSignatureNeedExactLengths) {
  KeyPair kp = KeyPair::Generate();
  Signature sig = kp.SignDigest(Blake2b256("w"));
  Result<PublicKey> pk = PublicKeyFromBytes(AsBytes(kp.public_key()));
  ASSERT_OK(pk);
  EXPECT_EQ(*pk, kp.public_key());
  Result<Signature> s = SignatureFromBytes(AsBytes(sig));
  ASSERT_OK(s);
  EXPECT_EQ(*s, sig);
  EXPECT_EQ(PublicKeyFromBytes(std::string(31, 'a')).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(PublicKeyFromBytes(std::string(33, 'a')).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(SignatureFromBytes(std::string(63, 'a')).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(SignatureFromBytes("").status().code(), Code::kInvalidArgument);
}

// ------------------------------------------------------------ alterations

// TESTING.md row 8: any altered byte of a signed body, of the signature or of
// the key is refused. Every byte position, every bit.
class AlterationTest : public ::testing::Test {
 protected:
  KeyPair kp_ = KeyPair::Generate();
  std::string body_ = Body(150);
  Hash32 id_ = TransactionId(kChain, body_);
  Signature sig_ = kp_.SignDigest(id_);
};

TEST_F(AlterationTest, UnalteredVerifies) {
  EXPECT_TRUE(Verify(kp_.public_key(), id_, sig_));
}

TEST_F(AlterationTest, EveryAlteredBodyByteIsRefused) {
  for (size_t i = 0; i < body_.size(); ++i) {
    for (int bit = 0; bit < 8; ++bit) {
      std::string altered = body_;
      altered[i] = static_cast<char>(altered[i] ^ (1 << bit));
      Hash32 altered_id = TransactionId(kChain, altered);
      ASSERT_NE(altered_id, id_) << "byte " << i << " bit " << bit;
      ASSERT_FALSE(Verify(kp_.public_key(), altered_id, sig_)) << "byte " << i << " bit " << bit;
    }
  }
  // Truncated or extended bodies too.
  EXPECT_FALSE(Verify(kp_.public_key(), TransactionId(kChain, body_.substr(1)), sig_));
  EXPECT_FALSE(Verify(kp_.public_key(), TransactionId(kChain, body_ + '\0'), sig_));
}

TEST_F(AlterationTest, EveryAlteredSignatureByteIsRefused) {
  for (size_t i = 0; i < sig_.size(); ++i) {
    for (int bit = 0; bit < 8; ++bit) {
      Signature altered = sig_;
      altered[i] ^= static_cast<uint8_t>(1 << bit);
      ASSERT_FALSE(Verify(kp_.public_key(), id_, altered)) << "byte " << i << " bit " << bit;
    }
  }
}

TEST_F(AlterationTest, EveryAlteredPublicKeyByteIsRefused) {
  for (size_t i = 0; i < kp_.public_key().size(); ++i) {
    for (int bit = 0; bit < 8; ++bit) {
      PublicKey altered = kp_.public_key();
      altered[i] ^= static_cast<uint8_t>(1 << bit);
      ASSERT_FALSE(Verify(altered, id_, sig_)) << "byte " << i << " bit " << bit;
    }
  }
}

TEST_F(AlterationTest, EveryAlteredDigestByteIsRefused) {
  for (size_t i = 0; i < id_.size(); ++i) {
    Hash32 altered = id_;
    altered[i] ^= 0x01;
    ASSERT_FALSE(Verify(kp_.public_key(), altered, sig_)) << "byte " << i;
  }
}

// Ids are digests of the body, so they cannot depend on who signed it or how.
TEST_F(AlterationTest, IdDoesNotDependOnSignatures) {
  KeyPair other = KeyPair::Generate();
  Signature other_sig = other.SignDigest(id_);
  EXPECT_NE(other_sig, sig_);
  EXPECT_EQ(TransactionId(kChain, body_), id_);
  EXPECT_TRUE(Verify(other.public_key(), id_, other_sig));
  EXPECT_TRUE(Verify(kp_.public_key(), id_, sig_));
}

// ------------------------------------------------------------ Ed25519 edge cases
//
// libsodium's crypto_sign_verify_detached (proto/README.md) rejects what a lax
// verifier, one checking only [S]B == R + [k]A, would accept. Each vector below
// is built so that it passes that lax equation, and must still be refused.

// L, the order of the prime-order subgroup, little-endian.
constexpr std::string_view kGroupOrderL =
    "edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010";

// Encodings of the points of order 1, 2, 4 and 8 (each checked in a Python
// reference as [n]P = identity); the identity first.
const std::vector<std::string_view> kSmallOrderPoints = {
    "0100000000000000000000000000000000000000000000000000000000000000",  // order 1
    "0000000000000000000000000000000000000000000000000000000000000000",  // order 4
    "0000000000000000000000000000000000000000000000000000000000000080",  // order 4
    "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",  // order 8
    "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85",  // order 8
    "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",  // order 8
    "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa",  // order 8
    "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",  // order 2
};

// a + b for 32-byte little-endian integers (the sum must fit).
std::array<uint8_t, 32> AddLittleEndian(const uint8_t* a, const std::array<uint8_t, 32>& b) {
  std::array<uint8_t, 32> sum{};
  unsigned carry = 0;
  for (size_t i = 0; i < 32; ++i) {
    unsigned v = a[i] + b[i] + carry;
    sum[i] = static_cast<uint8_t>(v);
    carry = v >> 8;
  }
  REEL_ASSERT(carry == 0);
  return sum;
}

TEST(Ed25519EdgeTest, NonCanonicalSIsRefused) {
  KeyPair kp = KeyPair::Generate();
  Hash32 digest = TransactionId(kChain, "s malleability");
  Signature sig = kp.SignDigest(digest);
  ASSERT_TRUE(Verify(kp.public_key(), digest, sig));

  const auto order = UnhexArray<32>(kGroupOrderL);
  Signature malleated = sig;
  std::array<uint8_t, 32> s_plus_l = AddLittleEndian(sig.data() + 32, order);
  std::copy(s_plus_l.begin(), s_plus_l.end(), malleated.begin() + 32);
  ASSERT_NE(malleated, sig);
  // S + L is the same scalar mod L, so the lax equation still holds.
  unsigned char wide[64] = {0};
  std::copy(s_plus_l.begin(), s_plus_l.end(), wide);
  unsigned char reduced[32];
  crypto_core_ed25519_scalar_reduce(reduced, wide);
  ASSERT_TRUE(std::equal(reduced, reduced + 32, sig.begin() + 32));
  EXPECT_FALSE(Verify(kp.public_key(), digest, malleated));

  // S + 2L as well, and S with the top three bits set.
  Signature twice = sig;
  std::array<uint8_t, 32> s_plus_2l = AddLittleEndian(s_plus_l.data(), order);
  std::copy(s_plus_2l.begin(), s_plus_2l.end(), twice.begin() + 32);
  EXPECT_FALSE(Verify(kp.public_key(), digest, twice));
  Signature high_bits = sig;
  high_bits[63] |= 0xe0;
  EXPECT_FALSE(Verify(kp.public_key(), digest, high_bits));
}

// With A = identity, (R = identity, S = 0) satisfies the lax equation for
// every message: a universal forgery that must be refused.
TEST(Ed25519EdgeTest, IdentityPublicKeyUniversalForgeryIsRefused) {
  PublicKey identity = UnhexArray<32>(kSmallOrderPoints[0]);
  Signature forged{};
  std::copy(identity.begin(), identity.end(), forged.begin());  // R = identity, S = 0
  for (std::string_view body : {"", "a", "pay me"}) {
    EXPECT_FALSE(Verify(identity, TransactionId(kChain, body), forged)) << body;
  }
}

TEST(Ed25519EdgeTest, EverySmallOrderPublicKeyIsRefused) {
  KeyPair kp = KeyPair::Generate();
  Hash32 digest = TransactionId(kChain, "small order A");
  Signature real = kp.SignDigest(digest);
  for (std::string_view hex : kSmallOrderPoints) {
    PublicKey small = UnhexArray<32>(hex);
    for (std::string_view r_hex : kSmallOrderPoints) {
      Signature forged{};  // R small order, S = 0: lax-valid whenever [k]A = -R
      PublicKey r = UnhexArray<32>(r_hex);
      std::copy(r.begin(), r.end(), forged.begin());
      EXPECT_FALSE(Verify(small, digest, forged)) << hex << " R " << r_hex;
    }
    EXPECT_FALSE(Verify(small, digest, real)) << hex;
  }
}

// R = identity with S = k * a (a: the signer's secret scalar, k = H(R || A || M))
// satisfies [S]B = R + [k]A exactly; only the small-order check on R refuses it.
TEST(Ed25519EdgeTest, SmallOrderRIsRefusedEvenWhenTheEquationHolds) {
  std::string seed = Unhex(kRfcSeed);
  KeyPair kp = RfcKey();
  const PublicKey& pk = kp.public_key();
  Hash32 digest = TransactionId(kChain, "identity R");

  unsigned char sk[crypto_sign_SECRETKEYBYTES];
  unsigned char pk_raw[crypto_sign_PUBLICKEYBYTES];
  ASSERT_EQ(
      crypto_sign_seed_keypair(pk_raw, sk, reinterpret_cast<const unsigned char*>(seed.data())), 0);
  unsigned char a[32];  // SHA-512(seed)[0..32], clamped: the secret scalar
  ASSERT_EQ(crypto_sign_ed25519_sk_to_curve25519(a, sk), 0);

  const PublicKey identity = UnhexArray<32>(kSmallOrderPoints[0]);
  std::string hashed(AsBytes(identity));
  hashed += AsBytes(pk);
  hashed += AsBytes(digest);
  unsigned char k_wide[64];
  crypto_hash_sha512(k_wide, reinterpret_cast<const unsigned char*>(hashed.data()), hashed.size());
  unsigned char k[32];
  crypto_core_ed25519_scalar_reduce(k, k_wide);
  unsigned char s[32];
  crypto_core_ed25519_scalar_mul(s, k, a);

  // Check the construction: [S]B == [k]A (== identity + [k]A).
  unsigned char sb[32], ka[32];
  ASSERT_EQ(crypto_scalarmult_ed25519_base_noclamp(sb, s), 0);
  ASSERT_EQ(crypto_scalarmult_ed25519_noclamp(ka, k, pk.data()), 0);
  ASSERT_TRUE(std::equal(sb, sb + 32, ka));

  Signature forged{};
  std::copy(identity.begin(), identity.end(), forged.begin());
  std::copy(s, s + 32, forged.begin() + 32);
  EXPECT_FALSE(Verify(pk, digest, forged));
  sodium_memzero(sk, sizeof sk);
  sodium_memzero(a, sizeof a);
}

TEST(Ed25519EdgeTest, EverySmallOrderRInAnOtherwiseValidSignatureIsRefused) {
  KeyPair kp = KeyPair::Generate();
  Hash32 digest = TransactionId(kChain, "small order R");
  Signature sig = kp.SignDigest(digest);
  ASSERT_TRUE(Verify(kp.public_key(), digest, sig));
  for (std::string_view hex : kSmallOrderPoints) {
    PublicKey r = UnhexArray<32>(hex);
    Signature altered = sig;
    std::copy(r.begin(), r.end(), altered.begin());
    EXPECT_FALSE(Verify(kp.public_key(), digest, altered)) << hex;
  }
}

TEST(Ed25519EdgeTest, AllZeroSignatureAndKeyAreRefused) {
  EXPECT_FALSE(Verify(PublicKey{}, Hash32{}, Signature{}));
  KeyPair kp = KeyPair::Generate();
  EXPECT_FALSE(Verify(kp.public_key(), Hash32{}, Signature{}));
}

}  // namespace
}  // namespace reel::crypto
