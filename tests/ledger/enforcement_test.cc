// Enforcement: RecordViolation and Reinstate, one rule at a time.
#include "tests/ledger/ledger_test_util.h"

namespace reel::ledger::testing {
namespace {

class EnforcementTest : public ::testing::Test, public CustodyWorld {
 protected:
  void SetUp() override {
    SetupCast();
    Ok(Extract("L1", "mine-a", 1000, Comp({{v1::ELEMENT_CE, 100}})));
    Ok(Extract("L2", "mine-a", 1000, Comp({{v1::ELEMENT_CE, 100}})));
  }
  v1::TxBody Violation(const std::string& id, int64_t revenue, uint32_t multiplier, int64_t fine) {
    v1::TxBody b = Body("miit");
    v1::RecordViolation* v = b.mutable_record_violation();
    v->set_violation_id(id);
    v->set_org_id("mineco");
    v->set_kind(v1::VIOLATION_KIND_ILLEGAL_MINING);
    v->set_illegal_revenue_fen(revenue);
    v->set_multiplier(multiplier);
    v->set_fine_fen(fine);
    v->set_description("mining outside the licensed area");
    return b;
  }
};

TEST_F(EnforcementTest, PenaltiesMustLieInRange) {
  Refused(Violation("V", 1000, 4, 4000), v1::MULTIPLIER_OUT_OF_RANGE);
  Refused(Violation("V", 1000, 11, 11000), v1::MULTIPLIER_OUT_OF_RANGE);
  Refused(Violation("V", 1000, 5, 5001), v1::FINE_MISMATCH);
  Refused(Violation("V", 0, 5, 100'000'000), v1::MULTIPLIER_OUT_OF_RANGE);
  Refused(Violation("V", 0, 0, 49'999'999), v1::PENALTY_OUT_OF_RANGE);
  Refused(Violation("V", 0, 0, 200'000'001), v1::PENALTY_OUT_OF_RANGE);
  Refused(Violation("V", -1, 5, -5), v1::INVALID_AMOUNT);
  v1::TxBody unknown = Violation("V", 1000, 5, 5000);
  unknown.mutable_record_violation()->set_kind(v1::VIOLATION_KIND_UNSPECIFIED);
  Refused(unknown, v1::INVALID_ENUM);
  v1::TxBody by_miner = Violation("V", 1000, 5, 5000);
  by_miner.set_org_id("mineco");
  Refused(by_miner, v1::UNAUTHORIZED_ROLE);
  Ok(Violation("V", 1000, 5, 5000));
  Ok(Violation("V2", 0, 0, 50'000'000));
  Ok(Violation("V3", 1000, 10, 10000));
  Refused(Violation("V", 1000, 5, 5000), v1::VIOLATION_EXISTS);
}

TEST_F(EnforcementTest, SeizeSuspendCutAndReinstate) {
  v1::TxBody b = Violation("V", 2'000'000, 5, 10'000'000);
  b.mutable_record_violation()->add_seize_lot_ids("L1");
  b.mutable_record_violation()->set_suspend(true);
  b.mutable_record_violation()->set_quota_cut_g(300);
  v1::TxBody not_theirs = b;
  not_theirs.mutable_record_violation()->set_org_id("smelter");
  Refused(not_theirs, v1::LOT_NOT_SEIZABLE);
  v1::TxBody ghost = b;
  ghost.mutable_record_violation()->add_seize_lot_ids("NOPE");
  Refused(ghost, v1::LOT_NOT_FOUND);
  Ok(Quota("mineco", 2026, v1::QUOTA_CATEGORY_MINING_LIGHT, 1000));
  Ok(b);
  EXPECT_EQ(Lot("L1").status(), v1::LOT_STATUS_SEIZED);
  EXPECT_EQ(Lot("L1").violation_id(), "V");
  EXPECT_EQ(OrgRecord("mineco").status(), v1::ORG_STATUS_SUSPENDED);
  EXPECT_EQ(OrgRecord("mineco").suspended_by_violation_id(), "V");
  // Next year's quotas, set before or after, are cut.
  EXPECT_EQ(QuotaRecord("mineco", 2026, v1::QUOTA_CATEGORY_MINING_LIGHT).cut_g(), 300);
  Ok(Quota("mineco", 2026, v1::QUOTA_CATEGORY_MINING_MEDIUM_HEAVY, 1000));
  EXPECT_EQ(QuotaRecord("mineco", 2026, v1::QUOTA_CATEGORY_MINING_MEDIUM_HEAVY).cut_g(), 300);
  EXPECT_EQ(QuotaRecord("mineco", 2025, v1::QUOTA_CATEGORY_MINING_LIGHT).cut_g(), 0);
  // Suspended: signs nothing.
  Refused(Extract("L3", "mine-a", 1000, Comp({{v1::ELEMENT_CE, 100}})), v1::ORG_SUSPENDED);
  // Seized lots cannot be seized again.
  v1::TxBody again = Violation("V2", 0, 0, 60'000'000);
  again.mutable_record_violation()->add_seize_lot_ids("L1");
  Refused(again, v1::LOT_NOT_SEIZABLE);
  v1::TxBody reinstate = Body("miit");
  reinstate.mutable_reinstate()->set_org_id("mineco");
  Ok(reinstate);
  EXPECT_EQ(OrgRecord("mineco").status(), v1::ORG_STATUS_ACTIVE);
  v1::TxBody twice = Body("miit");
  twice.mutable_reinstate()->set_org_id("mineco");
  Refused(twice, v1::ORG_NOT_SUSPENDED);
  // The cut binds next year: 1000 granted - 300 cut.
  set_time_ms(CstMonthStartMs(2026, 3));
  Refused(Extract("L4", "mine-a", 1000, Comp({{v1::ELEMENT_CE, 701}})), v1::QUOTA_EXCEEDED);
  Ok(Extract("L4", "mine-a", 1000, Comp({{v1::ELEMENT_CE, 700}})));
}

TEST_F(EnforcementTest, SeizesLotsInTransit) {
  Ok(Offer("mineco", "OF", {"L2"}, "smelter"));
  v1::TxBody b = Violation("V", 1000, 5, 5000);
  b.mutable_record_violation()->add_seize_lot_ids("L2");
  Ok(b);
  Ok(AcceptOffer("smelter", "OF"));
  EXPECT_EQ(Lot("L2").status(), v1::LOT_STATUS_SEIZED);
  EXPECT_EQ(Lot("L2").holder_org_id(), "mineco");
}

}  // namespace
}  // namespace reel::ledger::testing
