#include "node/api/request_checks.h"

#include <gtest/gtest.h>

#include "base/limits.h"
#include "reel/v1/api.pb.h"
#include "tests/test_util.h"

namespace reel::api {
namespace {

TEST(RequestChecksTest, IdsLongerThanAnyIdAreRefused) {
  v1::GetLotRequest lot;
  lot.set_lot_id(std::string(limits::lot_id_bytes_max, 'l'));
  EXPECT_OK(CheckQueryRequest(lot));
  lot.set_lot_id(std::string(limits::lot_id_bytes_max + 1, 'l'));
  Status s = CheckQueryRequest(lot);
  EXPECT_EQ(s.code(), Code::kInvalidArgument);
  EXPECT_NE(s.message().find("lot_id"), std::string::npos) << s.message();

  v1::ListTransferOffersRequest offers;
  offers.set_to_org_id(std::string(1000, 'o'));
  EXPECT_EQ(CheckQueryRequest(offers).code(), Code::kInvalidArgument);
}

TEST(RequestChecksTest, PageTokensAreBoundedAndPageSizeIsNot) {
  v1::ListOrgsRequest orgs;
  orgs.set_page_size(1'000'000);  // clamped by the ledger, not refused
  orgs.set_page_token(std::string(limits::api_page_token_bytes_max, 't'));
  EXPECT_OK(CheckQueryRequest(orgs));
  orgs.set_page_token(std::string(limits::api_page_token_bytes_max + 1, 't'));
  Status s = CheckQueryRequest(orgs);
  EXPECT_EQ(s.code(), Code::kInvalidArgument);
  EXPECT_NE(s.message().find("page_token"), std::string::npos);
}

}  // namespace
}  // namespace reel::api
