#include "crypto/merkle.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/crypto/crypto_test_util.h"

namespace reel::crypto {
namespace {

std::vector<Hash32> Ids(size_t n) {
  std::vector<Hash32> ids;
  for (size_t i = 0; i < n; ++i) ids.push_back(Blake2b256(std::string(1, static_cast<char>(i))));
  return ids;
}

std::vector<Hash32> DistinctIds(size_t n) {
  std::vector<Hash32> ids;
  for (size_t i = 0; i < n; ++i) ids.push_back(Blake2b256("tx " + std::to_string(i)));
  return ids;
}

Hash32 Leaf(const Hash32& id) {
  std::string bytes(1, '\x00');
  bytes += AsBytes(id);
  return Blake2b256(bytes);
}

Hash32 Node(const Hash32& l, const Hash32& r) {
  std::string bytes(1, '\x01');
  bytes += AsBytes(l);
  bytes += AsBytes(r);
  return Blake2b256(bytes);
}

// A second construction, bottom-up: pair neighbours level by level and carry
// an unpaired last node up unchanged. For RFC 6962 trees it gives the same
// root as the top-down split the library uses.
Hash32 BottomUpRoot(const std::vector<Hash32>& ids) {
  if (ids.empty()) return Blake2b256("");
  std::vector<Hash32> level;
  for (const Hash32& id : ids) level.push_back(Leaf(id));
  while (level.size() > 1) {
    std::vector<Hash32> next;
    for (size_t i = 0; i + 1 < level.size(); i += 2) next.push_back(Node(level[i], level[i + 1]));
    if (level.size() % 2 == 1) next.push_back(level.back());
    level = std::move(next);
  }
  return level[0];
}

// The side of each sibling in the path of leaf i of n, leaf to root (true:
// the sibling is on the left). A path with the same sides and length
// recomputes the same root, whatever tree size is claimed.
std::vector<bool> Sides(size_t i, size_t n) {
  if (n <= 1) return {};
  size_t k = 1;
  while (k * 2 < n) k *= 2;
  std::vector<bool> sides = i < k ? Sides(i, k) : Sides(i - k, n - k);
  sides.push_back(i >= k);
  return sides;
}

TEST(MerkleTest, KnownStructure) {
  std::vector<Hash32> ids = DistinctIds(3);
  EXPECT_EQ(MerkleRoot({}), Blake2b256(""));
  EXPECT_EQ(MerkleRoot({ids[0]}), Leaf(ids[0]));
  EXPECT_EQ(MerkleRoot({ids[0], ids[1]}), Node(Leaf(ids[0]), Leaf(ids[1])));
  EXPECT_EQ(MerkleRoot(ids), Node(Node(Leaf(ids[0]), Leaf(ids[1])), Leaf(ids[2])));
  EXPECT_EQ(MerkleLeafHash(ids[0]), Leaf(ids[0]));
  EXPECT_EQ(MerkleNodeHash(ids[0], ids[1]), Node(ids[0], ids[1]));
  // Leaves and nodes are domain separated: a node is never taken for a leaf.
  EXPECT_NE(MerkleLeafHash(ids[0]), Blake2b256(AsBytes(ids[0])));
}

// Roots computed with Python's hashlib from proto/README.md's definition, over
// ids[i] = H(byte i).
TEST(MerkleTest, KnownAnswerRoots) {
  const std::vector<std::pair<size_t, std::string>> expected = {
      {0, "0e5751c026e543b2e8ab2eb06099daa1d1e5df47778f7787faab45cdf12fe3a8"},
      {1, "3946e42970577c9173a8f4d152fd19978ce2dd8ebe9ae841b0ce809661d3aa0c"},
      {2, "b8bc17005fd60e103d27fb7b417ed7601d74f2a887800356cb2c986f8bbf9e3b"},
      {3, "e13696916a40519dfef0ed54b55992e01bf1993215ba50ac94c75be929ebbeb8"},
      {4, "c583c5be3d0ba89b471c26635e07671fd9d9f5654c4f56571aa17d65ba4ba221"},
      {5, "dc31f41937b6ebc00567efa88bbecb2f66124988b2643f0eee68098092e7e320"},
      {7, "947ce8abe033ade23df99636881bb7cbb3e15e4a0db15acb36f7f08fcd5c02d7"},
      {8, "fc1e91df617b2bf14a4b88002a2aa89cf92dae9eec2913e867c9cc096b0fa177"},
      {9, "3fec279300ea077c818ce8eda894a2a853ccd426672a80981b2b5228a954f883"},
      {13, "702a516de99b101d11995078993f5b1a118bd7b8955a671fa34755cab965b902"},
      {100, "99f4a7be8c7a95aadc665116afba773d0d6b79d6ed75a45b59e89878fe5f4ef1"},
      {200, "e69ef9184e62606c2c6acf6a0e5ed99cb9d888fad4d3952225a19f3620ec7dcc"},
  };
  std::vector<Hash32> ids = Ids(200);
  for (const auto& [n, hex] : expected) {
    std::vector<Hash32> prefix(ids.begin(), ids.begin() + static_cast<ptrdiff_t>(n));
    EXPECT_EQ(HashToHex(MerkleRoot(prefix)), hex) << "n = " << n;
  }
}

// The path of leaf 2 of 3 is [node(l0, l1)]; of leaf 0 of 3 is [l1, leaf(d2)].
TEST(MerkleTest, KnownPaths) {
  std::vector<Hash32> ids = DistinctIds(3);
  EXPECT_EQ(MerklePath(ids, 2), std::vector<Hash32>{Node(Leaf(ids[0]), Leaf(ids[1]))});
  EXPECT_EQ(MerklePath(ids, 0), (std::vector<Hash32>{Leaf(ids[1]), Leaf(ids[2])}));
  EXPECT_TRUE(MerklePath({ids[0]}, 0).empty());
}

// Indices whose paths are checked in a tree of n: all of them when small,
// else the edges, both sides of the top split, and one that varies with n.
std::vector<size_t> IndicesToCheck(size_t n) {
  if (n <= 40) {
    std::vector<size_t> all(n);
    for (size_t i = 0; i < n; ++i) all[i] = i;
    return all;
  }
  size_t split = 1;
  while (split * 2 < n) split *= 2;
  return {0, 1, split - 1, split, n / 2, n - 2, n - 1, (n * 2654435761u) % n};
}

TEST(MerkleTest, EveryTreeSizeTo1000RootsAndPathsVerify) {
  std::vector<Hash32> all = DistinctIds(1000);
  for (size_t n = 1; n <= 1000; ++n) {
    std::vector<Hash32> ids(all.begin(), all.begin() + static_cast<ptrdiff_t>(n));
    Hash32 root = MerkleRoot(ids);
    ASSERT_EQ(root, BottomUpRoot(ids)) << "n = " << n;
    for (size_t i : IndicesToCheck(n)) {
      std::vector<Hash32> path = MerklePath(ids, i);
      ASSERT_EQ(path.size(), Sides(i, n).size()) << "n = " << n << " i = " << i;
      ASSERT_TRUE(VerifyMerklePath(ids[i], i, n, path, root)) << "n = " << n << " i = " << i;
    }
  }
}

// Every kind of tampering, on every index of every tree up to 40 leaves and
// on sampled indices of larger ones.
TEST(MerkleTest, TamperedProofsFail) {
  std::vector<Hash32> all = DistinctIds(300);
  const Hash32 stranger = Blake2b256("not in the tree");
  size_t wrong_size_passed = 0, wrong_size_checked = 0;
  for (size_t n : {1, 2, 3, 4, 5, 6, 7, 8, 9, 15, 16, 17, 31, 33, 40, 100, 255, 256, 257, 300}) {
    std::vector<Hash32> ids(all.begin(), all.begin() + static_cast<ptrdiff_t>(n));
    Hash32 root = MerkleRoot(ids);
    for (size_t i : IndicesToCheck(n)) {
      const std::vector<Hash32> path = MerklePath(ids, i);
      const std::string where = "n = " + std::to_string(n) + " i = " + std::to_string(i);
      ASSERT_TRUE(VerifyMerklePath(ids[i], i, n, path, root)) << where;

      // A flipped bit in any path element, the id, or the root.
      for (size_t e = 0; e < path.size(); ++e) {
        for (size_t byte : {size_t{0}, size_t{17}, size_t{31}}) {
          std::vector<Hash32> bad = path;
          bad[e][byte] ^= 0x01;
          ASSERT_FALSE(VerifyMerklePath(ids[i], i, n, bad, root)) << where << " e " << e;
        }
      }
      Hash32 bad_id = ids[i];
      bad_id[5] ^= 0x80;
      EXPECT_FALSE(VerifyMerklePath(bad_id, i, n, path, root)) << where;
      EXPECT_FALSE(VerifyMerklePath(stranger, i, n, path, root)) << where;
      Hash32 bad_root = root;
      bad_root[0] ^= 0x01;
      EXPECT_FALSE(VerifyMerklePath(ids[i], i, n, path, bad_root)) << where;

      // Another leaf's id, or this path shown at another index.
      if (n > 1) {
        size_t j = (i + 1) % n;
        EXPECT_FALSE(VerifyMerklePath(ids[j], i, n, path, root)) << where;
        EXPECT_FALSE(VerifyMerklePath(ids[i], j, n, path, root)) << where;
        EXPECT_FALSE(VerifyMerklePath(ids[j], j, n, path, root)) << where;
      }
      EXPECT_FALSE(VerifyMerklePath(ids[i], n, n, path, root)) << where;  // out of range
      EXPECT_FALSE(VerifyMerklePath(ids[i], i + n, n, path, root)) << where;
      EXPECT_FALSE(VerifyMerklePath(ids[i], i, 0, path, root)) << where;

      // Truncated and extended paths.
      if (!path.empty()) {
        std::vector<Hash32> shorter(path.begin(), path.end() - 1);
        EXPECT_FALSE(VerifyMerklePath(ids[i], i, n, shorter, root)) << where;
        std::vector<Hash32> no_first(path.begin() + 1, path.end());
        EXPECT_FALSE(VerifyMerklePath(ids[i], i, n, no_first, root)) << where;
      }
      std::vector<Hash32> longer = path;
      longer.push_back(stranger);
      EXPECT_FALSE(VerifyMerklePath(ids[i], i, n, longer, root)) << where;
      std::vector<Hash32> prefixed = path;
      prefixed.insert(prefixed.begin(), stranger);
      EXPECT_FALSE(VerifyMerklePath(ids[i], i, n, prefixed, root)) << where;

      // A wrong tree size fails unless it puts every sibling on the same side
      // (then the path and root are the same tree's, as RFC 6962 allows: the
      // size must come from a trusted header, see crypto/merkle.h).
      for (size_t m : {n - 1, n + 1, n + 2, 2 * n, n / 2, size_t{1} << 20}) {
        if (m == n || m <= i) continue;
        bool passes = VerifyMerklePath(ids[i], i, m, path, root);
        EXPECT_EQ(passes, Sides(i, m) == Sides(i, n)) << where << " m = " << m;
        ++wrong_size_checked;
        wrong_size_passed += passes ? 1 : 0;
      }
    }
  }
  // The rule above is not vacuous: most wrong sizes fail.
  EXPECT_LT(wrong_size_passed * 2, wrong_size_checked);
}

TEST(MerkleTest, EmptyPathVerifiesOnlyASingleLeafTree) {
  std::vector<Hash32> ids = DistinctIds(2);
  EXPECT_TRUE(VerifyMerklePath(ids[0], 0, 1, {}, MerkleRoot({ids[0]})));
  EXPECT_FALSE(VerifyMerklePath(ids[0], 0, 2, {}, MerkleRoot(ids)));
  EXPECT_FALSE(VerifyMerklePath(ids[0], 0, 2, {}, MerkleRoot({ids[0]})));
}

TEST(MerkleTest, OrderMatters) {
  std::vector<Hash32> ids = DistinctIds(4);
  std::vector<Hash32> swapped = {ids[1], ids[0], ids[2], ids[3]};
  EXPECT_NE(MerkleRoot(ids), MerkleRoot(swapped));
}

TEST(MerkleDeathTest, PathIndexOutOfRangeAsserts) {
  std::vector<Hash32> ids = DistinctIds(3);
  EXPECT_DEATH(MerklePath(ids, 3), "REEL_ASSERT");
  EXPECT_DEATH(MerklePath({}, 0), "REEL_ASSERT");
}

}  // namespace
}  // namespace reel::crypto
