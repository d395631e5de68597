#include "node/replica/serve_fetch.h"

#include "base/limits.h"
#include "node/replica/chain_store.h"
#include "node/replica/internal.h"
#include "node/storage/keys.h"

namespace reel::replica {

namespace keys = storage::keys;

Result<std::optional<uint64_t>> CommittedHeightOf(const storage::ReadView& view,
                                                  const crypto::Hash32& id) {
  Result<std::optional<std::string>> height =
      view.Get(keys::BlockHeightByIdKey(internal::IdBytes(id)));
  if (!height.ok()) return height.status();
  if (!height->has_value()) return std::optional<uint64_t>();
  Result<uint64_t> h = keys::DecodeHeight(**height);
  if (!h.ok()) return h.status();
  return std::optional<uint64_t>(*h);
}

size_t FetchRoomAbove(uint64_t above_height, uint64_t committed_height) {
  const uint64_t committed = committed_height > above_height ? committed_height - above_height : 0;
  return committed >= limits::consensus_fetch_blocks_max
             ? 0
             : limits::consensus_fetch_blocks_max - static_cast<size_t>(committed);
}

std::vector<v1::Block> FetchAnswer(const storage::ReadView& view, const crypto::Hash32& id,
                                   uint64_t above_height, TreeAncestry tree) {
  uint64_t committed_top = tree.committed_height;
  if (!tree.found) {
    tree.blocks.clear();
    Result<std::optional<uint64_t>> height = CommittedHeightOf(view, id);
    if (!height.ok() || !height->has_value()) return {};
    committed_top = **height;
  }
  std::vector<v1::Block> out;
  size_t bytes = 0;
  // Adds `block` unless the answer is full; false once it is.
  auto add = [&](v1::Block block) {
    if (out.size() >= limits::consensus_fetch_blocks_max) return false;
    bytes += block.ByteSizeLong();
    if (bytes > limits::block_bytes_max && !out.empty()) return false;
    out.push_back(std::move(block));
    return true;
  };
  for (uint64_t h = above_height + 1; h <= committed_top; ++h) {
    Result<v1::Block> stored = ReadCommittedBlock(view, h);
    if (!stored.ok() || !add(std::move(stored).value())) return out;
  }
  for (v1::Block& block : tree.blocks) {
    if (!add(std::move(block))) break;
  }
  return out;
}

}  // namespace reel::replica
