// Custody: Extract, Import, Process, Split, Merge and transfers, one rule at a time.
#include "tests/ledger/ledger_test_util.h"

namespace reel::ledger::testing {
namespace {

using v1::ELEMENT_CE;
using v1::ELEMENT_DY;
using v1::ELEMENT_ND;
using v1::ELEMENT_PR;

class CustodyTest : public ::testing::Test, public CustodyWorld {
 protected:
  void SetUp() override { SetupCast(); }

  // 10 kg of rock ore with 1 kg REO at mine-a, moved to the smelter.
  void OreAtSmelter(const std::string& lot = "ORE-1") {
    Ok(Extract(lot, "mine-a", 10'000,
               Comp({{ELEMENT_CE, 500}, {ELEMENT_PR, 100}, {ELEMENT_ND, 400}})));
    Transfer("mineco", "OF-" + lot, {lot}, "smelter");
  }
  v1::TxBody Separate(const std::string& in = "ORE-1") {
    return Process("smelter", {in},
                   {{"ND-1", v1::PRODUCT_FORM_SEPARATED_OXIDE, 450,
                     Comp({{ELEMENT_PR, 90}, {ELEMENT_ND, 350}})},
                    {"CE-1", v1::PRODUCT_FORM_SEPARATED_OXIDE, 500, Comp({{ELEMENT_CE, 480}})}},
                   "plant-s");
  }
};

TEST_F(CustodyTest, ExtractChargesTheMiningQuotaOfTheDepositType) {
  Ok(Extract("L1", "mine-b", 5000, Comp({{ELEMENT_ND, 70}, {ELEMENT_DY, 30}})));
  v1::Lot lot = Lot("L1");
  EXPECT_EQ(lot.reo_g(), 100);
  EXPECT_EQ(lot.holder_org_id(), "mineco");
  EXPECT_EQ(lot.status(), v1::LOT_STATUS_ACTIVE);
  EXPECT_EQ(last().results.at(0).quota_category(), v1::QUOTA_CATEGORY_MINING_MEDIUM_HEAVY);
  EXPECT_EQ(QuotaRecord("mineco", 2025, v1::QUOTA_CATEGORY_MINING_MEDIUM_HEAVY).used_g(), 100);
  EXPECT_EQ(QuotaRecord("mineco", 2025, v1::QUOTA_CATEGORY_MINING_LIGHT).used_g(), 0);
}

TEST_F(CustodyTest, ExtractRefusals) {
  const v1::Composition c = Comp({{ELEMENT_CE, 10}});
  Refused(Extract("L1", "mine-a", 100, c, v1::PRODUCT_FORM_ORE, "smelter"), v1::UNAUTHORIZED_ROLE);
  Refused(Extract("L1", "nowhere", 100, c), v1::SITE_NOT_FOUND);
  Refused(Extract("L1", "plant-s", 100, c), v1::NOT_OWN_SITE);
  Ok(Site("plant-mc", "mineco", v1::SITE_KIND_PLANT, v1::DEPOSIT_TYPE_UNSPECIFIED));
  Refused(Extract("L1", "plant-mc", 100, c), v1::SITE_NOT_MINE);
  Refused(Extract("L1", "mine-a", 100, c, v1::PRODUCT_FORM_SEPARATED_OXIDE),
          v1::PRODUCT_NOT_ALLOWED);
  Refused(Extract("L1", "mine-a", 100, c, v1::PRODUCT_FORM_UNSPECIFIED), v1::INVALID_ENUM);
  Refused(Extract("L1", "mine-a", 0, c), v1::INVALID_AMOUNT);
  Refused(Extract("L1", "mine-a", 100, Comp({{ELEMENT_ND, 10}, {ELEMENT_CE, 10}})),
          v1::INVALID_COMPOSITION);
  Refused(Extract("L1", "mine-a", 100, Comp({{ELEMENT_CE, 0}})), v1::INVALID_COMPOSITION);
  Refused(Extract("L1", "mine-a", 100, Comp({{ELEMENT_CE, 10}, {ELEMENT_CE, 10}})),
          v1::INVALID_COMPOSITION);
  Refused(Extract("L1", "mine-a", 100, Comp({{v1::ELEMENT_UNSPECIFIED, 10}})),
          v1::INVALID_COMPOSITION);
  Refused(Extract("L1", "mine-a", 100, Comp({{ELEMENT_CE, 101}})), v1::REO_EXCEEDS_MASS);
  Refused(Extract("L 1", "mine-a", 100, c), v1::INVALID_LOT_ID);
  Refused(Extract("L1", "mine-a", 10'000'000, Comp({{ELEMENT_CE, 1'000'001}})), v1::QUOTA_EXCEEDED);
  Ok(Extract("L1", "mine-a", 100, c));
  Refused(Extract("L1", "mine-a", 100, c), v1::LOT_EXISTS);
}

TEST_F(CustodyTest, QuotaYearIsTheCalendarYearInUtcPlus8) {
  // 2025-12-31 16:30 UTC is 2026-01-01 00:30 in Beijing: the 2026 quota applies.
  set_time_ms(CstMonthStartMs(2026, 1) + 30 * 60 * 1000 - 1000);
  Refused(Extract("L1", "mine-a", 100, Comp({{ELEMENT_CE, 10}})), v1::QUOTA_NOT_SET);
  Ok(Quota("mineco", 2026, v1::QUOTA_CATEGORY_MINING_LIGHT, 50));
  Ok(Extract("L1", "mine-a", 100, Comp({{ELEMENT_CE, 10}})));
  EXPECT_EQ(QuotaRecord("mineco", 2026, v1::QUOTA_CATEGORY_MINING_LIGHT).used_g(), 10);
  EXPECT_EQ(QuotaRecord("mineco", 2025, v1::QUOTA_CATEGORY_MINING_LIGHT).used_g(), 0);
}

TEST_F(CustodyTest, ImportNeedsASmelterAndUpstreamForm) {
  const v1::Composition c = Comp({{ELEMENT_DY, 40}});
  Refused(Import("IM-1", 1000, c, v1::PRODUCT_FORM_CONCENTRATE, "mineco"), v1::UNAUTHORIZED_ROLE);
  Refused(Import("IM-1", 1000, c, v1::PRODUCT_FORM_MAGNET), v1::PRODUCT_NOT_ALLOWED);
  v1::TxBody bad_country = Import("IM-1", 1000, c);
  bad_country.mutable_import_lot()->set_origin_country("XX");
  Refused(bad_country, v1::INVALID_COUNTRY);
  v1::TxBody no_supplier = Import("IM-1", 1000, c);
  no_supplier.mutable_import_lot()->clear_supplier();
  Refused(no_supplier, v1::INVALID_TEXT);
  v1::TxBody foreign_site = Import("IM-1", 1000, c);
  foreign_site.mutable_import_lot()->set_site_id("plant-m");
  Refused(foreign_site, v1::NOT_OWN_SITE);
  Ok(Import("IM-1", 1000, c));
  EXPECT_EQ(Lot("IM-1").origin().country(), "MM");
  EXPECT_EQ(last().results.at(0).quota_charged_g(), 0);  // no mining quota
}

TEST_F(CustodyTest, ProcessConservesPerElementRecordsLossAndChargesSmelting) {
  OreAtSmelter();
  Ok(Separate());
  const v1::TxResult& r = last().results.at(0);
  // CE 500 -> 480, PR 100 -> 90, ND 400 -> 350.
  ASSERT_EQ(r.process_loss().amounts_size(), 3);
  EXPECT_EQ(r.process_loss().amounts(0).reo_g(), 20);
  EXPECT_EQ(r.process_loss().amounts(1).reo_g(), 10);
  EXPECT_EQ(r.process_loss().amounts(2).reo_g(), 50);
  EXPECT_EQ(r.quota_category(), v1::QUOTA_CATEGORY_SMELTING_SEPARATION);
  EXPECT_EQ(r.quota_charged_g(), 1000);  // the inputs' REO
  EXPECT_EQ(Lot("ORE-1").status(), v1::LOT_STATUS_CONSUMED);
  v1::Lot nd = Lot("ND-1");
  EXPECT_EQ(nd.site_id(), "plant-s");
  ASSERT_EQ(nd.parents_size(), 1);
  EXPECT_EQ(nd.parents(0).lot_id(), "ORE-1");
  EXPECT_EQ(nd.parents(0).reo_g(), 440);
}

TEST_F(CustodyTest, ProcessRefusals) {
  OreAtSmelter();
  Refused(Process("smelter", {"ORE-1"},
                  {{"X", v1::PRODUCT_FORM_SEPARATED_OXIDE, 500, Comp({{ELEMENT_ND, 401}})}}),
          v1::CONSERVATION_VIOLATED);
  Refused(Process("smelter", {"ORE-1"},
                  {{"X", v1::PRODUCT_FORM_SEPARATED_OXIDE, 500, Comp({{ELEMENT_DY, 1}})}}),
          v1::CONSERVATION_VIOLATED);
  Refused(Process("smelter", {},
                  {{"X", v1::PRODUCT_FORM_SEPARATED_OXIDE, 500, Comp({{ELEMENT_ND, 1}})}}),
          v1::NO_INPUTS);
  Refused(Process("smelter", {"ORE-1"}, {}), v1::NO_OUTPUTS);
  Refused(Process("smelter", {"ORE-1"},
                  {{"ORE-1", v1::PRODUCT_FORM_SEPARATED_OXIDE, 5, Comp({{ELEMENT_ND, 1}})}}),
          v1::DUPLICATE_ITEM);
  Refused(Process("smelter", {"NOPE"},
                  {{"X", v1::PRODUCT_FORM_SEPARATED_OXIDE, 5, Comp({{ELEMENT_ND, 1}})}}),
          v1::LOT_NOT_FOUND);
  // Metal from ore is a PROCESSOR's step: the smelter lacks the role.
  Refused(
      Process("smelter", {"ORE-1"}, {{"X", v1::PRODUCT_FORM_METAL, 5, Comp({{ELEMENT_ND, 1}})}}),
      v1::UNAUTHORIZED_ROLE);
  Ok(Separate());
  Refused(Process("smelter", {"ORE-1"},
                  {{"X", v1::PRODUCT_FORM_SEPARATED_OXIDE, 5, Comp({{ELEMENT_ND, 1}})}}),
          v1::LOT_NOT_ACTIVE);
  // An output below the inputs' form.
  Refused(Process("smelter", {"ND-1"},
                  {{"X", v1::PRODUCT_FORM_MIXED_OXIDE, 5, Comp({{ELEMENT_ND, 1}})}}),
          v1::FORM_ORDER_VIOLATED);
  // Someone else's lot.
  Ok(Extract("ORE-2", "mine-a", 100, Comp({{ELEMENT_ND, 10}})));
  Refused(Process("smelter", {"ORE-2"},
                  {{"X", v1::PRODUCT_FORM_SEPARATED_OXIDE, 5, Comp({{ELEMENT_ND, 1}})}}),
          v1::NOT_HOLDER);
  // Smelting quota exhausted.
  Ok(Quota("smelter", 2025, v1::QUOTA_CATEGORY_SMELTING_SEPARATION, 1000));
  Transfer("mineco", "OF-2", {"ORE-2"}, "smelter");
  Refused(Process("smelter", {"ORE-2"},
                  {{"X", v1::PRODUCT_FORM_SEPARATED_OXIDE, 5, Comp({{ELEMENT_ND, 1}})}}),
          v1::QUOTA_EXCEEDED);
}

TEST_F(CustodyTest, PrivateSeparationIsRefused) {
  OreAtSmelter();
  Ok(Separate());
  Transfer("smelter", "OF-ND", {"ND-1"}, "magnets");
  // A private processor may make a magnet from separated oxide...
  Ok(Process(
      "magnets", {"ND-1"},
      {{"MAG-1", v1::PRODUCT_FORM_MAGNET, 1500, Comp({{ELEMENT_PR, 85}, {ELEMENT_ND, 340}})}},
      "plant-m"));
  // ...but never separate.
  Ok(Import("IM-1", 1000, Comp({{ELEMENT_ND, 100}})));
  Refused(Process("magnets", {"MAG-1"},
                  {{"X", v1::PRODUCT_FORM_SEPARATED_OXIDE, 5, Comp({{ELEMENT_ND, 1}})}}),
          v1::UNAUTHORIZED_ROLE);
}

TEST_F(CustodyTest, SplitDividesInProportionWithTheRemainderLast) {
  Ok(Extract("L1", "mine-a", 1000, Comp({{ELEMENT_CE, 100}, {ELEMENT_ND, 7}})));
  v1::TxBody b = Body("mineco");
  v1::Split* s = b.mutable_split();
  s->set_lot_id("L1");
  for (auto [id, g] : {std::pair{"P1", 333}, {"P2", 333}, {"P3", 334}}) {
    v1::SplitPart* p = s->add_parts();
    p->set_lot_id(id);
    p->set_mass_g(g);
  }
  v1::TxBody mismatch = b;
  mismatch.mutable_split()->mutable_parts(2)->set_mass_g(335);
  Refused(mismatch, v1::SPLIT_MASS_MISMATCH);
  v1::TxBody one = b;
  one.mutable_split()->mutable_parts()->RemoveLast();
  one.mutable_split()->mutable_parts()->RemoveLast();
  Refused(one, v1::SPLIT_TOO_FEW_PARTS);
  v1::TxBody zero = b;
  zero.mutable_split()->mutable_parts(0)->set_mass_g(0);
  Refused(zero, v1::INVALID_AMOUNT);
  Ok(b);
  // CE 100 * 333/1000 = 33 (x2), last 34; ND 7 * 333/1000 = 2 (x2), last 3.
  EXPECT_EQ(Lot("P1").reo_g(), 35);
  EXPECT_EQ(Lot("P2").reo_g(), 35);
  EXPECT_EQ(Lot("P3").reo_g(), 37);
  EXPECT_EQ(Lot("P3").composition().amounts(1).reo_g(), 3);
  EXPECT_EQ(Lot("L1").status(), v1::LOT_STATUS_CONSUMED);
  EXPECT_EQ(Lot("P1").product(), v1::PRODUCT_FORM_ORE);
}

TEST_F(CustodyTest, MergeSumsOneForm) {
  Ok(Extract("A", "mine-a", 100, Comp({{ELEMENT_CE, 10}})));
  Ok(Extract("B", "mine-a", 200, Comp({{ELEMENT_CE, 5}, {ELEMENT_ND, 5}})));
  Ok(Extract("C", "mine-a", 50, Comp({{ELEMENT_CE, 5}}), v1::PRODUCT_FORM_CONCENTRATE));
  auto merge = [&](std::vector<std::string> in, const std::string& out) {
    v1::TxBody b = Body("mineco");
    for (auto& i : in) b.mutable_merge()->add_input_lot_ids(i);
    b.mutable_merge()->set_output_lot_id(out);
    return b;
  };
  Refused(merge({"A"}, "M"), v1::MERGE_TOO_FEW_INPUTS);
  Refused(merge({"A", "C"}, "M"), v1::MERGE_FORM_MISMATCH);
  Refused(merge({"A", "A"}, "M"), v1::DUPLICATE_ITEM);
  Ok(merge({"A", "B"}, "M"));
  v1::Lot m = Lot("M");
  EXPECT_EQ(m.mass_g(), 300);
  EXPECT_EQ(m.reo_g(), 20);
  EXPECT_EQ(m.parents_size(), 2);
  EXPECT_EQ(last().results.at(0).quota_charged_g(), 0);
}

TEST_F(CustodyTest, TransferOfferAcceptRejectCancel) {
  Ok(Extract("L1", "mine-a", 100, Comp({{ELEMENT_CE, 10}})));
  Ok(Extract("L2", "mine-a", 100, Comp({{ELEMENT_CE, 10}})));
  Refused(Offer("mineco", "OF", {"L1"}, "mineco"), v1::TRANSFER_TO_SELF);
  Refused(Offer("mineco", "OF", {"L1"}, "ghost"), v1::RECIPIENT_NOT_FOUND);
  Refused(Offer("mineco", "OF", {"L1"}, "mofcom"), v1::RECIPIENT_NO_CUSTODY_ROLE);
  Refused(Offer("mineco", "OF", {"L1"}, "magnets"), v1::UPSTREAM_HOLDER_NOT_STATE);
  Refused(Offer("mineco", "OF", {"L1", "L1"}, "smelter"), v1::DUPLICATE_ITEM);
  Refused(Offer("smelter", "OF", {"L1"}, "mineco"), v1::NOT_HOLDER);
  Ok(Offer("mineco", "OF", {"L1"}, "smelter"));
  EXPECT_EQ(Lot("L1").status(), v1::LOT_STATUS_IN_TRANSIT);
  EXPECT_EQ(Lot("L1").holder_org_id(), "mineco");
  Refused(Offer("mineco", "OF", {"L2"}, "smelter"), v1::OFFER_EXISTS);
  Refused(Offer("mineco", "OF2", {"L1"}, "smelter"), v1::LOT_NOT_ACTIVE);
  Refused(AcceptOffer("exporter", "OF"), v1::NOT_RECIPIENT);
  Refused(AcceptOffer("smelter", "NOPE"), v1::OFFER_NOT_FOUND);
  v1::TxBody cancel = Body("smelter");
  cancel.mutable_transfer_cancel()->set_offer_id("OF");
  Refused(cancel, v1::NOT_SENDER);
  Ok(AcceptOffer("smelter", "OF"));
  EXPECT_EQ(Lot("L1").status(), v1::LOT_STATUS_ACTIVE);
  EXPECT_EQ(Lot("L1").holder_org_id(), "smelter");
  Refused(AcceptOffer("smelter", "OF"), v1::OFFER_NOT_OPEN);

  Ok(Offer("mineco", "OF3", {"L2"}, "smelter"));
  v1::TxBody reject = Body("smelter");
  reject.mutable_transfer_reject()->set_offer_id("OF3");
  reject.mutable_transfer_reject()->set_reason("wrong grade");
  Ok(reject);
  EXPECT_EQ(Lot("L2").status(), v1::LOT_STATUS_ACTIVE);
  EXPECT_EQ(Lot("L2").holder_org_id(), "mineco");
  Ok(Offer("mineco", "OF4", {"L2"}, "smelter"));
  v1::TxBody cancel4 = Body("mineco");
  cancel4.mutable_transfer_cancel()->set_offer_id("OF4");
  Ok(cancel4);
  EXPECT_EQ(Lot("L2").status(), v1::LOT_STATUS_ACTIVE);
}

TEST_F(CustodyTest, RecipientMustBeActiveAndAbleToHold) {
  OreAtSmelter();
  Ok(Separate());
  v1::TxBody suspend = Body("miit");
  suspend.mutable_update_org()->set_org_id("magnets");
  suspend.mutable_update_org()->set_status(v1::ORG_STATUS_SUSPENDED);
  Ok(suspend);
  Refused(Offer("smelter", "OF", {"ND-1"}, "magnets"), v1::RECIPIENT_NOT_ACTIVE);
  // A state miner without a smelting role may not take separated oxide.
  Refused(Offer("smelter", "OF", {"ND-1"}, "mineco"), v1::RECIPIENT_CANNOT_HOLD);
}

}  // namespace
}  // namespace reel::ledger::testing
