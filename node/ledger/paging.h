// Paging for the ledger's list queries: one skeleton that every list shares (private to
// node/ledger; queries.h is the public face).
//
// What it promises
//   - Page::Open reads a request's page fields as proto/README.md "Paging" says:
//     page_size 0 is the default, above the maximum it is clamped; an empty token starts
//     at the beginning; any other token must carry this node's token version and the
//     fingerprint of the request's filters (the request without its page fields), or
//     it is InvalidArgument.
//   - A token is opaque to clients: a version byte, 8 bytes of BLAKE2b of the filters,
//     then a payload that the query defines (for a plain list: the last key read).
//   - A page moves its iterators at most Page::keys_scanned_max() times (ScanBudget),
//     so a selective filter costs bounded work and may return a short page, even an
//     empty one, with a token. Where a key points at a record, the record is read too:
//     one read per move.
//   - ListPage is the whole of a plain list: the keys of one range, in key order, after
//     the cursor; `take` decides which keys are items. A store read error or damage comes
//     back as its Status, never as an exception.
//
// Thread-safety: pure functions over a ReadView; a Page and a ScanBudget are values.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "base/limits.h"
#include "base/status.h"
#include "node/ledger/overlay.h"
#include "node/storage/kv.h"

namespace google::protobuf {
class Message;
}

namespace reel::ledger::paging {

// Keys in [begin, end); an empty end means to the last key.
struct KeyRange {
  std::string begin;
  std::string end;

  // Every key that starts with `prefix`.
  static KeyRange Prefix(std::string prefix);
  bool Contains(std::string_view key) const { return key >= begin && (end.empty() || key < end); }
};

// The iterator moves (Seek or Next, each landing on one key) a page may still make.
class ScanBudget {
 public:
  explicit ScanBudget(size_t keys_max) : left_(keys_max) {}
  // Counts one move.
  void Spend() {
    if (left_ > 0) --left_;
  }
  bool exhausted() const { return left_ == 0; }

 private:
  size_t left_;
};

class Page {
 public:
  // Changes whenever the payload of some query changes meaning, so that a token from
  // another version is refused rather than misread.
  static constexpr char kTokenVersion = 2;
  static constexpr size_t kFingerprintBytes = 8;

  static Result<Page> Open(const google::protobuf::Message& request, uint32_t page_size,
                           const std::string& token, size_t keys_scanned_max);
  template <typename Request>
  static Result<Page> Open(const Request& request, size_t keys_scanned_max) {
    return Open(request, request.page_size(), request.page_token(), keys_scanned_max);
  }

  // Items a page may hold.
  uint32_t size() const { return size_; }
  size_t keys_scanned_max() const { return keys_scanned_max_; }
  // Where the previous page left off, as the query wrote it; empty on the first page.
  const std::string& cursor() const { return cursor_; }
  // The token that continues after `payload`.
  std::string Token(std::string_view payload) const;

 private:
  uint32_t size_ = limits::query_page_size_default;
  size_t keys_scanned_max_ = limits::query_page_keys_scanned_max;
  std::string fingerprint_;
  std::string cursor_;
};

// The smallest key greater than `key`: where a scan continues after it.
std::string After(std::string_view key);

// Length-prefixed fields, for a payload of several parts: u32(size), then the bytes.
void AppendField(std::string& out, std::string_view field);
// Takes the next field off the front of `in`; false if `in` does not start with one.
bool TakeField(std::string_view& in, std::string* field);

// What a key read by ScanKeys gave.
enum class Visit {
  kSkipped,     // nothing for this page (a filter left it out)
  kItem,        // one item of the page
  kEndOfRange,  // the end: the keys from here on are not wanted (a time bound)
};

// Reads the keys of `range` after `after` (empty: from the range's first key), one
// iterator move per key from `budget` (the move that finds the range's end counts too),
// until `room` items or the budget is spent. `visit(key, value)` says what each key
// gave. Returns the last key read when it stopped before the end (`after` itself if it
// could read nothing), nullopt at the end of the range.
template <typename Visitor>
Result<std::optional<std::string>> ScanKeys(const storage::ReadView& view, const KeyRange& range,
                                            std::string_view after, uint32_t room,
                                            ScanBudget& budget, Visitor&& visit) {
  std::unique_ptr<storage::Iterator> it = view.NewIterator();
  std::string last(after);
  uint32_t items = 0;
  for (bool first = true;; first = false) {
    if (items >= room || budget.exhausted()) return std::optional<std::string>(std::move(last));
    budget.Spend();
    if (first) {
      it->Seek(after.empty() ? range.begin : After(after));
    } else {
      it->Next();
    }
    if (!it->Valid() || !range.Contains(it->key())) break;
    last.assign(it->key());
    const Visit v = visit(it->key(), it->value());
    if (v == Visit::kEndOfRange) return std::optional<std::string>();
    if (v == Visit::kItem) ++items;
  }
  if (!it->status().ok()) return it->status();
  return std::optional<std::string>();
}

// Scans one page of a plain list, `range` after the page's cursor (a key), into `out`
// and sets its next_page_token. `take(key, value, out)` adds the key's item to `out`
// and returns true, or returns false when the request's filters leave it out. A cursor
// outside the range is InvalidArgument.
template <typename Response, typename Take>
Status FillPage(const storage::ReadView& view, const KeyRange& range, const Page& page,
                Response* out, Take&& take) {
  if (!page.cursor().empty() && !range.Contains(page.cursor())) {
    return Status::InvalidArgument("page_token is out of range");
  }
  ScanBudget budget(page.keys_scanned_max());
  Result<std::optional<std::string>> stopped = ScanKeys(
      view, range, page.cursor(), page.size(), budget, [&](std::string_view k, std::string_view v) {
        return take(k, v, *out) ? Visit::kItem : Visit::kSkipped;
      });
  if (!stopped.ok()) return stopped.status();
  out->set_next_page_token(stopped->has_value() ? page.Token(**stopped) : std::string());
  return Status::Ok();
}

// Runs a query body, turning a store read error or damage into its Status.
template <typename F>
auto Guarded(F&& body) -> decltype(body()) {
  try {
    return body();
  } catch (const StorageFault& fault) {
    return fault.status;
  }
}

// A whole plain list: opens the request's page and fills a Response from `range`.
// `take(key, value, out)` adds the key's item to `out` and returns true, or returns
// false when the request's filters leave it out.
template <typename Response, typename Request, typename Take>
Result<Response> ListPage(const storage::ReadView& view, const Request& request,
                          const KeyRange& range, size_t keys_scanned_max, Take&& take) {
  return Guarded([&]() -> Result<Response> {
    Result<Page> page = Page::Open(request, keys_scanned_max);
    if (!page.ok()) return page.status();
    Response out;
    REEL_RETURN_IF_ERROR(FillPage(view, range, *page, &out, take));
    return out;
  });
}

}  // namespace reel::ledger::paging
