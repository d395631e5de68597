// Boundary checks of query requests, before they reach ledger::Queries: the fields that
// every list and lookup request shares, checked by name over the message's descriptor so
// that a new request type gets them without a new line here.
//
//   - a string field named `*_id` (or a repeated `*_ids`) longer than any id can be
//     (limits::lot_id_bytes_max) is refused: it cannot name anything;
//   - `page_token` longer than limits::api_page_token_bytes_max is refused;
//   - an enum value the node's proto does not name, in any field at any depth, is
//     refused (one rule for every query: proto/README.md, "Unknown enum values").
// page_size is not checked: above the maximum it is clamped by the ledger, not refused
// (proto/README.md, "Paging"). Whether an id names something is the ledger's answer.
//
// Thread safety: pure.
#pragma once

#include <google/protobuf/message.h>

#include "base/status.h"

namespace reel::api {

// InvalidArgument naming the field, or OK.
Status CheckQueryRequest(const google::protobuf::Message& request);

}  // namespace reel::api
