#include "node/api/events.h"

#include <algorithm>
#include <string>

#include "base/limits.h"

namespace reel::api {
namespace {

using Strings = google::protobuf::RepeatedPtrField<std::string>;

bool Contains(const Strings& list, const std::string& value) {
  return std::find(list.begin(), list.end(), value) != list.end();
}

// True when `wanted` is empty or shares an element with `have`.
bool AnyOf(const Strings& wanted, const Strings& have) {
  if (wanted.empty()) return true;
  return std::any_of(have.begin(), have.end(),
                     [&](const std::string& s) { return Contains(wanted, s); });
}

Status CheckList(const Strings& list, std::string_view name) {
  if (static_cast<size_t>(list.size()) > limits::api_event_filter_items_max) {
    return Status::InvalidArgument("filter." + std::string(name) + " has " +
                                   std::to_string(list.size()) + " entries; at most " +
                                   std::to_string(limits::api_event_filter_items_max));
  }
  for (const std::string& id : list) {
    if (id.empty() || id.size() > limits::lot_id_bytes_max) {
      return Status::InvalidArgument("filter." + std::string(name) + " holds an id of " +
                                     std::to_string(id.size()) + " bytes; ids are 1 to " +
                                     std::to_string(limits::lot_id_bytes_max) + " bytes");
    }
  }
  return Status::Ok();
}

}  // namespace

Status ValidateEventFilter(const v1::EventFilter& filter) {
  if (static_cast<size_t>(filter.kinds_size()) > limits::api_event_filter_items_max) {
    return Status::InvalidArgument("filter.kinds has " + std::to_string(filter.kinds_size()) +
                                   " entries; at most " +
                                   std::to_string(limits::api_event_filter_items_max));
  }
  REEL_RETURN_IF_ERROR(CheckList(filter.org_ids(), "org_ids"));
  REEL_RETURN_IF_ERROR(CheckList(filter.lot_ids(), "lot_ids"));
  REEL_RETURN_IF_ERROR(CheckList(filter.licence_ids(), "licence_ids"));
  REEL_RETURN_IF_ERROR(CheckList(filter.restriction_ids(), "restriction_ids"));
  return Status::Ok();
}

bool EventMatches(const v1::EventFilter& filter, const v1::Event& event) {
  if (!filter.include_failed() && event.code() != v1::OK) return false;
  if (!filter.kinds().empty() && std::find(filter.kinds().begin(), filter.kinds().end(),
                                           event.kind()) == filter.kinds().end()) {
    return false;
  }
  if (!filter.org_ids().empty() && !Contains(filter.org_ids(), event.signer_org_id()) &&
      !AnyOf(filter.org_ids(), event.org_ids())) {
    return false;
  }
  return AnyOf(filter.lot_ids(), event.lot_ids()) &&
         AnyOf(filter.licence_ids(), event.licence_ids()) &&
         AnyOf(filter.restriction_ids(), event.restriction_ids());
}

}  // namespace reel::api
