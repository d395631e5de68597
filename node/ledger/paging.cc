#include "node/ledger/paging.h"

#include <google/protobuf/message.h>

#include <algorithm>
#include <memory>

#include "base/bytes.h"
#include "crypto/hash.h"

namespace reel::ledger::paging {
namespace {

// The filters of a request, without its page fields (page_size = 1, page_token = 2 in
// every list request): a token only fits the filters it came from.
std::string Fingerprint(const google::protobuf::Message& request) {
  std::unique_ptr<google::protobuf::Message> copy(request.New());
  copy->CopyFrom(request);
  for (int number : {1, 2}) {
    const google::protobuf::FieldDescriptor* f = copy->GetDescriptor()->FindFieldByNumber(number);
    if (f != nullptr) copy->GetReflection()->ClearField(copy.get(), f);
  }
  const crypto::Hash32 h = crypto::Blake2b256(copy->SerializeAsString());
  return std::string(crypto::AsBytes(h).substr(0, Page::kFingerprintBytes));
}

}  // namespace

KeyRange KeyRange::Prefix(std::string prefix) {
  std::string end = storage::PrefixEnd(prefix);
  return KeyRange{std::move(prefix), std::move(end)};
}

Result<Page> Page::Open(const google::protobuf::Message& request, uint32_t page_size,
                        const std::string& token, size_t keys_scanned_max) {
  Page page;
  page.size_ = page_size == 0 ? limits::query_page_size_default
                              : std::min(page_size, limits::query_page_size_max);
  page.keys_scanned_max_ = keys_scanned_max;
  page.fingerprint_ = Fingerprint(request);
  if (token.empty()) return page;
  if (token.size() < 1 + kFingerprintBytes || token[0] != kTokenVersion ||
      token.substr(1, kFingerprintBytes) != page.fingerprint_) {
    return Status::InvalidArgument(
        "page_token does not belong to this request: repeat the same filters, "
        "or start again with an empty token");
  }
  page.cursor_ = token.substr(1 + kFingerprintBytes);
  if (page.cursor_.empty()) return Status::InvalidArgument("page_token is empty inside");
  return page;
}

std::string Page::Token(std::string_view payload) const {
  std::string t(1, kTokenVersion);
  t += fingerprint_;
  t += payload;
  return t;
}

std::string After(std::string_view key) {
  std::string next(key);
  next.push_back('\0');
  return next;
}

void AppendField(std::string& out, std::string_view field) {
  AppendU32BE(out, static_cast<uint32_t>(field.size()));
  out.append(field);
}

bool TakeField(std::string_view& in, std::string* field) {
  if (in.size() < 4) return false;
  const uint32_t size = ReadU32BE(in);
  if (in.size() - 4 < size) return false;
  field->assign(in.substr(4, size));
  in.remove_prefix(4 + size);
  return true;
}

}  // namespace reel::ledger::paging
