// Events: which of the events the ledger indexes for every committed transaction
// (docs/LEDGER.md, 'E': kind, signer, and the organisations, lots, licences,
// restrictions, offer, violation and site it touched) a StreamEvents filter selects.
//
// Thread safety: pure functions.
#pragma once

#include "base/status.h"
#include "reel/v1/api.pb.h"

namespace reel::api {

namespace v1 = ::reel::v1;

// InvalidArgument for a list beyond limits::api_event_filter_items_max or an id longer
// than any id can be.
Status ValidateEventFilter(const v1::EventFilter& filter);

// Empty lists match all; lists are ANDed with each other and ORed within (api.proto).
bool EventMatches(const v1::EventFilter& filter, const v1::Event& event);

}  // namespace reel::api
