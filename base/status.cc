#include "base/status.h"

#include <cstdio>
#include <cstdlib>

namespace reel {

std::string_view CodeName(Code code) {
  switch (code) {
    case Code::kOk:
      return "OK";
    case Code::kInvalidArgument:
      return "INVALID_ARGUMENT";
    case Code::kNotFound:
      return "NOT_FOUND";
    case Code::kAlreadyExists:
      return "ALREADY_EXISTS";
    case Code::kPermissionDenied:
      return "PERMISSION_DENIED";
    case Code::kFailedPrecondition:
      return "FAILED_PRECONDITION";
    case Code::kResourceExhausted:
      return "RESOURCE_EXHAUSTED";
    case Code::kUnauthenticated:
      return "UNAUTHENTICATED";
    case Code::kCorruption:
      return "CORRUPTION";
    case Code::kIoError:
      return "IO_ERROR";
    case Code::kInternal:
      return "INTERNAL";
  }
  return "UNKNOWN";
}

std::string Status::ToString() const {
  if (ok()) return "OK";
  std::string out(CodeName(code_));
  out += ": ";
  out += message_;
  return out;
}

namespace internal {
void AssertFailed(const char* expr, const char* file, int line) {
  std::fprintf(stderr, "REEL_ASSERT failed: %s at %s:%d\n", expr, file, line);
  std::fflush(stderr);
  std::abort();
}
}  // namespace internal

}  // namespace reel
