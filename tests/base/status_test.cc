#include "base/status.h"

#include <gtest/gtest.h>

#include "tests/test_util.h"

namespace reel {
namespace {

Status FailsWith(Code code) {
  return Status(code, "why");
}

Status Propagates(Code code) {
  REEL_RETURN_IF_ERROR(FailsWith(code));
  return Status::Internal("not reached");
}

TEST(StatusTest, OkIsOkAndPrintsOk) {
  EXPECT_OK(Status::Ok());
  EXPECT_EQ(Status::Ok().ToString(), "OK");
}

TEST(StatusTest, ErrorCarriesCodeAndMessage) {
  Status s = Status::ResourceExhausted("mempool full: 10000 of 10000");
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.code(), Code::kResourceExhausted);
  EXPECT_EQ(s.ToString(), "RESOURCE_EXHAUSTED: mempool full: 10000 of 10000");
}

TEST(StatusTest, ReturnIfErrorStopsAtTheFirstError) {
  EXPECT_EQ(Propagates(Code::kNotFound).code(), Code::kNotFound);
}

TEST(ResultTest, HoldsValueOrStatus) {
  Result<int> good(7);
  ASSERT_OK(good);
  EXPECT_EQ(*good, 7);
  Result<int> bad(Status::NotFound("no lot L1"));
  EXPECT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(), "no lot L1");
}

TEST(AssertDeathTest, AssertAbortsEvenInReleaseBuilds) {
  EXPECT_DEATH(REEL_ASSERT(1 + 1 == 3), "REEL_ASSERT failed");
}

}  // namespace
}  // namespace reel
