// The demo story from mine to border, as one test (DESIGN.md "Two commands"): MIIT
// registers the cast, two mines extract, the smelter separates with loss and quota
// use, a private maker makes magnets, three licences meet a targeted restriction, a
// quota excess and a private separation are refused, a violation is fined 5x, and the
// exported magnet traces back to both mines.
#include <set>

#include "node/ledger/queries.h"
#include "tests/ledger/ledger_test_util.h"
#include "tests/test_util.h"

namespace reel::ledger::testing {
namespace {

using v1::ELEMENT_CE;
using v1::ELEMENT_DY;
using v1::ELEMENT_LA;
using v1::ELEMENT_ND;
using v1::ELEMENT_PR;
using v1::ELEMENT_TB;

class StoryTest : public ::testing::Test, public CustodyWorld {
 protected:
  v1::TxBody Register(const std::string& id, v1::OrgKind kind, v1::Role role) {
    v1::TxBody b = Body("miit");
    *b.mutable_register_org() = Org(id, kind, {role}, *this);
    return b;
  }
};

TEST_F(StoryTest, FromMineToBorder) {
  Genesis();
  // MIIT registers the enterprises, their sites and their 2025 quotas.
  Ok(Register("baotou-mining", v1::ORG_KIND_STATE_ENTERPRISE, v1::ROLE_MINER));
  Ok(Register("ganzhou-re", v1::ORG_KIND_STATE_ENTERPRISE, v1::ROLE_SMELTER_SEPARATOR));
  Ok(Register("ningbo-magnets", v1::ORG_KIND_PRIVATE_ENTERPRISE, v1::ROLE_PROCESSOR));
  Ok(Register("sino-export", v1::ORG_KIND_PRIVATE_ENTERPRISE, v1::ROLE_EXPORTER));
  Ok(Site("bayan-obo", "baotou-mining", v1::SITE_KIND_MINE, v1::DEPOSIT_TYPE_ROCK));
  Ok(Site("longnan", "baotou-mining", v1::SITE_KIND_MINE, v1::DEPOSIT_TYPE_ION_ADSORPTION));
  Ok(Site("ganzhou-plant", "ganzhou-re", v1::SITE_KIND_PLANT, v1::DEPOSIT_TYPE_UNSPECIFIED));
  Ok(Site("ningbo-plant", "ningbo-magnets", v1::SITE_KIND_PLANT, v1::DEPOSIT_TYPE_UNSPECIFIED));
  Ok(Quota("baotou-mining", 2025, v1::QUOTA_CATEGORY_MINING_LIGHT, 50'000'000));
  Ok(Quota("baotou-mining", 2025, v1::QUOTA_CATEGORY_MINING_MEDIUM_HEAVY, 5'000'000));
  Ok(Quota("ganzhou-re", 2025, v1::QUOTA_CATEGORY_SMELTING_SEPARATION, 60'000'000));

  // Extraction at two mines: light rare earths from rock, heavy from ion clay.
  Ok(Extract("BO-ORE-1", "bayan-obo", 500'000'000,
             Comp({{ELEMENT_LA, 10'000'000},
                   {ELEMENT_CE, 20'000'000},
                   {ELEMENT_PR, 3'000'000},
                   {ELEMENT_ND, 9'000'000}}),
             v1::PRODUCT_FORM_ORE, "baotou-mining"));
  Ok(Extract("LN-CON-1", "longnan", 6'000'000,
             Comp({{ELEMENT_ND, 500'000}, {ELEMENT_TB, 100'000}, {ELEMENT_DY, 1'400'000}}),
             v1::PRODUCT_FORM_CONCENTRATE, "baotou-mining"));
  EXPECT_EQ(QuotaRecord("baotou-mining", 2025, v1::QUOTA_CATEGORY_MINING_LIGHT).used_g(),
            42'000'000);
  EXPECT_EQ(QuotaRecord("baotou-mining", 2025, v1::QUOTA_CATEGORY_MINING_MEDIUM_HEAVY).used_g(),
            2'000'000);
  // A quota excess is refused with its code.
  Refused(Extract("LN-CON-2", "longnan", 20'000'000, Comp({{ELEMENT_DY, 3'000'001}}),
                  v1::PRODUCT_FORM_CONCENTRATE, "baotou-mining"),
          v1::QUOTA_EXCEEDED);

  // Transfer to the smelter-separator, which separates NdPr and Dy oxides.
  Transfer("baotou-mining", "SHIP-1", {"BO-ORE-1", "LN-CON-1"}, "ganzhou-re");
  Ok(Process("ganzhou-re", {"BO-ORE-1", "LN-CON-1"},
             {{"NDPR-OX-1", v1::PRODUCT_FORM_SEPARATED_OXIDE, 12'000'000,
               Comp({{ELEMENT_PR, 2'800'000}, {ELEMENT_ND, 9'100'000}})},
              {"DY-OX-1", v1::PRODUCT_FORM_SEPARATED_OXIDE, 1'500'000,
               Comp({{ELEMENT_TB, 90'000}, {ELEMENT_DY, 1'350'000}})},
              {"LACE-1", v1::PRODUCT_FORM_MIXED_OXIDE, 30'000'000,
               Comp({{ELEMENT_LA, 9'500'000}, {ELEMENT_CE, 19'000'000}})}},
             "ganzhou-plant"));
  const v1::TxResult& sep = last().results.at(0);
  EXPECT_EQ(sep.quota_charged_g(), 44'000'000);
  int64_t loss = 0;
  for (const auto& a : sep.process_loss().amounts()) loss += a.reo_g();
  EXPECT_EQ(loss, 44'000'000 - 11'900'000 - 1'440'000 - 28'500'000);

  // The private magnet maker may not separate.
  Transfer("ganzhou-re", "SHIP-2", {"NDPR-OX-1", "DY-OX-1"}, "ningbo-magnets");
  Refused(Process("ningbo-magnets", {"DY-OX-1"},
                  {{"X", v1::PRODUCT_FORM_SEPARATED_OXIDE, 1'000'000,
                    Comp({{ELEMENT_DY, 1'000'000}})}}),
          v1::UNAUTHORIZED_ROLE);
  // Magnets: NdFeB with Dy; iron and boron add mass.
  Ok(Process("ningbo-magnets", {"NDPR-OX-1", "DY-OX-1"},
             {{"MAG-1", v1::PRODUCT_FORM_MAGNET, 40'000'000,
               Comp({{ELEMENT_PR, 2'700'000},
                     {ELEMENT_ND, 9'000'000},
                     {ELEMENT_TB, 80'000},
                     {ELEMENT_DY, 1'300'000}})}},
             "ningbo-plant"));
  v1::TxBody split = Body("ningbo-magnets");
  split.mutable_split()->set_lot_id("MAG-1");
  for (auto [id, g] :
       {std::pair{"MAG-1a", 10'000'000}, {"MAG-1b", 10'000'000}, {"MAG-1c", 20'000'000}}) {
    v1::SplitPart* p = split.mutable_split()->add_parts();
    p->set_lot_id(id);
    p->set_mass_g(g);
  }
  Ok(split);
  Transfer("ningbo-magnets", "SHIP-3", {"MAG-1a", "MAG-1b", "MAG-1c"}, "sino-export");

  // Three licence applications; one end user is targeted.
  const std::vector<v1::Element> magnet = {ELEMENT_PR, ELEMENT_ND, ELEMENT_TB, ELEMENT_DY};
  const uint64_t year_end = CstMonthStartMs(2026, 1);
  Ok(Apply("LIC-A", "US", "Falcon Defense Systems", v1::PRODUCT_FORM_MAGNET, magnet, 10'000'000,
           v1::INDUSTRY_DEFENSE, "sino-export"));
  Ok(Decide("LIC-A", v1::DECISION_GRANT, year_end));
  v1::RestrictionMatch target;
  target.add_end_users("falcon defense systems");
  Ok(Restrict("R-FALCON", target, v1::RESTRICTION_EFFECT_DENY, /*revoke=*/true));
  EXPECT_EQ(last().results.at(0).revoked_licence_ids(0), "LIC-A");
  EXPECT_EQ(Licence("LIC-A").status(), v1::LICENCE_STATUS_REVOKED);
  Ok(Apply("LIC-B", "US", "Falcon Defense Systems ", v1::PRODUCT_FORM_MAGNET, magnet, 10'000'000,
           v1::INDUSTRY_AEROSPACE, "sino-export"));
  EXPECT_EQ(Licence("LIC-B").status(), v1::LICENCE_STATUS_DENIED);
  EXPECT_EQ(Licence("LIC-B").denied_by_restriction_id(), "R-FALCON");
  Ok(Apply("LIC-C", "DE", "Nordwind Turbinen", v1::PRODUCT_FORM_MAGNET, magnet, 20'000'000,
           v1::INDUSTRY_WIND_ENERGY, "sino-export"));
  EXPECT_EQ(Licence("LIC-C").status(), v1::LICENCE_STATUS_PENDING);
  Ok(Decide("LIC-C", v1::DECISION_GRANT, year_end));
  Refused(Clear("LIC-A", {"MAG-1a"}), v1::LICENCE_REVOKED);
  Ok(Clear("LIC-C", {"MAG-1c"}));
  EXPECT_EQ(Lot("MAG-1c").status(), v1::LOT_STATUS_EXPORTED);
  EXPECT_EQ(Licence("LIC-C").status(), v1::LICENCE_STATUS_EXHAUSTED);

  // A violation: illegal revenue of 1,000,000 yuan, fined 5x, one lot seized.
  v1::TxBody violation = Body("miit");
  v1::RecordViolation* v = violation.mutable_record_violation();
  v->set_violation_id("VIO-2025-001");
  v->set_org_id("sino-export");
  v->set_kind(v1::VIOLATION_KIND_SMUGGLING);
  v->set_illegal_revenue_fen(100'000'000);
  v->set_multiplier(5);
  v->set_fine_fen(500'000'000);
  v->add_seize_lot_ids("MAG-1b");
  v->set_description("attempted shipment without a licence");
  Ok(violation);
  EXPECT_EQ(Lot("MAG-1b").status(), v1::LOT_STATUS_SEIZED);

  // The exported magnet traces back to both mines.
  std::unique_ptr<storage::Snapshot> snapshot = store().GetSnapshot();
  Queries q(*snapshot);
  v1::TraceLotRequest req;
  req.set_lot_id("MAG-1c");
  req.set_direction(v1::TRACE_DIRECTION_BOTH);
  req.set_page_size(1000);
  Result<v1::TraceLotResponse> trace = q.TraceLot(req);
  ASSERT_OK(trace);
  std::set<std::string> nodes;
  for (const v1::TraceNode& n : trace->nodes()) nodes.insert(n.node_id());
  EXPECT_TRUE(nodes.count("site:bayan-obo"));
  EXPECT_TRUE(nodes.count("site:longnan"));
  EXPECT_TRUE(nodes.count("lot:NDPR-OX-1"));
  EXPECT_EQ(nodes.count("lot:LACE-1"), 0u);  // a sibling, not an ancestor
  bool exported = false;
  for (const v1::TraceEdge& e : trace->edges())
    exported = exported || e.kind() == v1::TRACE_EDGE_KIND_EXPORTED;
  EXPECT_TRUE(exported);
  EXPECT_TRUE(trace->next_page_token().empty());
  EXPECT_TRUE(trace->dot().empty());  // drawing is the API's (node/api/trace_dot.h)
  for (const v1::TraceEdge& e : trace->edges()) {
    std::cout << e.from_node_id() << " -> " << e.to_node_id() << " (" << e.reo_g() << " g)\n";
  }

  // The smelter's monthly report and mass balance.
  v1::MonthlyFlowReportRequest monthly;
  monthly.set_org_id("ganzhou-re");
  monthly.set_year(2025);
  monthly.set_month(6);
  Result<v1::MonthlyFlowReportResponse> report = q.MonthlyFlowReport(monthly);
  ASSERT_OK(report);
  EXPECT_EQ(report->received().reo_g(), 44'000'000);
  EXPECT_EQ(report->received().lot_count(), 2u);
  EXPECT_EQ(report->processed_in().reo_g(), 44'000'000);
  EXPECT_EQ(report->processed_out().reo_g(), 41'840'000);
  EXPECT_EQ(report->process_loss().reo_g(), 2'160'000);
  EXPECT_EQ(report->shipped().reo_g(), 13'340'000);
  ASSERT_EQ(report->quota_size(), 1);
  EXPECT_EQ(report->quota(0).used_g(), 44'000'000);
  EXPECT_EQ(report->entries_size(), 5);  // received, processed in, out, loss, shipped
  v1::MassBalanceRequest balance;
  balance.set_org_id("ganzhou-re");
  balance.set_loss_threshold_permille(30);
  Result<v1::MassBalanceResponse> mb = q.MassBalance(balance);
  ASSERT_OK(mb);
  EXPECT_EQ(mb->in_reo_g(), 44'000'000);
  EXPECT_EQ(mb->out_reo_g(), 13'340'000);
  EXPECT_EQ(mb->loss_reo_g(), 2'160'000);
  EXPECT_EQ(mb->loss_permille(), 49u);
  ASSERT_EQ(mb->outliers_size(), 1);
  // in - out - loss is what it still holds: the La-Ce mixed oxide.
  EXPECT_EQ(mb->in_reo_g() - mb->out_reo_g() - mb->loss_reo_g(), 28'500'000);
  v1::MassBalanceRequest magnets;
  magnets.set_org_id("ningbo-magnets");
  magnets.set_loss_threshold_permille(30);
  mb = q.MassBalance(magnets);
  ASSERT_OK(mb);
  EXPECT_EQ(mb->outliers_size(), 0);
  EXPECT_EQ(mb->loss_permille(), 19u);
}

}  // namespace
}  // namespace reel::ledger::testing
