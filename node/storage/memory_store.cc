#include "node/storage/memory_store.h"

#include <map>

#include "base/assert.h"
#include "base/mutex.h"

namespace reel::storage {
namespace {

// std::less<> compares std::string bytewise as unsigned char, like LevelDB's
// default comparator, and allows lookups by string_view without a copy.
using Map = std::map<std::string, std::string, std::less<>>;

// Shared by the store and everything it hands out. Every copy and release of a
// pointer to `current` happens under `mu`, so `current.use_count()` read under `mu`
// is exact: 1 means nobody else can be reading the map, and Write may change it in
// place; more means a snapshot or iterator pins it, and Write must copy first.
struct State {
  Mutex mu;
  std::shared_ptr<Map> current REEL_GUARDED_BY(mu) = std::make_shared<Map>();
  int readers_alive REEL_GUARDED_BY(mu) = 0;  // snapshots and iterators not yet destroyed
};

// A reference to one immutable version of the map, taken and dropped under the
// state's mutex (see State): the current version, or the one `same_as` pins.
class PinnedVersion {
 public:
  explicit PinnedVersion(std::shared_ptr<State> state, const PinnedVersion* same_as = nullptr)
      : state_(std::move(state)) {
    MutexLock lock(&state_->mu);
    map_ = same_as != nullptr ? same_as->map_ : state_->current;
    ++state_->readers_alive;
  }
  ~PinnedVersion() {
    MutexLock lock(&state_->mu);
    map_.reset();
    --state_->readers_alive;
  }
  PinnedVersion(const PinnedVersion&) = delete;
  PinnedVersion& operator=(const PinnedVersion&) = delete;

  const Map& map() const { return *map_; }

 private:
  std::shared_ptr<State> state_;
  std::shared_ptr<const Map> map_;
};

class MemoryIterator final : public Iterator {
 public:
  // Reads the current version, or the one `same_as` pins (a snapshot's).
  explicit MemoryIterator(std::shared_ptr<State> state, const PinnedVersion* same_as = nullptr)
      : version_(std::move(state), same_as), it_(version_.map().end()) {}

  bool Valid() const override { return it_ != version_.map().end(); }
  void SeekToFirst() override { it_ = version_.map().begin(); }
  void SeekToLast() override {
    it_ = version_.map().end();
    if (!version_.map().empty()) --it_;
  }
  void Seek(std::string_view target) override { it_ = version_.map().lower_bound(target); }
  void Next() override {
    REEL_ASSERT(Valid());
    ++it_;
  }
  void Prev() override {
    REEL_ASSERT(Valid());
    // Stepping back from the first key leaves the iterator not Valid(), as LevelDB does.
    it_ = (it_ == version_.map().begin()) ? version_.map().end() : std::prev(it_);
  }
  std::string_view key() const override {
    REEL_ASSERT(Valid());
    return it_->first;
  }
  std::string_view value() const override {
    REEL_ASSERT(Valid());
    return it_->second;
  }
  Status status() const override { return Status::Ok(); }

 private:
  PinnedVersion version_;
  Map::const_iterator it_;
};

class MemorySnapshot final : public Snapshot {
 public:
  explicit MemorySnapshot(std::shared_ptr<State> state)
      : state_(state), version_(std::move(state)) {}

  Result<std::optional<std::string>> Get(std::string_view key) const override {
    auto it = version_.map().find(key);
    if (it == version_.map().end()) return std::optional<std::string>();
    return std::optional<std::string>(it->second);
  }
  std::unique_ptr<Iterator> NewIterator() const override {
    return std::make_unique<MemoryIterator>(state_, &version_);
  }

 private:
  std::shared_ptr<State> state_;
  PinnedVersion version_;
};

class MemoryStore final : public KvStore {
 public:
  MemoryStore() : state_(std::make_shared<State>()) {}
  ~MemoryStore() override {
    MutexLock lock(&state_->mu);
    // Same contract as the LevelDB store, where a leftover reader is a use after free.
    REEL_ASSERT(state_->readers_alive == 0);
  }

  Result<std::optional<std::string>> Get(std::string_view key) const override {
    MutexLock lock(&state_->mu);
    auto it = state_->current->find(key);
    if (it == state_->current->end()) return std::optional<std::string>();
    return std::optional<std::string>(it->second);
  }

  std::unique_ptr<Iterator> NewIterator() const override {
    return std::make_unique<MemoryIterator>(state_);
  }

  std::unique_ptr<Snapshot> GetSnapshot() const override {
    return std::make_unique<MemorySnapshot>(state_);
  }

  Status Write(const WriteBatch& batch, bool /*sync*/) override {
    MutexLock lock(&state_->mu);
    if (state_->current.use_count() > 1) state_->current = std::make_shared<Map>(*state_->current);
    Map& map = *state_->current;
    for (const WriteBatch::Op& op : batch.ops()) {
      if (op.kind == WriteBatch::OpKind::kPut) {
        map.insert_or_assign(op.key, op.value);
      } else {
        map.erase(op.key);
      }
    }
    return Status::Ok();
  }

 private:
  std::shared_ptr<State> state_;
};

}  // namespace

std::unique_ptr<KvStore> NewMemoryStore() {
  return std::make_unique<MemoryStore>();
}

}  // namespace reel::storage
