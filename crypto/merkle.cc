#include "crypto/merkle.h"

#include <bit>
#include <span>

#include "base/assert.h"

namespace reel::crypto {
namespace {

// k in the definition: the largest power of two strictly below n (n >= 2).
size_t SplitPoint(size_t n) {
  REEL_ASSERT(n >= 2);
  return std::bit_floor(n - 1);
}

Hash32 SubtreeRoot(std::span<const Hash32> ids) {
  if (ids.size() == 1) return MerkleLeafHash(ids[0]);
  size_t k = SplitPoint(ids.size());
  return MerkleNodeHash(SubtreeRoot(ids.first(k)), SubtreeRoot(ids.subspan(k)));
}

// RFC 6962 PATH(m, D[n]): the deeper siblings first, the top one last.
void AppendPath(std::span<const Hash32> ids, size_t m, std::vector<Hash32>& path) {
  if (ids.size() == 1) return;
  size_t k = SplitPoint(ids.size());
  if (m < k) {
    AppendPath(ids.first(k), m, path);
    path.push_back(SubtreeRoot(ids.subspan(k)));
  } else {
    AppendPath(ids.subspan(k), m - k, path);
    path.push_back(SubtreeRoot(ids.first(k)));
  }
}

}  // namespace

Hash32 MerkleLeafHash(const Hash32& id) {
  Blake2b256Hasher hasher;
  hasher.Update(std::string_view("\x00", 1));
  hasher.Update(AsBytes(id));
  return hasher.Final();
}

Hash32 MerkleNodeHash(const Hash32& left, const Hash32& right) {
  Blake2b256Hasher hasher;
  hasher.Update(std::string_view("\x01", 1));
  hasher.Update(AsBytes(left));
  hasher.Update(AsBytes(right));
  return hasher.Final();
}

Hash32 MerkleRoot(const std::vector<Hash32>& leaves_ids) {
  if (leaves_ids.empty()) return Blake2b256("");
  return SubtreeRoot(leaves_ids);
}

std::vector<Hash32> MerklePath(const std::vector<Hash32>& ids, size_t index) {
  REEL_ASSERT(index < ids.size());
  std::vector<Hash32> path;
  AppendPath(ids, index, path);
  return path;
}

bool VerifyMerklePath(const Hash32& id, size_t index, size_t tree_size,
                      const std::vector<Hash32>& path, const Hash32& root) {
  if (index >= tree_size) return false;
  // fn walks the leaf's position up the tree, sn the last position at each
  // level; a left child with no right sibling (fn == sn) is promoted unchanged,
  // which is why levels are skipped while fn is even.
  size_t fn = index;
  size_t sn = tree_size - 1;
  Hash32 r = MerkleLeafHash(id);
  for (const Hash32& p : path) {
    if (sn == 0) return false;  // path longer than the tree is tall
    if ((fn & 1) == 1 || fn == sn) {
      r = MerkleNodeHash(p, r);
      while ((fn & 1) == 0 && fn != 0) {
        fn >>= 1;
        sn >>= 1;
      }
    } else {
      r = MerkleNodeHash(r, p);
    }
    fn >>= 1;
    sn >>= 1;
  }
  return sn == 0 && r == root;  // sn != 0: path shorter than the tree is tall
}

}  // namespace reel::crypto
