#include "node/storage/keys.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <limits>
#include <random>
#include <set>

#include "tests/test_util.h"

namespace reel::storage::keys {
namespace {

uint64_t SeedFromEnv() {
  const char* env = getenv("REEL_SEED");
  if (env != nullptr && *env != '\0') return std::strtoull(env, nullptr, 10);
  return std::random_device{}();
}

int Sign(int v) {
  return (v > 0) - (v < 0);
}

// Property: for any two heights, the encodings (and the block keys) compare as the
// heights do, and decode back to them. Random pairs plus the edges where a byte
// carries over.
TEST(StorageKeysTest, HeightEncodingKeepsNumericOrder) {
  const uint64_t seed = SeedFromEnv();
  std::cout << "seed=" << seed << " (set REEL_SEED to replay)\n";
  std::mt19937_64 rng(seed);
  std::vector<uint64_t> heights = {0,
                                   1,
                                   255,
                                   256,
                                   65535,
                                   65536,
                                   (1ull << 32) - 1,
                                   1ull << 32,
                                   (1ull << 63) - 1,
                                   1ull << 63,
                                   std::numeric_limits<uint64_t>::max()};
  for (int i = 0; i < 2000; ++i) {
    heights.push_back(rng());
    heights.push_back(rng() >> (rng() % 64));  // small values too, not only huge ones
  }
  for (size_t i = 0; i < heights.size(); ++i) {
    for (size_t j : {i, (i + 1) % heights.size(), static_cast<size_t>(rng() % heights.size())}) {
      const uint64_t a = heights[i];
      const uint64_t b = heights[j];
      const int want = (a > b) - (a < b);
      ASSERT_EQ(Sign(EncodeHeight(a).compare(EncodeHeight(b))), want) << a << " vs " << b;
      ASSERT_EQ(Sign(BlockKey(a).compare(BlockKey(b))), want) << a << " vs " << b;
    }
    Result<uint64_t> decoded = DecodeHeight(EncodeHeight(heights[i]));
    ASSERT_OK(decoded);
    ASSERT_EQ(*decoded, heights[i]);
    Result<uint64_t> from_key = HeightFromBlockKey(BlockKey(heights[i]));
    ASSERT_OK(from_key);
    ASSERT_EQ(*from_key, heights[i]);
  }
}

TEST(StorageKeysTest, MalformedStoredHeightsAreCorruption) {
  EXPECT_EQ(DecodeHeight("").status().code(), Code::kCorruption);
  EXPECT_EQ(DecodeHeight("1234567").status().code(), Code::kCorruption);
  EXPECT_EQ(DecodeHeight("123456789").status().code(), Code::kCorruption);
  EXPECT_EQ(HeightFromBlockKey(TxKey(std::string(kIdBytes, 'x'))).status().code(),
            Code::kCorruption);
  EXPECT_EQ(HeightFromBlockKey("").status().code(), Code::kCorruption);
}

TEST(StorageKeysTest, EveryKeyStartsWithItsOwnPrefix) {
  const std::string id(kIdBytes, '\x07');
  auto prefix_of = [](const std::string& key) { return static_cast<Prefix>(key.at(0)); };
  EXPECT_EQ(prefix_of(CommitHeightKey()), Prefix::kMeta);
  EXPECT_EQ(prefix_of(ChainIdKey()), Prefix::kMeta);
  EXPECT_EQ(prefix_of(SchemaVersionKey()), Prefix::kMeta);
  EXPECT_EQ(prefix_of(BlockKey(7)), Prefix::kBlockByHeight);
  EXPECT_EQ(prefix_of(BlockHeightByIdKey(id)), Prefix::kBlockHeightById);
  EXPECT_EQ(prefix_of(TxKey(id)), Prefix::kTxById);
  EXPECT_EQ(prefix_of(StateKey("lot/1")), Prefix::kState);
  EXPECT_EQ(prefix_of(IndexKey("by-org/1")), Prefix::kIndex);
  EXPECT_EQ(prefix_of(SafetyStateKey()), Prefix::kConsensus);
  EXPECT_EQ(BlockKey(7).size(), 1 + kHeightBytes);
  EXPECT_EQ(TxKey(id).size(), 1 + kIdBytes);
  EXPECT_EQ(PrefixKey(Prefix::kState), std::string(1, '\x05'));

  std::set<std::string> meta = {CommitHeightKey(), ChainIdKey(), SchemaVersionKey()};
  EXPECT_EQ(meta.size(), 3u);
}

TEST(StorageKeysDeathTest, AnIdOfTheWrongLengthIsABug) {
  EXPECT_DEATH(TxKey("short"), "tx_id.size");
  EXPECT_DEATH(BlockHeightByIdKey(std::string(33, 'x')), "block_id.size");
}

}  // namespace
}  // namespace reel::storage::keys
