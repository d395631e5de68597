// Overlay: uncommitted writes layered over a read view, for execution.
//
// The block executes over one Overlay on the committed view, and each transaction
// over its own Overlay on the block's: a transaction that succeeds is merged into the
// block's layer, one that fails is dropped, so it changes nothing. Reads see the
// newest layer that holds a key (a delete hides the key below).
//
// Keys are ordered bytewise (as the store orders them), and the writes of a layer are
// kept in a std::map, so everything derived from them (the write set, the state
// root) comes out in one order on every node.
//
// Failure: a read error of the view underneath is not a rule failure; it is thrown as
// StorageFault and caught at the component's boundary (BlockExecutor, Queries), which
// returns its Status. Not thread-safe: one executing thread.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "base/status.h"
#include "node/storage/kv.h"

namespace reel::ledger {

// A read of the store failed; carries the store's Status.
struct StorageFault {
  Status status;
};

// Reads a key from a view, throwing StorageFault on a read error.
std::optional<std::string> GetOrThrow(const storage::ReadView& view, std::string_view key);

class Overlay {
 public:
  using Writes = std::map<std::string, std::optional<std::string>, std::less<>>;

  explicit Overlay(const storage::ReadView& base) : base_(&base) {}
  explicit Overlay(Overlay& parent) : base_(parent.base_), parent_(&parent) {}
  Overlay(const Overlay&) = delete;
  Overlay& operator=(const Overlay&) = delete;

  std::optional<std::string> Get(std::string_view key) const;
  void Put(std::string_view key, std::string_view value);
  void Delete(std::string_view key);

  // Visits the live keys that start with `prefix` and are >= `from` (empty: from the
  // prefix's start), in key order, until `visit` returns false.
  using Visitor = std::function<bool(std::string_view key, std::string_view value)>;
  void Scan(std::string_view prefix, std::string_view from, const Visitor& visit) const;

  // Moves this layer's writes into its parent (which must exist) and clears them.
  void MergeIntoParent();
  const Writes& writes() const { return writes_; }

 private:
  const storage::ReadView* base_;
  Overlay* parent_ = nullptr;
  Writes writes_;
  // The root layer remembers what it read from the view: a block's transactions read
  // the same organisations, sites and quotas again and again, and the view (one
  // snapshot) does not change under a block. Writes shadow it like any read below.
  mutable Writes base_reads_;
};

}  // namespace reel::ledger
