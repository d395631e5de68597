#include "crypto/signing.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "base/bytes.h"
#include "crypto/keys.h"
#include "tests/crypto/crypto_test_util.h"

namespace reel::crypto {
namespace {

const std::vector<Domain> kAllDomains = {Domain::kTransaction, Domain::kProposal,
                                         Domain::kVote,        Domain::kTimeout,
                                         Domain::kEnvelope,    Domain::kEpochChange};

// The layout of proto/README.md, spelled out byte by byte.
Hash32 ByHand(std::string_view tag, std::string_view chain_id, uint64_t epoch,
              std::string_view fields) {
  std::string bytes;
  bytes.push_back(static_cast<char>(tag.size()));
  bytes += tag;
  bytes.push_back(static_cast<char>(chain_id.size()));
  bytes += chain_id;
  for (int shift = 56; shift >= 0; shift -= 8) bytes.push_back(static_cast<char>(epoch >> shift));
  bytes += fields;
  return Blake2b256(bytes);
}

TEST(DomainTagTest, TagsAreTheSpecifiedStrings) {
  EXPECT_EQ(DomainTag(Domain::kTransaction), "reel/tx/v1");
  EXPECT_EQ(DomainTag(Domain::kProposal), "reel/proposal/v1");
  EXPECT_EQ(DomainTag(Domain::kVote), "reel/vote/v1");
  EXPECT_EQ(DomainTag(Domain::kTimeout), "reel/timeout/v1");
  EXPECT_EQ(DomainTag(Domain::kEnvelope), "reel/envelope/v1");
  EXPECT_EQ(DomainTag(Domain::kEpochChange), "reel/epoch-change/v1");
}

TEST(SigningDigestTest, MatchesTheLayoutComputedByHand) {
  std::string fields = "some fields \x01\x02";
  for (Domain d : kAllDomains) {
    for (uint64_t epoch : {uint64_t{0}, uint64_t{1}, uint64_t{0x0102030405060708}, ~uint64_t{0}}) {
      for (std::string_view chain : {"c", "reel-main",
                                     "0123456789012345678901234567890123456789"
                                     "012345678901234567890123"}) {
        EXPECT_EQ(SigningDigest(d, chain, epoch, fields),
                  ByHand(DomainTag(d), chain, epoch, fields))
            << DomainTag(d) << " " << chain << " " << epoch;
      }
    }
  }
}

// Known answers computed independently with Python's hashlib.blake2b, so that
// the spec, not just this implementation, is pinned.
TEST(SigningDigestTest, KnownAnswers) {
  std::string vote_fields(32, '\xab');
  AppendU64BE(vote_fields, 3);
  EXPECT_EQ(HashToHex(SigningDigest(Domain::kVote, "reel-testnet", 7, vote_fields)),
            "fe5c9be96ea1ba3e7e37fb22188a77d34a82535d2d01fc8d2fc3e8232588173d");
  EXPECT_EQ(HashToHex(TransactionId("reel-main", "hello body")),
            "b0644fb82a2de270f74bfaa41fbcee0fc110c3c46c84760202bc3e33fef53a05");
  std::string timeout_fields;
  AppendU64BE(timeout_fields, 9);
  AppendU64BE(timeout_fields, 8);
  EXPECT_EQ(HashToHex(SigningDigest(Domain::kTimeout, "c", ~uint64_t{0}, timeout_fields)),
            "c0c710e7084085f7b3c3e0ca9be66f77276bf582bdb2e25075bc24dca48f6967");
  EXPECT_EQ(HashToHex(SigningDigest(Domain::kProposal, std::string(64, 'x'), 1, "")),
            "dbf99a0ccd99a1366e5ade4e8d4ea350b2e23c7b1a1073472f2661eded4f21f7");
  // An epoch-change statement: block_id[32] || u64(height) || next_digest[32].
  std::string epoch_change_fields(32, '\xab');
  AppendU64BE(epoch_change_fields, 17);
  epoch_change_fields.append(32, '\xcd');
  EXPECT_EQ(HashToHex(SigningDigest(Domain::kEpochChange, "reel-testnet", 2, epoch_change_fields)),
            "296e3e3abd36a517226274f5e4d8ba4d8d9de808f755e5cd1ee757ebad9be736");
}

TEST(SigningDigestTest, TransactionIdIsTheTransactionDigestAtEpochZero) {
  EXPECT_EQ(TransactionId("reel-main", "body"),
            SigningDigest(Domain::kTransaction, "reel-main", 0, "body"));
  EXPECT_NE(TransactionId("reel-main", "body"),
            SigningDigest(Domain::kTransaction, "reel-main", 1, "body"));
}

// The length prefixes keep bytes from sliding between chain id and fields.
TEST(SigningDigestTest, LengthPrefixesSeparateChainIdFromFields) {
  EXPECT_NE(SigningDigest(Domain::kVote, "ab", 1, "c"), SigningDigest(Domain::kVote, "a", 1, "bc"));
  EXPECT_NE(TransactionId("reel", "-main"), TransactionId("reel-", "main"));
}

// TESTING.md row 9: a signature made under one domain, chain id or epoch
// fails under every other.
TEST(ReplayTest, SignatureDoesNotTransferAcrossDomainChainOrEpoch) {
  KeyPair kp = KeyPair::Generate();
  const std::string chain = "reel-main";
  const uint64_t epoch = 5;
  std::string fields(32, '\x11');
  AppendU64BE(fields, 42);

  for (Domain signed_as : kAllDomains) {
    Signature sig = kp.SignDigest(SigningDigest(signed_as, chain, epoch, fields));
    ASSERT_TRUE(Verify(kp.public_key(), SigningDigest(signed_as, chain, epoch, fields), sig));
    for (Domain shown_as : kAllDomains) {
      if (shown_as == signed_as) continue;
      EXPECT_FALSE(Verify(kp.public_key(), SigningDigest(shown_as, chain, epoch, fields), sig))
          << DomainTag(signed_as) << " shown as " << DomainTag(shown_as);
    }
    for (std::string_view other_chain : {"reel-main2", "reel-mai", "Reel-main", "reel-test"}) {
      EXPECT_FALSE(
          Verify(kp.public_key(), SigningDigest(signed_as, other_chain, epoch, fields), sig))
          << other_chain;
    }
    for (uint64_t other_epoch : {uint64_t{0}, epoch - 1, epoch + 1, epoch + (uint64_t{1} << 32)}) {
      EXPECT_FALSE(
          Verify(kp.public_key(), SigningDigest(signed_as, chain, other_epoch, fields), sig))
          << other_epoch;
    }
  }
}

TEST(ReplayTest, TransactionFromAnotherChainIsRefused) {
  KeyPair kp = KeyPair::Generate();
  Signature sig = kp.SignDigest(TransactionId("reel-test", "transfer lot L1"));
  EXPECT_FALSE(Verify(kp.public_key(), TransactionId("reel-main", "transfer lot L1"), sig));
}

TEST(ChainIdTest, ValidLengthsAreOneTo64Bytes) {
  EXPECT_FALSE(IsValidChainId(""));
  EXPECT_TRUE(IsValidChainId("a"));
  EXPECT_TRUE(IsValidChainId(std::string(64, 'a')));
  EXPECT_FALSE(IsValidChainId(std::string(65, 'a')));
}

TEST(SigningDigestDeathTest, ChainIdOutOfRangeAsserts) {
  EXPECT_DEATH(SigningDigest(Domain::kVote, "", 0, ""), "REEL_ASSERT");
  EXPECT_DEATH(TransactionId(std::string(65, 'c'), "body"), "REEL_ASSERT");
}

}  // namespace
}  // namespace reel::crypto
