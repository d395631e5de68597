#include "node/api/events.h"

#include <gtest/gtest.h>

#include "base/limits.h"
#include "tests/test_util.h"

namespace reel::api {
namespace {

// An offer of two lots from mineco to smelter, as the ledger indexes it.
v1::Event Offer(v1::ErrorCode code = v1::OK) {
  v1::Event e;
  e.set_kind(v1::TX_KIND_TRANSFER_OFFER);
  e.set_code(code);
  e.set_signer_org_id("mineco");
  e.add_org_ids("smelter");
  e.add_lot_ids("lot-1");
  e.add_lot_ids("lot-2");
  e.set_offer_id("offer-1");
  return e;
}

TEST(EventsTest, ListsAreAndedWithEachOtherAndOredWithin) {
  const v1::Event e = Offer();
  v1::EventFilter f;
  EXPECT_TRUE(EventMatches(f, e));
  f.add_lot_ids("lot-9");
  EXPECT_FALSE(EventMatches(f, e));
  f.add_lot_ids("lot-2");
  EXPECT_TRUE(EventMatches(f, e));
  f.add_org_ids("smelter");  // the recipient counts
  EXPECT_TRUE(EventMatches(f, e));
  f.set_org_ids(0, "mineco");  // so does the signer
  EXPECT_TRUE(EventMatches(f, e));
  f.set_org_ids(0, "gacc");
  EXPECT_FALSE(EventMatches(f, e));
  f.clear_org_ids();
  f.add_kinds(v1::TX_KIND_EXTRACT);
  EXPECT_FALSE(EventMatches(f, e));
  f.add_kinds(v1::TX_KIND_TRANSFER_OFFER);
  EXPECT_TRUE(EventMatches(f, e));
}

TEST(EventsTest, FailedTransactionsOnlyWhenAskedFor) {
  const v1::Event failed = Offer(v1::NOT_HOLDER);
  v1::EventFilter f;
  EXPECT_FALSE(EventMatches(f, failed));
  f.set_include_failed(true);
  EXPECT_TRUE(EventMatches(f, failed));
}

TEST(EventsTest, FilterIsBounded) {
  v1::EventFilter f;
  for (size_t i = 0; i < limits::api_event_filter_items_max; ++i) f.add_org_ids("o");
  EXPECT_OK(ValidateEventFilter(f));
  f.add_org_ids("o");
  EXPECT_EQ(ValidateEventFilter(f).code(), Code::kInvalidArgument);
  v1::EventFilter long_id;
  long_id.add_lot_ids(std::string(limits::lot_id_bytes_max + 1, 'x'));
  EXPECT_EQ(ValidateEventFilter(long_id).code(), Code::kInvalidArgument);
}

}  // namespace
}  // namespace reel::api
