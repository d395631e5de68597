#include "node/ledger/overlay.h"

#include <memory>
#include <vector>

#include "base/assert.h"

namespace reel::ledger {

std::optional<std::string> GetOrThrow(const storage::ReadView& view, std::string_view key) {
  Result<std::optional<std::string>> got = view.Get(key);
  if (!got.ok()) throw StorageFault{got.status()};
  return std::move(got).value();
}

std::optional<std::string> Overlay::Get(std::string_view key) const {
  const Overlay* root = this;
  for (const Overlay* layer = this; layer != nullptr; layer = layer->parent_) {
    auto it = layer->writes_.find(key);
    if (it != layer->writes_.end()) return it->second;
    root = layer;
  }
  auto known = root->base_reads_.find(key);
  if (known != root->base_reads_.end()) return known->second;
  std::optional<std::string> value = GetOrThrow(*base_, key);
  root->base_reads_.emplace(std::string(key), value);
  return value;
}

void Overlay::Put(std::string_view key, std::string_view value) {
  writes_.insert_or_assign(std::string(key), std::optional<std::string>(std::string(value)));
}

void Overlay::Delete(std::string_view key) {
  writes_.insert_or_assign(std::string(key), std::nullopt);
}

void Overlay::MergeIntoParent() {
  REEL_ASSERT(parent_ != nullptr);
  for (auto& [key, value] : writes_) parent_->writes_.insert_or_assign(key, std::move(value));
  writes_.clear();
}

namespace {

// One source of a merged scan: a layer's map range, or the base view's iterator.
struct Source {
  const Overlay::Writes* map = nullptr;
  Overlay::Writes::const_iterator it;
  std::unique_ptr<storage::Iterator> base;
  std::string_view prefix;

  bool Valid() const {
    if (map != nullptr) return it != map->end() && it->first.starts_with(prefix);
    return base->Valid() && base->key().starts_with(prefix);
  }
  std::string_view Key() const {
    return map != nullptr ? std::string_view(it->first) : base->key();
  }
  void Next() {
    if (map != nullptr) {
      ++it;
    } else {
      base->Next();
    }
  }
};

}  // namespace

void Overlay::Scan(std::string_view prefix, std::string_view from, const Visitor& visit) const {
  std::string start = std::string(from.empty() || from < prefix ? prefix : from);
  // sources[0] is the newest layer; the base view is last.
  std::vector<Source> sources;
  for (const Overlay* layer = this; layer != nullptr; layer = layer->parent_) {
    Source s;
    s.map = &layer->writes_;
    s.it = layer->writes_.lower_bound(start);
    s.prefix = prefix;
    sources.push_back(std::move(s));
  }
  Source base;
  base.base = base_->NewIterator();
  base.base->Seek(start);
  base.prefix = prefix;
  sources.push_back(std::move(base));

  while (true) {
    const Source* least = nullptr;
    for (const Source& s : sources) {
      if (s.Valid() && (least == nullptr || s.Key() < least->Key())) least = &s;
    }
    if (least == nullptr) break;
    std::string key(least->Key());
    // The newest source holding the key decides it: the first in `sources` order.
    std::optional<std::string> value;
    bool decided = false;
    for (Source& s : sources) {
      if (!s.Valid() || s.Key() != key) continue;
      if (!decided) {
        decided = true;
        if (s.map != nullptr) {
          value = s.it->second;
        } else {
          value = std::string(s.base->value());
        }
      }
      s.Next();
    }
    if (value.has_value() && !visit(key, *value)) return;
  }
  Status status = sources.back().base->status();
  if (!status.ok()) throw StorageFault{status};
}

}  // namespace reel::ledger
