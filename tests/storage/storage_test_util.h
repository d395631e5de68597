// Helpers shared by the storage tests: the project-wide ones, under the name the
// storage tests use.
#pragma once

#include "tests/test_util.h"

namespace reel::storage::testing {
using ::reel::testing::TempDir;
}  // namespace reel::storage::testing
