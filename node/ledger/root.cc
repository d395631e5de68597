#include "node/ledger/root.h"

#include "base/bytes.h"
#include "node/ledger/ledger.h"
#include "node/ledger/state.h"
#include "node/storage/keys.h"

namespace reel::ledger {

Result<crypto::Hash32> FinishBlock(const storage::ReadView& committed, Overlay& block,
                                   uint64_t height, uint64_t time_ms) {
  Result<crypto::Hash32> previous = StateRoot(committed);
  if (!previous.ok()) return previous.status();
  std::string h;
  AppendU64BE(h, height);
  block.Put(layout::MetaKey("height"), h);
  std::string t;
  AppendU64BE(t, time_ms);
  block.Put(layout::MetaKey("time"), t);

  const std::string state_prefix = storage::keys::PrefixKey(storage::keys::Prefix::kState);
  const std::string root_key = layout::MetaKey("root");
  crypto::Blake2b256Hasher writes;
  std::string frame;
  for (const auto& [key, value] : block.writes()) {
    if (!key.starts_with(state_prefix) || key == root_key) continue;
    frame.clear();
    AppendU32BE(frame, static_cast<uint32_t>(key.size()));
    frame.append(key);
    frame.push_back(value.has_value() ? 1 : 0);
    AppendU32BE(frame, static_cast<uint32_t>(value.has_value() ? value->size() : 0));
    writes.Update(frame);
    if (value.has_value()) writes.Update(*value);
  }
  const crypto::Hash32 write_set = writes.Final();

  crypto::Blake2b256Hasher chain;
  chain.Update("reel/state/v1");
  chain.Update(crypto::AsBytes(*previous));
  chain.Update(h);
  chain.Update(crypto::AsBytes(write_set));
  const crypto::Hash32 root = chain.Final();
  block.Put(root_key, crypto::AsBytes(root));
  return root;
}

}  // namespace reel::ledger
