// Helpers every REEL test may use: OK assertions and a temporary directory
// that removes itself.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <string>

#include "base/status.h"

#define ASSERT_OK(expr)                                                  \
  do {                                                                   \
    const ::reel::Status reel_test_status_ = (expr);                     \
    ASSERT_TRUE(reel_test_status_.ok()) << reel_test_status_.ToString(); \
  } while (0)

#define EXPECT_OK(expr)                                                  \
  do {                                                                   \
    const ::reel::Status reel_test_status_ = (expr);                     \
    EXPECT_TRUE(reel_test_status_.ok()) << reel_test_status_.ToString(); \
  } while (0)

namespace reel::testing {

// A fresh directory from mkdtemp under $TMPDIR (or /tmp), removed with its
// contents on destruction.
class TempDir {
 public:
  explicit TempDir(const std::string& tag = "test") {
    const char* base = getenv("TMPDIR");
    std::string pattern = std::string(base != nullptr && *base != '\0' ? base : "/tmp") +
                          "/reel-" + tag + "-XXXXXX";
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
