// The one place where a REEL Status becomes a gRPC status.
//
// base/status.h's codes mirror gRPC's, so the mapping is one to one for the codes a
// caller can act on. Local storage failures are the node's problem, not the caller's:
// kIoError becomes UNAVAILABLE (retry, or ask another node) and kCorruption and
// kInternal become INTERNAL (the operator must look at the node). The message is kept,
// so that a person can act on it; for the node's own failures it says so.
//
// Thread safety: pure functions.
#pragma once

#include <grpcpp/support/status.h>

#include <string_view>

#include "base/status.h"

namespace reel::api {

grpc::StatusCode ToGrpcCode(Code code);

// `status` as a gRPC status with the same message (OK for OK).
grpc::Status ToGrpcStatus(const Status& status);

// A gRPC status that refuses a request at the boundary.
grpc::Status InvalidArgument(std::string_view message);

}  // namespace reel::api
