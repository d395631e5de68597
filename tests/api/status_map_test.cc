#include "node/api/status_map.h"

#include <gtest/gtest.h>

#include "tests/test_util.h"

namespace reel::api {
namespace {

TEST(StatusMapTest, EveryCodeMapsToItsGrpcCode) {
  const std::pair<Code, grpc::StatusCode> expected[] = {
      {Code::kOk, grpc::StatusCode::OK},
      {Code::kInvalidArgument, grpc::StatusCode::INVALID_ARGUMENT},
      {Code::kNotFound, grpc::StatusCode::NOT_FOUND},
      {Code::kAlreadyExists, grpc::StatusCode::ALREADY_EXISTS},
      {Code::kPermissionDenied, grpc::StatusCode::PERMISSION_DENIED},
      {Code::kFailedPrecondition, grpc::StatusCode::FAILED_PRECONDITION},
      {Code::kResourceExhausted, grpc::StatusCode::RESOURCE_EXHAUSTED},
      {Code::kUnauthenticated, grpc::StatusCode::UNAUTHENTICATED},
      {Code::kCorruption, grpc::StatusCode::INTERNAL},
      {Code::kIoError, grpc::StatusCode::UNAVAILABLE},
      {Code::kInternal, grpc::StatusCode::INTERNAL},
  };
  for (const auto& [code, grpc_code] : expected) {
    EXPECT_EQ(ToGrpcCode(code), grpc_code) << CodeName(code);
    if (code == Code::kOk) continue;
    EXPECT_EQ(ToGrpcStatus(Status(code, "m")).error_code(), grpc_code) << CodeName(code);
  }
  // The table above covers every Code: kInternal is the last one.
  EXPECT_EQ(static_cast<int>(Code::kInternal) + 1, static_cast<int>(std::size(expected)));
}

TEST(StatusMapTest, KeepsTheMessageForTheCaller) {
  grpc::Status s = ToGrpcStatus(Status::NotFound("lot 'x' does not exist"));
  EXPECT_EQ(s.error_message(), "lot 'x' does not exist");
  EXPECT_OK(ToGrpcStatus(Status::Ok()));
  EXPECT_TRUE(ToGrpcStatus(Status::Ok()).error_message().empty());
}

TEST(StatusMapTest, NodeFailuresSayWhoMustAct) {
  grpc::Status io = ToGrpcStatus(Status::IoError("read /data/000123.ldb"));
  EXPECT_NE(io.error_message().find("read /data/000123.ldb"), std::string::npos);
  EXPECT_NE(io.error_message().find("retry"), std::string::npos);
  grpc::Status corrupt = ToGrpcStatus(Status::Corruption("block 7 is missing"));
  EXPECT_NE(corrupt.error_message().find("block 7 is missing"), std::string::npos);
  EXPECT_NE(corrupt.error_message().find("operator"), std::string::npos);
}

}  // namespace
}  // namespace reel::api
