#include "node/api/status_map.h"

#include <string>

namespace reel::api {

grpc::StatusCode ToGrpcCode(Code code) {
  switch (code) {
    case Code::kOk:
      return grpc::StatusCode::OK;
    case Code::kInvalidArgument:
      return grpc::StatusCode::INVALID_ARGUMENT;
    case Code::kNotFound:
      return grpc::StatusCode::NOT_FOUND;
    case Code::kAlreadyExists:
      return grpc::StatusCode::ALREADY_EXISTS;
    case Code::kPermissionDenied:
      return grpc::StatusCode::PERMISSION_DENIED;
    case Code::kFailedPrecondition:
      return grpc::StatusCode::FAILED_PRECONDITION;
    case Code::kResourceExhausted:
      return grpc::StatusCode::RESOURCE_EXHAUSTED;
    case Code::kUnauthenticated:
      return grpc::StatusCode::UNAUTHENTICATED;
    // A read that failed may succeed later, or on another node.
    case Code::kIoError:
      return grpc::StatusCode::UNAVAILABLE;
    case Code::kCorruption:
      return grpc::StatusCode::INTERNAL;
    case Code::kInternal:
      return grpc::StatusCode::INTERNAL;
  }
  return grpc::StatusCode::INTERNAL;  // a Code added without a mapping
}

grpc::Status ToGrpcStatus(const Status& status) {
  if (status.ok()) return grpc::Status::OK;
  std::string message = status.message();
  switch (status.code()) {
    case Code::kIoError:
      message = "the node could not read its store (" + message + "); retry, or ask another node";
      break;
    case Code::kCorruption:
    case Code::kInternal:
      message = "the node failed (" + message + "); its operator should check its logs and store";
      break;
    default:
      break;
  }
  return grpc::Status(ToGrpcCode(status.code()), message);
}

grpc::Status InvalidArgument(std::string_view message) {
  return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, std::string(message));
}

}  // namespace reel::api
