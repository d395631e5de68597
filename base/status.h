// Status and Result: how REEL components report expected failures.
//
// Expected failures (bad input, missing record, full queue, I/O error) are
// returned as values, never thrown across a component boundary. An OK status
// carries no allocation. Invariants are checked with REEL_ASSERT (base/assert.h),
// which stays on in release builds.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

#include "base/assert.h"

namespace reel {

// Codes mirror the gRPC codes that the API maps them to, so a handler can map
// one to one; kCorruption and kIoError are local-storage failures.
enum class Code : uint8_t {
  kOk = 0,
  kInvalidArgument,
  kNotFound,
  kAlreadyExists,
  kPermissionDenied,
  kFailedPrecondition,
  kResourceExhausted,
  kUnauthenticated,
  kCorruption,
  kIoError,
  kInternal,
};

std::string_view CodeName(Code code);

// [[nodiscard]]: an expected failure is handled or explicitly dropped with (void) and a
// comment saying why, never forgotten (tests/build.sh builds with -Werror).
class [[nodiscard]] Status {
 public:
  Status() = default;  // OK
  Status(Code code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return Status(); }
  static Status InvalidArgument(std::string m) { return {Code::kInvalidArgument, std::move(m)}; }
  static Status NotFound(std::string m) { return {Code::kNotFound, std::move(m)}; }
  static Status AlreadyExists(std::string m) { return {Code::kAlreadyExists, std::move(m)}; }
  static Status PermissionDenied(std::string m) { return {Code::kPermissionDenied, std::move(m)}; }
  static Status FailedPrecondition(std::string m) {
    return {Code::kFailedPrecondition, std::move(m)};
  }
  static Status ResourceExhausted(std::string m) {
    return {Code::kResourceExhausted, std::move(m)};
  }
  static Status Unauthenticated(std::string m) { return {Code::kUnauthenticated, std::move(m)}; }
  static Status Corruption(std::string m) { return {Code::kCorruption, std::move(m)}; }
  static Status IoError(std::string m) { return {Code::kIoError, std::move(m)}; }
  static Status Internal(std::string m) { return {Code::kInternal, std::move(m)}; }

  // A code of the layer that refused, carried as a value for callers that map it (the
  // ledger puts its v1::ErrorCode on a transaction's refusal: ledger::ErrorCodeOf).
  // 0: none. The message says it too, for people; nobody parses it back.
  Status WithDetail(int32_t detail) && {
    detail_ = detail;
    return std::move(*this);
  }
  int32_t detail() const { return detail_; }

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }
  // "INVALID_ARGUMENT: message", or "OK".
  std::string ToString() const;

 private:
  Code code_ = Code::kOk;
  std::string message_;
  int32_t detail_ = 0;
};

// A value or the Status that explains why there is none.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}         // NOLINT(google-explicit-constructor)
  Result(Status status) : status_(std::move(status)) {  // NOLINT(google-explicit-constructor)
    REEL_ASSERT(!status_.ok());
  }

  bool ok() const { return value_.has_value(); }
  const Status& status() const { return status_; }
  T& value() & {
    REEL_ASSERT(ok());
    return *value_;
  }
  const T& value() const& {
    REEL_ASSERT(ok());
    return *value_;
  }
  T&& value() && {
    REEL_ASSERT(ok());
    return std::move(*value_);
  }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::optional<T> value_;
  Status status_;
};

}  // namespace reel

// Returns early from the enclosing function when `expr` is not OK.
#define REEL_RETURN_IF_ERROR(expr)               \
  do {                                           \
    ::reel::Status reel_status_ = (expr);        \
    if (!reel_status_.ok()) return reel_status_; \
  } while (0)
