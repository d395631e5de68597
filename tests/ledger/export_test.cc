// Export: licences, restrictions and clearing, one rule at a time.
#include "tests/ledger/ledger_test_util.h"

namespace reel::ledger::testing {
namespace {

using v1::ELEMENT_DY;
using v1::ELEMENT_ND;
using v1::ELEMENT_PR;

class ExportTest : public ::testing::Test, public CustodyWorld {
 protected:
  void SetUp() override {
    SetupCast();
    // Separated NdPr oxide at the exporter: 2 lots of 100 g.
    Ok(Extract("ORE", "mine-a", 10'000, Comp({{ELEMENT_PR, 300}, {ELEMENT_ND, 700}})));
    Transfer("mineco", "OF-ORE", {"ORE"}, "smelter");
    Ok(Process("smelter", {"ORE"},
               {{"OX-1", v1::PRODUCT_FORM_SEPARATED_OXIDE, 100,
                 Comp({{ELEMENT_PR, 20}, {ELEMENT_ND, 70}})},
                {"OX-2", v1::PRODUCT_FORM_SEPARATED_OXIDE, 100,
                 Comp({{ELEMENT_PR, 20}, {ELEMENT_ND, 70}})},
                {"OX-DY", v1::PRODUCT_FORM_SEPARATED_OXIDE, 100, Comp({{ELEMENT_ND, 10}})}}));
    Transfer("smelter", "OF-OX", {"OX-1", "OX-2"}, "exporter");
  }
  uint64_t Later() { return time_ms() + 86'400'000; }
  v1::TxBody NdApply(const std::string& id, const std::string& end_user = "Acme Motors",
                     int64_t mass = 150) {
    return Apply(id, "DE", end_user, v1::PRODUCT_FORM_SEPARATED_OXIDE, {ELEMENT_ND, ELEMENT_PR},
                 mass);
  }
  v1::RestrictionMatch EndUser(const std::string& name) {
    v1::RestrictionMatch m;
    m.add_end_users(name);
    return m;
  }
};

TEST_F(ExportTest, ApplyDecideClear) {
  Refused(Apply("LIC", "DE", "Acme", v1::PRODUCT_FORM_SEPARATED_OXIDE, {ELEMENT_ND}, 10,
                v1::INDUSTRY_OTHER, "smelter"),
          v1::UNAUTHORIZED_ROLE);
  Refused(Apply("LIC", "ZZ", "Acme", v1::PRODUCT_FORM_SEPARATED_OXIDE, {ELEMENT_ND}, 10),
          v1::INVALID_COUNTRY);
  Refused(Apply("LIC", "DE", "Acme", v1::PRODUCT_FORM_SEPARATED_OXIDE, {}, 10), v1::INVALID_ENUM);
  Refused(
      Apply("LIC", "DE", "Acme", v1::PRODUCT_FORM_SEPARATED_OXIDE, {ELEMENT_ND, ELEMENT_ND}, 10),
      v1::DUPLICATE_ITEM);
  Refused(Apply("LIC", "DE", "Acme", v1::PRODUCT_FORM_SEPARATED_OXIDE, {ELEMENT_ND}, 0),
          v1::INVALID_AMOUNT);
  Refused(Apply("LIC", "DE", "Acme", v1::PRODUCT_FORM_SEPARATED_OXIDE, {ELEMENT_ND}, 10,
                v1::INDUSTRY_UNSPECIFIED),
          v1::INVALID_ENUM);
  Ok(NdApply("LIC"));
  EXPECT_EQ(Licence("LIC").status(), v1::LICENCE_STATUS_PENDING);
  Refused(NdApply("LIC"), v1::LICENCE_EXISTS);
  Refused(Clear("LIC", {"OX-1"}), v1::LICENCE_NOT_GRANTED);
  Refused(Decide("LIC", v1::DECISION_GRANT, time_ms()), v1::INVALID_VALIDITY);
  Refused(Decide("LIC", v1::DECISION_DENY, Later()), v1::INVALID_VALIDITY);
  Refused(Decide("NOPE", v1::DECISION_GRANT, Later()), v1::LICENCE_NOT_FOUND);
  Ok(Decide("LIC", v1::DECISION_GRANT, Later()));
  Refused(Decide("LIC", v1::DECISION_DENY, 0), v1::LICENCE_NOT_PENDING);
  // Clearing: each lot must fit the licence.
  Refused(Clear("LIC", {"OX-DY"}), v1::LOT_NOT_LICENSEE);
  Refused(Clear("LIC", {"NOPE"}), v1::LOT_NOT_FOUND);
  Refused(Clear("LIC", {"OX-1", "OX-2"}), v1::LICENCE_EXCEEDED);
  v1::TxBody by_exporter = Clear("LIC", {"OX-1"});
  by_exporter.set_org_id("exporter");
  Refused(by_exporter, v1::UNAUTHORIZED_ROLE);
  Ok(Clear("LIC", {"OX-1"}));
  EXPECT_EQ(Lot("OX-1").status(), v1::LOT_STATUS_EXPORTED);
  EXPECT_EQ(Lot("OX-1").licence_id(), "LIC");
  EXPECT_EQ(Licence("LIC").exported_mass_g(), 100);
  Refused(Clear("LIC", {"OX-1"}), v1::LOT_NOT_ACTIVE);
}

TEST_F(ExportTest, ClearedLotsMatchProductAndElements) {
  Ok(Apply("LIC-ND", "DE", "Acme", v1::PRODUCT_FORM_SEPARATED_OXIDE, {ELEMENT_ND}, 1000));
  Ok(Apply("LIC-MAG", "DE", "Acme", v1::PRODUCT_FORM_MAGNET, {ELEMENT_ND, ELEMENT_PR}, 1000));
  Ok(Decide("LIC-ND", v1::DECISION_GRANT, Later()));
  Ok(Decide("LIC-MAG", v1::DECISION_GRANT, Later()));
  Refused(Clear("LIC-ND", {"OX-1"}), v1::LOT_ELEMENT_MISMATCH);
  Refused(Clear("LIC-MAG", {"OX-1"}), v1::LOT_PRODUCT_MISMATCH);
}

TEST_F(ExportTest, LicenceExpiresByBlockTime) {
  Ok(NdApply("LIC"));
  Ok(Decide("LIC", v1::DECISION_GRANT, time_ms() + 1500));
  set_time_ms(time_ms() + 1000);  // the next block is at valid_until
  Refused(Clear("LIC", {"OX-1"}), v1::LICENCE_EXPIRED);
}

TEST_F(ExportTest, DenyRestrictionDeniesAtOnceAndBlocksGrantAndClearing) {
  Ok(NdApply("LIC-OLD"));
  Ok(Decide("LIC-OLD", v1::DECISION_GRANT, Later()));
  Ok(NdApply("LIC-PENDING"));
  // Names are compared case-insensitively after trimming.
  Ok(Restrict("R1", EndUser("  ACME motors "), v1::RESTRICTION_EFFECT_DENY));
  Ok(NdApply("LIC-NEW"));
  EXPECT_EQ(Licence("LIC-NEW").status(), v1::LICENCE_STATUS_DENIED);
  EXPECT_EQ(Licence("LIC-NEW").denied_by_restriction_id(), "R1");
  ASSERT_EQ(last().results.at(0).restriction_ids_size(), 1);
  EXPECT_EQ(last().results.at(0).restriction_ids(0), "R1");
  Refused(Decide("LIC-PENDING", v1::DECISION_GRANT, Later()), v1::RESTRICTED_BY_DENY);
  EXPECT_EQ(last().results.at(0).restriction_ids(0), "R1");
  Refused(Clear("LIC-OLD", {"OX-1"}), v1::RESTRICTED_BY_DENY);
  // Another end user is untouched: the scalpel.
  Ok(NdApply("LIC-OTHER", "Wind Co"));
  EXPECT_EQ(Licence("LIC-OTHER").status(), v1::LICENCE_STATUS_PENDING);
  // Lifted: grant and clearing work again.
  v1::TxBody lift = Body("mofcom");
  lift.mutable_lift_export_restriction()->set_restriction_id("R1");
  Ok(lift);
  v1::TxBody again = Body("mofcom");
  again.mutable_lift_export_restriction()->set_restriction_id("R1");
  Refused(again, v1::RESTRICTION_LIFTED);
  v1::TxBody ghost = Body("mofcom");
  ghost.mutable_lift_export_restriction()->set_restriction_id("R9");
  Refused(ghost, v1::RESTRICTION_NOT_FOUND);
  Ok(Clear("LIC-OLD", {"OX-1"}));
}

TEST_F(ExportTest, ReviewRestrictionFlags) {
  v1::RestrictionMatch m;
  m.add_countries("de");
  m.add_elements(ELEMENT_DY);
  Ok(Restrict("R-DY", m, v1::RESTRICTION_EFFECT_REVIEW));
  Ok(NdApply("LIC-ND"));  // names no Dy: unmatched
  EXPECT_EQ(Licence("LIC-ND").status(), v1::LICENCE_STATUS_PENDING);
  Ok(Apply("LIC-DY", "DE", "Acme", v1::PRODUCT_FORM_SEPARATED_OXIDE, {ELEMENT_ND, ELEMENT_DY}, 10));
  EXPECT_EQ(Licence("LIC-DY").status(), v1::LICENCE_STATUS_PENDING_REVIEW);
  EXPECT_EQ(Licence("LIC-DY").review_restriction_ids(0), "R-DY");
  Ok(Decide("LIC-DY", v1::DECISION_GRANT, Later()));  // REVIEW refuses nothing
}

// A DENY and a REVIEW restriction both match: denied at once, and every match cited,
// DENY first, as LicenceVerdict shows them.
TEST_F(ExportTest, DenyAndReviewMatchesAreBothCited) {
  v1::RestrictionMatch m;
  m.add_countries("de");
  m.add_elements(ELEMENT_DY);
  Ok(Restrict("R-REVIEW", m, v1::RESTRICTION_EFFECT_REVIEW));
  Ok(Restrict("R-DENY", m, v1::RESTRICTION_EFFECT_DENY));
  Ok(Apply("LIC-DY", "DE", "Acme", v1::PRODUCT_FORM_SEPARATED_OXIDE, {ELEMENT_ND, ELEMENT_DY}, 10));
  const v1::Licence l = Licence("LIC-DY");
  EXPECT_EQ(l.status(), v1::LICENCE_STATUS_DENIED);
  EXPECT_EQ(l.denied_by_restriction_id(), "R-DENY");
  ASSERT_EQ(l.review_restriction_ids_size(), 1);
  EXPECT_EQ(l.review_restriction_ids(0), "R-REVIEW");
  const v1::TxResult& result = last().results.at(0);
  ASSERT_EQ(result.restriction_ids_size(), 2);
  EXPECT_EQ(result.restriction_ids(0), "R-DENY");
  EXPECT_EQ(result.restriction_ids(1), "R-REVIEW");
}

TEST_F(ExportTest, RevokeOutstandingRevokesOnlyMatchingGrantedWithUnusedMass) {
  Ok(NdApply("LIC-A"));
  Ok(NdApply("LIC-B", "Wind Co"));
  Ok(NdApply("LIC-USED", "Acme Motors", 100));
  for (const char* id : {"LIC-A", "LIC-B", "LIC-USED"}) Ok(Decide(id, v1::DECISION_GRANT, Later()));
  Ok(Clear("LIC-USED", {"OX-2"}));  // exhausted: nothing left to revoke
  EXPECT_EQ(Licence("LIC-USED").status(), v1::LICENCE_STATUS_EXHAUSTED);
  Refused(Restrict("R", EndUser("acme motors"), v1::RESTRICTION_EFFECT_REVIEW, true),
          v1::MALFORMED);
  Ok(Restrict("R", EndUser("acme motors"), v1::RESTRICTION_EFFECT_DENY, true));
  ASSERT_EQ(last().results.at(0).revoked_licence_ids_size(), 1);
  EXPECT_EQ(last().results.at(0).revoked_licence_ids(0), "LIC-A");
  EXPECT_EQ(Licence("LIC-A").status(), v1::LICENCE_STATUS_REVOKED);
  EXPECT_EQ(Licence("LIC-B").status(), v1::LICENCE_STATUS_GRANTED);
  Refused(Clear("LIC-A", {"OX-1"}), v1::LICENCE_REVOKED);
  Refused(Restrict("R", EndUser("x"), v1::RESTRICTION_EFFECT_DENY), v1::RESTRICTION_EXISTS);
}

TEST_F(ExportTest, RestrictionFormAndEffectiveDates) {
  v1::RestrictionMatch bad;
  bad.add_countries("XX");
  Refused(Restrict("R", bad, v1::RESTRICTION_EFFECT_DENY), v1::INVALID_COUNTRY);
  bad.Clear();
  bad.add_end_users("Acme");
  bad.add_end_users(" acme ");
  Refused(Restrict("R", bad, v1::RESTRICTION_EFFECT_DENY), v1::DUPLICATE_ITEM);
  Refused(Restrict("R", EndUser("Acme"), v1::RESTRICTION_EFFECT_UNSPECIFIED), v1::INVALID_ENUM);
  v1::TxBody period = Restrict("R", EndUser("Acme Motors"), v1::RESTRICTION_EFFECT_DENY);
  period.mutable_set_export_restriction()->set_effective_from_ms(time_ms() + 10'000);
  period.mutable_set_export_restriction()->set_effective_until_ms(time_ms() + 5'000);
  Refused(period, v1::INVALID_EFFECTIVE_PERIOD);
  // In force from a later block time only.
  v1::TxBody future = Restrict("R", EndUser("Acme Motors"), v1::RESTRICTION_EFFECT_DENY);
  future.mutable_set_export_restriction()->set_effective_from_ms(time_ms() + 3'500);
  Ok(future);
  Ok(NdApply("LIC-1"));
  EXPECT_EQ(Licence("LIC-1").status(), v1::LICENCE_STATUS_PENDING);
  Ok(NdApply("LIC-2"));
  Ok(NdApply("LIC-3"));
  EXPECT_EQ(Licence("LIC-3").status(), v1::LICENCE_STATUS_DENIED);
}

}  // namespace
}  // namespace reel::ledger::testing
