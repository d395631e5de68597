#include "node/storage/kv.h"

namespace reel::storage {

Iterator::~Iterator() = default;
ReadView::~ReadView() = default;

void WriteBatch::Put(std::string_view key, std::string_view value) {
  ops_.push_back(Op{OpKind::kPut, std::string(key), std::string(value)});
  payload_bytes_ += key.size() + value.size();
}

void WriteBatch::Delete(std::string_view key) {
  ops_.push_back(Op{OpKind::kDelete, std::string(key), std::string()});
  payload_bytes_ += key.size();
}

void WriteBatch::Clear() {
  ops_.clear();
  payload_bytes_ = 0;
}

std::string PrefixEnd(std::string_view prefix) {
  std::string end(prefix);
  // Drop trailing 0xff bytes, which have no successor, then bump the last byte.
  while (!end.empty() && static_cast<uint8_t>(end.back()) == 0xff) end.pop_back();
  if (!end.empty()) end.back() = static_cast<char>(static_cast<uint8_t>(end.back()) + 1);
  return end;
}

Status ScanRange(const ReadView& view, std::string_view begin, std::string_view end,
                 const KeyValueVisitor& visit) {
  std::unique_ptr<Iterator> it = view.NewIterator();
  for (it->Seek(begin); it->Valid(); it->Next()) {
    if (!end.empty() && it->key() >= end) break;
    if (!visit(it->key(), it->value())) break;
  }
  return it->status();
}

Status ScanPrefix(const ReadView& view, std::string_view prefix, const KeyValueVisitor& visit) {
  return ScanRange(view, prefix, PrefixEnd(prefix), visit);
}

}  // namespace reel::storage
