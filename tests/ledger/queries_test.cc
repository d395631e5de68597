// Queries over LevelDB: paging is complete, ordered and without duplicates at scale
// (REEL_LEDGER_LOTS, 100,000 lots: about 3 s on 2 cores, so it runs in CI), and each
// query answers what the transactions wrote.
#include "node/ledger/queries.h"

#include <chrono>
#include <iostream>
#include <set>

#include "node/storage/leveldb_store.h"
#include "tests/ledger/ledger_test_util.h"

#ifndef REEL_LEDGER_LOTS
#define REEL_LEDGER_LOTS 100000
#endif

namespace reel::ledger::testing {
namespace {

constexpr int kPartsPerRoot = 250;

// A LevelDB directory that outlives the world built on it (a base constructed first).
struct TempDb {
  std::unique_ptr<storage::KvStore> Open() {
    Result<std::unique_ptr<storage::KvStore>> db = storage::OpenLevelDb(dir.Sub("db"));
    EXPECT_TRUE(db.ok()) << db.status().ToString();
    return std::move(db).value();
  }
  ::reel::testing::TempDir dir{"ledger-queries"};
};

class QueriesTest : public ::testing::Test, public TempDb, public CustodyWorld {
 protected:
  QueriesTest() : CustodyWorld(Open()) {}
  ~QueriesTest() override { ReplaceStore(nullptr); }

  // `roots` ore lots at mine-a, each split into kPartsPerRoot parts.
  void ManyLots(int roots) {
    Ok(Quota("mineco", 2025, v1::QUOTA_CATEGORY_MINING_LIGHT, 1'000'000'000'000));
    std::vector<v1::TxBody> extracts, splits;
    for (int r = 0; r < roots; ++r) {
      const std::string root = "R" + std::to_string(100000 + r);
      extracts.push_back(Extract(root, "mine-a", kPartsPerRoot * 1000,
                                 Comp({{v1::ELEMENT_ND, kPartsPerRoot * 100}})));
      v1::TxBody b = Body("mineco");
      b.mutable_split()->set_lot_id(root);
      for (int p = 0; p < kPartsPerRoot; ++p) {
        v1::SplitPart* part = b.mutable_split()->add_parts();
        part->set_lot_id(root + "-" + std::to_string(1000 + p));
        part->set_mass_g(1000);
      }
      splits.push_back(std::move(b));
    }
    for (size_t i = 0; i < extracts.size(); i += 200) {
      std::vector<v1::TxBody> block(extracts.begin() + i,
                                    extracts.begin() + std::min(i + 200, extracts.size()));
      for (const v1::TxResult& r : Block(block)) ASSERT_EQ(r.code(), v1::OK) << r.message();
    }
    for (size_t i = 0; i < splits.size(); i += 40) {
      std::vector<v1::TxBody> block(splits.begin() + i,
                                    splits.begin() + std::min(i + 40, splits.size()));
      for (const v1::TxResult& r : Block(block)) ASSERT_EQ(r.code(), v1::OK) << r.message();
    }
  }
};

TEST_F(QueriesTest, HoldingsPagesAreCompleteOrderedAndUnique) {
  SetupCast();
  const int roots = (REEL_LEDGER_LOTS + kPartsPerRoot) / (kPartsPerRoot + 1);
  const auto start = std::chrono::steady_clock::now();
  ManyLots(roots);
  const auto built = std::chrono::steady_clock::now();
  std::unique_ptr<storage::Snapshot> snap = store().GetSnapshot();
  Queries q(*snap);
  v1::HoldingsRequest req;
  req.set_org_id("mineco");
  req.set_page_size(1000);
  std::string previous;
  size_t lots = 0, pages = 0;
  while (true) {
    Result<v1::HoldingsResponse> page = q.Holdings(req);
    ASSERT_TRUE(page.ok()) << page.status().ToString();
    ++pages;
    ASSERT_LE(page->lots_size(), 1000);
    for (const v1::Lot& lot : page->lots()) {
      ASSERT_LT(previous, lot.lot_id()) << "out of order or duplicate";
      previous = lot.lot_id();
      ++lots;
    }
    ASSERT_EQ(page->summaries_size(), 1);
    EXPECT_EQ(page->summaries(0).lot_count(), static_cast<uint64_t>(roots * kPartsPerRoot));
    if (page->next_page_token().empty()) break;
    req.set_page_token(page->next_page_token());
  }
  const auto listed = std::chrono::steady_clock::now();
  EXPECT_EQ(lots, static_cast<size_t>(roots * kPartsPerRoot));
  using ms = std::chrono::milliseconds;
  std::cout << roots * (kPartsPerRoot + 1) << " lots built in "
            << std::chrono::duration_cast<ms>(built - start).count() << " ms; " << lots
            << " active lots listed in " << pages << " pages in "
            << std::chrono::duration_cast<ms>(listed - built).count() << " ms\n";

  // Consumed roots are listed when asked for.
  v1::HoldingsRequest consumed;
  consumed.set_org_id("mineco");
  consumed.add_statuses(v1::LOT_STATUS_CONSUMED);
  consumed.set_page_size(1000);
  size_t n = 0;
  while (true) {
    Result<v1::HoldingsResponse> page = q.Holdings(consumed);
    ASSERT_TRUE(page.ok());
    n += page->lots_size();
    if (page->next_page_token().empty()) break;
    consumed.set_page_token(page->next_page_token());
  }
  EXPECT_EQ(n, static_cast<size_t>(roots));

  // A token from other filters is refused.
  v1::HoldingsRequest other;
  other.set_org_id("smelter");
  other.set_page_token(req.page_token());
  EXPECT_EQ(q.Holdings(other).status().code(), Code::kInvalidArgument);
}

TEST_F(QueriesTest, TracePagesDeliverEveryNodeOnceAndEdgesAfterTheirNodes) {
  SetupCast();
  ManyLots(2);
  std::unique_ptr<storage::Snapshot> snap = store().GetSnapshot();
  Queries q(*snap);
  v1::TraceLotRequest req;
  req.set_lot_id("R100000");
  req.set_page_size(37);
  std::set<std::string> seen;
  size_t edges = 0;
  while (true) {
    Result<v1::TraceLotResponse> page = q.TraceLot(req);
    ASSERT_TRUE(page.ok()) << page.status().ToString();
    for (const v1::TraceNode& n : page->nodes())
      ASSERT_TRUE(seen.insert(n.node_id()).second) << n.node_id();
    for (const v1::TraceEdge& e : page->edges()) {
      ASSERT_TRUE(seen.count(e.from_node_id()) && seen.count(e.to_node_id()));
      ++edges;
    }
    if (page->next_page_token().empty()) break;
    req.set_page_token(page->next_page_token());
  }
  // The root, its mine, its parts and their holder.
  EXPECT_EQ(seen.size(), 1u + 1u + kPartsPerRoot + 1u);
  EXPECT_EQ(edges, 1u + kPartsPerRoot + kPartsPerRoot);
  EXPECT_TRUE(seen.count("site:mine-a"));
  EXPECT_TRUE(seen.count("org:mineco"));
}

TEST_F(QueriesTest, LotHistoryQuotaOrgsSitesLicencesViolations) {
  SetupCast();
  Ok(Extract("L1", "mine-a", 1000, Comp({{v1::ELEMENT_ND, 100}})));
  Transfer("mineco", "OF1", {"L1"}, "smelter");
  Ok(Process("smelter", {"L1"},
             {{"OX", v1::PRODUCT_FORM_SEPARATED_OXIDE, 90, Comp({{v1::ELEMENT_ND, 90}})}}));
  Transfer("smelter", "OF2", {"OX"}, "exporter");
  Ok(Apply("LIC", "DE", "Acme", v1::PRODUCT_FORM_SEPARATED_OXIDE, {v1::ELEMENT_ND}, 90));
  v1::RestrictionMatch m;
  m.add_end_users("Acme");
  Ok(Restrict("R-REVIEW", m, v1::RESTRICTION_EFFECT_REVIEW));
  std::unique_ptr<storage::Snapshot> snap = store().GetSnapshot();
  Queries q(*snap);

  v1::LotHistoryRequest h;
  h.set_lot_id("L1");
  Result<v1::LotHistoryResponse> history = q.LotHistory(h);
  ASSERT_TRUE(history.ok());
  ASSERT_EQ(history->events_size(), 4);  // extracted, shipped, received, processed
  EXPECT_EQ(history->events(0).biz_step(), v1::BIZ_STEP_EXTRACTING);
  EXPECT_EQ(history->events(0).site_id(), "mine-a");
  EXPECT_EQ(history->events(1).biz_step(), v1::BIZ_STEP_SHIPPING);
  EXPECT_EQ(history->events(2).to_org_id(), "smelter");
  EXPECT_EQ(history->events(3).disposition(), v1::LOT_STATUS_CONSUMED);
  EXPECT_EQ(history->events(3).output_lot_ids(0), "OX");
  h.set_lot_id("nope");
  EXPECT_EQ(q.LotHistory(h).status().code(), Code::kNotFound);

  v1::QuotaUseRequest quota;
  quota.set_org_id("mineco");
  quota.set_category(v1::QUOTA_CATEGORY_MINING_LIGHT);
  Result<v1::QuotaUseResponse> use = q.QuotaUse(quota);
  ASSERT_TRUE(use.ok());
  ASSERT_EQ(use->rows_size(), 1);
  EXPECT_EQ(use->rows(0).used_g(), 100);
  EXPECT_EQ(use->rows(0).left_g(), 1'000'000 - 100);

  v1::ListOrgsRequest orgs;
  orgs.set_role(v1::ROLE_MINER);
  Result<v1::ListOrgsResponse> miners = q.ListOrgs(orgs);
  ASSERT_TRUE(miners.ok());
  ASSERT_EQ(miners->orgs_size(), 1);
  EXPECT_EQ(miners->orgs(0).org_id(), "mineco");

  v1::ListSitesRequest sites;
  sites.set_kind(v1::SITE_KIND_MINE);
  sites.set_page_size(1);
  size_t mines = 0;
  while (true) {
    Result<v1::ListSitesResponse> page = q.ListSites(sites);
    ASSERT_TRUE(page.ok());
    mines += page->sites_size();
    if (page->next_page_token().empty()) break;
    sites.set_page_token(page->next_page_token());
  }
  EXPECT_EQ(mines, 2u);

  v1::ListLicencesRequest lic;
  lic.set_applicant_org_id("exporter");
  lic.set_end_user(" acme ");
  Result<v1::ListLicencesResponse> licences = q.ListLicences(lic);
  ASSERT_TRUE(licences.ok());
  ASSERT_EQ(licences->licences_size(), 1);

  v1::MatchingRestrictionsRequest match;
  match.set_licence_id("LIC");
  Result<v1::MatchingRestrictionsResponse> matching = q.MatchingRestrictions(match);
  ASSERT_TRUE(matching.ok());
  ASSERT_EQ(matching->restrictions_size(), 1);
  EXPECT_EQ(matching->restrictions(0).restriction_id(), "R-REVIEW");

  v1::LicenceVerdictRequest verdict;
  verdict.set_applicant_org_id("exporter");
  *verdict.mutable_application() =
      Apply("", "DE", "ACME", v1::PRODUCT_FORM_SEPARATED_OXIDE, {v1::ELEMENT_ND}, 90)
          .apply_export_license();
  Result<v1::LicenceVerdictResponse> v = q.LicenceVerdict(verdict);
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->status(), v1::LICENCE_STATUS_PENDING_REVIEW);
  EXPECT_EQ(v->review_restriction_ids(0), "R-REVIEW");
  verdict.set_applicant_org_id("smelter");
  v = q.LicenceVerdict(verdict);
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->code(), v1::UNAUTHORIZED_ROLE);

  // What a DENY on Acme would hit: the pending licence, then the exporter's oxide lot.
  v1::RestrictionImpactRequest impact;
  impact.mutable_match()->add_end_users("acme");
  impact.set_effect(v1::RESTRICTION_EFFECT_DENY);
  impact.set_page_size(1);
  std::vector<std::string> hit;
  while (true) {
    Result<v1::RestrictionImpactResponse> page = q.RestrictionImpact(impact);
    ASSERT_TRUE(page.ok()) << page.status().ToString();
    for (const auto& l : page->licences()) {
      hit.push_back("licence:" + l.licence().licence_id());
      EXPECT_TRUE(l.would_affect_decision());
    }
    for (const auto& lot : page->lots()) hit.push_back("lot:" + lot.lot_id());
    if (page->next_page_token().empty()) break;
    impact.set_page_token(page->next_page_token());
  }
  EXPECT_EQ(hit, (std::vector<std::string>{"licence:LIC", "lot:OX"}));
}

TEST_F(QueriesTest, ExportStatsGroupsAndPages) {
  SetupCast();
  Ok(Extract("L1", "mine-a", 10'000, Comp({{v1::ELEMENT_PR, 300}, {v1::ELEMENT_ND, 700}})));
  Transfer("mineco", "OF1", {"L1"}, "smelter");
  std::vector<Out> outs;
  for (int i = 0; i < 6; ++i) {
    outs.push_back({"OX" + std::to_string(i), v1::PRODUCT_FORM_SEPARATED_OXIDE, 100,
                    Comp({{v1::ELEMENT_PR, 10}, {v1::ELEMENT_ND, 20}})});
  }
  Ok(Process("smelter", {"L1"}, outs));
  std::vector<std::string> ids;
  for (auto& o : outs) ids.push_back(o.id);
  Transfer("smelter", "OF2", ids, "exporter");
  const char* countries[] = {"DE", "JP", "US", "DE", "FR", "JP"};
  for (int i = 0; i < 6; ++i) {
    const std::string lic = "LIC" + std::to_string(i);
    Ok(Apply(lic, countries[i], "User " + std::to_string(i % 2), v1::PRODUCT_FORM_SEPARATED_OXIDE,
             {v1::ELEMENT_PR, v1::ELEMENT_ND}, 100));
    Ok(Decide(lic, v1::DECISION_GRANT, time_ms() + 100'000'000));
    Ok(Clear(lic, {ids[i]}));
  }
  std::unique_ptr<storage::Snapshot> snap = store().GetSnapshot();
  Queries q(*snap);
  v1::ExportStatsRequest req;
  req.set_group_by(v1::EXPORT_GROUP_BY_COUNTRY);
  req.set_page_size(2);
  std::vector<std::string> keys;
  uint64_t count = 0;
  while (true) {
    Result<v1::ExportStatsResponse> page = q.ExportStats(req);
    ASSERT_TRUE(page.ok()) << page.status().ToString();
    for (const auto& row : page->rows()) {
      keys.push_back(row.key());
      count += row.export_count();
      if (row.key() == "DE") {
        EXPECT_EQ(row.reo_g(), 60);
      }
    }
    if (page->next_page_token().empty()) break;
    req.set_page_token(page->next_page_token());
  }
  EXPECT_EQ(keys, (std::vector<std::string>{"DE", "FR", "JP", "US"}));
  EXPECT_EQ(count, 6u);
  v1::ExportStatsRequest by_element;
  by_element.set_group_by(v1::EXPORT_GROUP_BY_ELEMENT);
  Result<v1::ExportStatsResponse> el = q.ExportStats(by_element);
  ASSERT_TRUE(el.ok());
  ASSERT_EQ(el->rows_size(), 2);
  EXPECT_EQ(el->rows(0).key(), "ND");
  EXPECT_EQ(el->rows(0).reo_g(), 120);
  EXPECT_EQ(el->rows(1).reo_g(), 60);
  v1::ListExportsRequest list;
  list.set_destination_country("JP");
  Result<v1::ListExportsResponse> jp = q.ListExports(list);
  ASSERT_TRUE(jp.ok());
  EXPECT_EQ(jp->exports_size(), 2);
}

}  // namespace
}  // namespace reel::ledger::testing
