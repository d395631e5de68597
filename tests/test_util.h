// Helpers every REEL test may use: OK assertions and a temporary directory
// that removes itself.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <string>

#include "base/status.h"

// ASSERT_OK / EXPECT_OK: the expression (a Status, a Result<T> or a grpc::Status) is
// OK; on failure the message shows what it holds.
#define ASSERT_OK(expr) ASSERT_TRUE(::reel::testing::IsOk(expr))
#define EXPECT_OK(expr) EXPECT_TRUE(::reel::testing::IsOk(expr))

namespace reel::testing {

template <typename T>
::testing::AssertionResult IsOk(const T& value) {
  if (value.ok()) return ::testing::AssertionSuccess();
  if constexpr (requires { value.status().ToString(); }) {
    return ::testing::AssertionFailure() << value.status().ToString();
  } else if constexpr (requires { value.ToString(); }) {
    return ::testing::AssertionFailure() << value.ToString();
  } else if constexpr (requires { value.error_message(); }) {
    return ::testing::AssertionFailure()
           << "gRPC code " << static_cast<int>(value.error_code()) << ": " << value.error_message();
  } else {
    return ::testing::AssertionFailure() << "not OK";
  }
}

}  // namespace reel::testing

namespace reel::testing {

// A fresh directory from mkdtemp under $TMPDIR (or /tmp), removed with its
// contents on destruction.
class TempDir {
 public:
  explicit TempDir(const std::string& tag = "test") {
    const char* base = getenv("TMPDIR");
    std::string pattern =
        std::string(base != nullptr && *base != '\0' ? base : "/tmp") + "/reel-" + tag + "-XXXXXX";
    char* made = mkdtemp(pattern.data());
    if (made == nullptr) ADD_FAILURE() << "mkdtemp " << pattern << " failed";
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  std::string Sub(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

}  // namespace reel::testing
