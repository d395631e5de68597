// Queries over LevelDB: paging is complete, ordered and without duplicates at scale
// (REEL_LEDGER_LOTS, 100,000 lots: about 3 s on 2 cores, so it runs in CI), each query
// answers what the transactions wrote, and the lists that read much (ExportStats,
// RestrictionImpact) stay within the scan limit on every page, counted by a view that
// counts what they read.
#include "node/ledger/queries.h"

#include <chrono>
#include <functional>
#include <iostream>
#include <set>

#include "node/storage/leveldb_store.h"
#include "tests/ledger/ledger_test_util.h"
#include "tests/test_util.h"

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
    EXPECT_OK(db);
    return std::move(db).value();
  }
  ::reel::testing::TempDir dir{"ledger-queries"};
};

// A view that counts what a query reads: iterator moves (Seek, Next...) and Gets.
class CountingView : public storage::ReadView {
 public:
  explicit CountingView(const storage::ReadView& base) : base_(base) {}

  Result<std::optional<std::string>> Get(std::string_view key) const override {
    ++gets_;
    return base_.Get(key);
  }
  std::unique_ptr<storage::Iterator> NewIterator() const override {
    return std::make_unique<CountingIterator>(base_.NewIterator(), &moves_);
  }

  size_t moves() const { return moves_; }
  size_t gets() const { return gets_; }
  void Reset() { moves_ = gets_ = 0; }

 private:
  class CountingIterator : public storage::Iterator {
   public:
    CountingIterator(std::unique_ptr<storage::Iterator> base, size_t* moves)
        : base_(std::move(base)), moves_(moves) {}
    bool Valid() const override { return base_->Valid(); }
    void SeekToFirst() override {
      ++*moves_;
      base_->SeekToFirst();
    }
    void SeekToLast() override {
      ++*moves_;
      base_->SeekToLast();
    }
    void Seek(std::string_view target) override {
      ++*moves_;
      base_->Seek(target);
    }
    void Next() override {
      ++*moves_;
      base_->Next();
    }
    void Prev() override {
      ++*moves_;
      base_->Prev();
    }
    std::string_view key() const override { return base_->key(); }
    std::string_view value() const override { return base_->value(); }
    Status status() const override { return base_->status(); }

   private:
    std::unique_ptr<storage::Iterator> base_;
    size_t* moves_;
  };

  const storage::ReadView& base_;
  mutable size_t moves_ = 0;
  mutable size_t gets_ = 0;
};

// Every page of a list, first to last, following next_page_token (at most `pages_max`).
template <typename Request, typename Response>
std::vector<Response> AllPages(const Queries& q,
                               Result<Response> (Queries::*method)(const Request&) const,
                               Request request, size_t pages_max = 10000) {
  std::vector<Response> pages;
  while (pages.size() < pages_max) {
    Result<Response> page = (q.*method)(request);
    EXPECT_OK(page);
    if (!page.ok()) break;
    pages.push_back(*page);
    if (page->next_page_token().empty()) break;
    request.set_page_token(page->next_page_token());
  }
  EXPECT_LT(pages.size(), pages_max) << "the list does not end";
  return pages;
}

// The ids of a list's items over all its pages, in the order they came: `items` picks
// a page's list, `id` is the items' id getter.
template <typename Request, typename Response, typename Items, typename Item>
std::vector<std::string> ListedIds(const Queries& q,
                                   Result<Response> (Queries::*method)(const Request&) const,
                                   const Request& request, Items items,
                                   const std::string& (Item::*id)() const) {
  std::vector<std::string> ids;
  for (const Response& page : AllPages(q, method, request)) {
    for (const Item& item : items(page)) ids.push_back((item.*id)());
  }
  return ids;
}

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
    ASSERT_OK(page);
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
    ASSERT_OK(page);
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
    ASSERT_OK(page);
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
  ASSERT_OK(history);
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
  ASSERT_OK(use);
  ASSERT_EQ(use->rows_size(), 1);
  EXPECT_EQ(use->rows(0).used_g(), 100);
  EXPECT_EQ(use->rows(0).left_g(), 1'000'000 - 100);

  v1::ListOrgsRequest orgs;
  orgs.set_role(v1::ROLE_MINER);
  Result<v1::ListOrgsResponse> miners = q.ListOrgs(orgs);
  ASSERT_OK(miners);
  ASSERT_EQ(miners->orgs_size(), 1);
  EXPECT_EQ(miners->orgs(0).org_id(), "mineco");

  v1::ListSitesRequest sites;
  sites.set_kind(v1::SITE_KIND_MINE);
  sites.set_page_size(1);
  size_t mines = 0;
  while (true) {
    Result<v1::ListSitesResponse> page = q.ListSites(sites);
    ASSERT_OK(page);
    mines += page->sites_size();
    if (page->next_page_token().empty()) break;
    sites.set_page_token(page->next_page_token());
  }
  EXPECT_EQ(mines, 2u);

  v1::ListLicencesRequest lic;
  lic.set_applicant_org_id("exporter");
  lic.set_end_user(" acme ");
  Result<v1::ListLicencesResponse> licences = q.ListLicences(lic);
  ASSERT_OK(licences);
  ASSERT_EQ(licences->licences_size(), 1);

  v1::MatchingRestrictionsRequest match;
  match.set_licence_id("LIC");
  Result<v1::MatchingRestrictionsResponse> matching = q.MatchingRestrictions(match);
  ASSERT_OK(matching);
  ASSERT_EQ(matching->restrictions_size(), 1);
  EXPECT_EQ(matching->restrictions(0).restriction_id(), "R-REVIEW");

  v1::LicenceVerdictRequest verdict;
  verdict.set_applicant_org_id("exporter");
  *verdict.mutable_application() =
      Apply("", "DE", "ACME", v1::PRODUCT_FORM_SEPARATED_OXIDE, {v1::ELEMENT_ND}, 90)
          .apply_export_license();
  Result<v1::LicenceVerdictResponse> v = q.LicenceVerdict(verdict);
  ASSERT_OK(v);
  EXPECT_EQ(v->status(), v1::LICENCE_STATUS_PENDING_REVIEW);
  EXPECT_EQ(v->review_restriction_ids(0), "R-REVIEW");
  verdict.set_applicant_org_id("smelter");
  v = q.LicenceVerdict(verdict);
  ASSERT_OK(v);
  EXPECT_EQ(v->code(), v1::UNAUTHORIZED_ROLE);
  // The role check is the ledger's own (tx_kinds.h), with its words.
  EXPECT_NE(v->message().find("APPLY_EXPORT_LICENSE needs ROLE_EXPORTER"), std::string::npos)
      << v->message();

  // What a DENY on Acme would hit: the pending licence, then the exporter's oxide lot.
  v1::RestrictionImpactRequest impact;
  impact.mutable_match()->add_end_users("acme");
  impact.set_effect(v1::RESTRICTION_EFFECT_DENY);
  impact.set_page_size(1);
  std::vector<std::string> hit;
  while (true) {
    Result<v1::RestrictionImpactResponse> page = q.RestrictionImpact(impact);
    ASSERT_OK(page);
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
    ASSERT_OK(page);
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
  ASSERT_OK(el);
  ASSERT_EQ(el->rows_size(), 2);
  EXPECT_EQ(el->rows(0).key(), "ND");
  EXPECT_EQ(el->rows(0).reo_g(), 120);
  EXPECT_EQ(el->rows(1).reo_g(), 60);
  v1::ListExportsRequest list;
  list.set_destination_country("JP");
  Result<v1::ListExportsResponse> jp = q.ListExports(list);
  ASSERT_OK(jp);
  EXPECT_EQ(jp->exports_size(), 2);
}

// --- Lookups and plain lists that no other test calls --------------------------------------

TEST_F(QueriesTest, GetOrgAnswersTheRecordOrNotFound) {
  SetupCast();
  std::unique_ptr<storage::Snapshot> snap = store().GetSnapshot();
  Queries q(*snap);
  v1::GetOrgRequest req;
  req.set_org_id("smelter");
  Result<v1::GetOrgResponse> org = q.GetOrg(req);
  ASSERT_OK(org);
  EXPECT_EQ(org->org().org_id(), "smelter");
  EXPECT_EQ(org->org().kind(), v1::ORG_KIND_STATE_ENTERPRISE);
  ASSERT_EQ(org->org().roles_size(), 1);
  EXPECT_EQ(org->org().roles(0), v1::ROLE_SMELTER_SEPARATOR);
  EXPECT_EQ(org->org().status(), v1::ORG_STATUS_ACTIVE);
  EXPECT_EQ(org->org().quorum(), 1u);
  ASSERT_EQ(org->org().signatory_keys_size(), 1);
  EXPECT_EQ(org->org().signatory_keys(0), PublicKey("smelter"));

  req.set_org_id("nobody");
  Result<v1::GetOrgResponse> missing = q.GetOrg(req);
  EXPECT_EQ(missing.status().code(), Code::kNotFound);
  EXPECT_NE(missing.status().message().find("nobody"), std::string::npos);
}

TEST_F(QueriesTest, GetLicenceAnswersStatusAndExpiryOrNotFound) {
  SetupCast();
  Ok(Apply("LIC-P", "DE", "Acme", v1::PRODUCT_FORM_SEPARATED_OXIDE, {v1::ELEMENT_ND}, 100));
  Ok(Apply("LIC-G", "JP", "Bcme", v1::PRODUCT_FORM_MAGNET, {v1::ELEMENT_ND, v1::ELEMENT_PR}, 50));
  const uint64_t valid_until = time_ms() + 3500;  // after the next three blocks
  Ok(Decide("LIC-G", v1::DECISION_GRANT, valid_until));
  v1::RestrictionMatch kp;
  kp.add_countries("KP");
  Ok(Restrict("R-KP", kp, v1::RESTRICTION_EFFECT_DENY));
  Ok(Apply("LIC-D", "KP", "Ccme", v1::PRODUCT_FORM_SEPARATED_OXIDE, {v1::ELEMENT_ND}, 100));

  auto get = [&](const std::string& id) {
    std::unique_ptr<storage::Snapshot> snap = store().GetSnapshot();
    v1::GetLicenceRequest req;
    req.set_licence_id(id);
    return Queries(*snap).GetLicence(req);
  };
  Result<v1::GetLicenceResponse> pending = get("LIC-P");
  ASSERT_OK(pending);
  EXPECT_EQ(pending->licence().status(), v1::LICENCE_STATUS_PENDING);
  EXPECT_EQ(pending->licence().applicant_org_id(), "exporter");
  EXPECT_EQ(pending->licence().destination_country(), "DE");
  EXPECT_FALSE(pending->expired());

  Result<v1::GetLicenceResponse> granted = get("LIC-G");
  ASSERT_OK(granted);
  EXPECT_EQ(granted->licence().status(), v1::LICENCE_STATUS_GRANTED);
  EXPECT_EQ(granted->licence().valid_until_ms(), valid_until);
  ASSERT_EQ(granted->licence().elements_size(), 2);  // kept sorted
  EXPECT_EQ(granted->licence().elements(0), v1::ELEMENT_PR);
  EXPECT_EQ(granted->licence().elements(1), v1::ELEMENT_ND);
  EXPECT_FALSE(granted->expired());

  Result<v1::GetLicenceResponse> denied = get("LIC-D");
  ASSERT_OK(denied);
  EXPECT_EQ(denied->licence().status(), v1::LICENCE_STATUS_DENIED);
  EXPECT_EQ(denied->licence().denied_by_restriction_id(), "R-KP");
  EXPECT_FALSE(denied->expired());  // only a GRANTED licence expires

  Ok(Extract("L-TICK", "mine-a", 10, Comp({{v1::ELEMENT_CE, 1}})));  // a block passes
  ASSERT_GE(time_ms(), valid_until);
  granted = get("LIC-G");
  ASSERT_OK(granted);
  EXPECT_EQ(granted->licence().status(), v1::LICENCE_STATUS_GRANTED);
  EXPECT_TRUE(granted->expired());

  Result<v1::GetLicenceResponse> missing = get("LIC-NONE");
  EXPECT_EQ(missing.status().code(), Code::kNotFound);
  EXPECT_NE(missing.status().message().find("LIC-NONE"), std::string::npos);
}

TEST_F(QueriesTest, ListViolationsByTimeWithFiltersAcrossPages) {
  SetupCast();
  auto violation = [&](const std::string& id, const std::string& org, v1::ViolationKind kind) {
    v1::TxBody b = Body("miit");
    v1::RecordViolation* v = b.mutable_record_violation();
    v->set_violation_id(id);
    v->set_org_id(org);
    v->set_kind(kind);
    v->set_illegal_revenue_fen(1000);
    v->set_multiplier(5);
    v->set_fine_fen(5000);
    v->set_description("found in an audit");
    return b;
  };
  // Recorded in this order, one a block, so that time order is not id order.
  const std::vector<std::tuple<std::string, std::string, v1::ViolationKind>> recorded = {
      {"V-5", "mineco", v1::VIOLATION_KIND_ILLEGAL_MINING},
      {"V-1", "smelter", v1::VIOLATION_KIND_SMUGGLING},
      {"V-4", "mineco", v1::VIOLATION_KIND_FALSE_RECORD},
      {"V-2", "exporter", v1::VIOLATION_KIND_SMUGGLING},
      {"V-3", "mineco", v1::VIOLATION_KIND_SMUGGLING},
  };
  std::map<std::string, uint64_t> at;
  for (const auto& [id, org, kind] : recorded) {
    Ok(violation(id, org, kind));
    at[id] = time_ms();
  }
  std::unique_ptr<storage::Snapshot> snap = store().GetSnapshot();
  Queries q(*snap);
  auto list = [&](const v1::ListViolationsRequest& req) {
    return ListedIds(
        q, &Queries::ListViolations, req,
        [](const auto& p) -> const auto& { return p.violations(); }, &v1::Violation::violation_id);
  };
  using Ids = std::vector<std::string>;

  v1::ListViolationsRequest all;
  all.set_page_size(2);
  EXPECT_EQ(list(all), (Ids{"V-5", "V-1", "V-4", "V-2", "V-3"}));
  EXPECT_EQ(AllPages(q, &Queries::ListViolations, all).size(), 3u);

  v1::ListViolationsRequest mineco;
  mineco.set_org_id("mineco");
  mineco.set_page_size(1);
  EXPECT_EQ(list(mineco), (Ids{"V-5", "V-4", "V-3"}));

  v1::ListViolationsRequest smuggling;
  smuggling.set_kind(v1::VIOLATION_KIND_SMUGGLING);
  smuggling.set_page_size(2);
  EXPECT_EQ(list(smuggling), (Ids{"V-1", "V-2", "V-3"}));

  v1::ListViolationsRequest both = smuggling;
  both.set_org_id("mineco");
  EXPECT_EQ(list(both), (Ids{"V-3"}));

  v1::ListViolationsRequest period;  // [from, to): the third and the fourth
  period.set_from_time_ms(at["V-4"]);
  period.set_to_time_ms(at["V-3"]);
  period.set_page_size(1);
  EXPECT_EQ(list(period), (Ids{"V-4", "V-2"}));

  v1::ListViolationsRequest nobody;
  nobody.set_org_id("magnets");
  Result<v1::ListViolationsResponse> none = q.ListViolations(nobody);
  ASSERT_OK(none);
  EXPECT_EQ(none->violations_size(), 0);
  EXPECT_TRUE(none->next_page_token().empty());

  // The records are whole, and a token is only good with its own filters.
  Result<v1::ListViolationsResponse> first = q.ListViolations(mineco);
  ASSERT_OK(first);
  ASSERT_EQ(first->violations_size(), 1);
  EXPECT_EQ(first->violations(0).kind(), v1::VIOLATION_KIND_ILLEGAL_MINING);
  EXPECT_EQ(first->violations(0).fine_fen(), 5000);
  EXPECT_EQ(first->violations(0).time_ms(), at["V-5"]);
  v1::ListViolationsRequest other = smuggling;
  other.set_page_token(first->next_page_token());
  EXPECT_EQ(q.ListViolations(other).status().code(), Code::kInvalidArgument);
}

TEST_F(QueriesTest, ListTransferOffersByIdWithFiltersAcrossPages) {
  SetupCast();
  for (const char* lot : {"O1", "O2", "O3", "O4"})
    Ok(Extract(lot, "mine-a", 1000, Comp({{v1::ELEMENT_LA, 100}})));
  Transfer("mineco", "OF-c", {"O1"}, "smelter");   // accepted
  Ok(Offer("mineco", "OF-a", {"O2"}, "smelter"));  // open
  Ok(Offer("mineco", "OF-e", {"O3"}, "smelter"));  // rejected
  v1::TxBody reject = Body("smelter");
  reject.mutable_transfer_reject()->set_offer_id("OF-e");
  Ok(reject);
  Ok(Offer("mineco", "OF-f", {"O4"}, "smelter"));  // cancelled
  v1::TxBody cancel = Body("mineco");
  cancel.mutable_transfer_cancel()->set_offer_id("OF-f");
  Ok(cancel);
  Ok(Offer("smelter", "OF-d", {"O1"}, "mineco"));  // open, the other way
  std::unique_ptr<storage::Snapshot> snap = store().GetSnapshot();
  Queries q(*snap);
  auto list = [&](const v1::ListTransferOffersRequest& req) {
    return ListedIds(
        q, &Queries::ListTransferOffers, req,
        [](const auto& p) -> const auto& { return p.offers(); },
        &v1::TransferOfferRecord::offer_id);
  };
  using Ids = std::vector<std::string>;

  v1::ListTransferOffersRequest all;
  all.set_page_size(2);
  EXPECT_EQ(list(all), (Ids{"OF-a", "OF-c", "OF-d", "OF-e", "OF-f"}));
  v1::ListTransferOffersRequest from;
  from.set_from_org_id("mineco");
  from.set_page_size(1);
  EXPECT_EQ(list(from), (Ids{"OF-a", "OF-c", "OF-e", "OF-f"}));
  v1::ListTransferOffersRequest to;
  to.set_to_org_id("mineco");
  EXPECT_EQ(list(to), (Ids{"OF-d"}));
  const std::pair<v1::TransferStatus, Ids> by_status[] = {
      {v1::TRANSFER_STATUS_OPEN, {"OF-a", "OF-d"}},
      {v1::TRANSFER_STATUS_ACCEPTED, {"OF-c"}},
      {v1::TRANSFER_STATUS_REJECTED, {"OF-e"}},
      {v1::TRANSFER_STATUS_CANCELLED, {"OF-f"}},
  };
  for (const auto& [status, ids] : by_status) {
    v1::ListTransferOffersRequest req;
    req.set_status(status);
    req.set_page_size(1);
    EXPECT_EQ(list(req), ids) << v1::TransferStatus_Name(status);
  }
  v1::ListTransferOffersRequest open_from = from;
  open_from.set_status(v1::TRANSFER_STATUS_OPEN);
  EXPECT_EQ(list(open_from), (Ids{"OF-a"}));

  Result<v1::ListTransferOffersResponse> open = q.ListTransferOffers(open_from);
  ASSERT_OK(open);
  ASSERT_EQ(open->offers_size(), 1);
  EXPECT_EQ(open->offers(0).to_org_id(), "smelter");
  ASSERT_EQ(open->offers(0).lot_ids_size(), 1);
  EXPECT_EQ(open->offers(0).lot_ids(0), "O2");
}

TEST_F(QueriesTest, ListRestrictionsByIdWithFiltersAcrossPages) {
  SetupCast();
  auto match = [](const std::string& country) {
    v1::RestrictionMatch m;
    m.add_countries(country);
    return m;
  };
  Ok(Restrict("R-3", match("KP"), v1::RESTRICTION_EFFECT_DENY));    // in force
  Ok(Restrict("R-1", match("IR"), v1::RESTRICTION_EFFECT_REVIEW));  // in force
  Ok(Restrict("R-4", match("SY"), v1::RESTRICTION_EFFECT_DENY));    // lifted below
  v1::TxBody lift = Body("mofcom");
  lift.mutable_lift_export_restriction()->set_restriction_id("R-4");
  lift.mutable_lift_export_restriction()->set_reason("settled");
  Ok(lift);
  v1::TxBody later = Restrict("R-2", match("CU"), v1::RESTRICTION_EFFECT_DENY);  // not yet
  later.mutable_set_export_restriction()->set_effective_from_ms(time_ms() + 1'000'000);
  Ok(later);
  v1::TxBody brief = Restrict("R-5", match("VE"), v1::RESTRICTION_EFFECT_REVIEW);  // over
  brief.mutable_set_export_restriction()->set_effective_until_ms(time_ms() + 1500);
  Ok(brief);
  Ok(Extract("L-TICK", "mine-a", 10, Comp({{v1::ELEMENT_CE, 1}})));  // R-5 ends
  std::unique_ptr<storage::Snapshot> snap = store().GetSnapshot();
  Queries q(*snap);
  auto list = [&](const v1::ListRestrictionsRequest& req) {
    return ListedIds(
        q, &Queries::ListRestrictions, req,
        [](const auto& p) -> const auto& { return p.restrictions(); },
        &v1::Restriction::restriction_id);
  };
  using Ids = std::vector<std::string>;

  v1::ListRestrictionsRequest all;
  all.set_page_size(2);
  EXPECT_EQ(list(all), (Ids{"R-1", "R-2", "R-3", "R-4", "R-5"}));
  v1::ListRestrictionsRequest active;
  active.set_active_only(true);
  active.set_page_size(1);
  EXPECT_EQ(list(active), (Ids{"R-1", "R-3"}));
  v1::ListRestrictionsRequest deny;
  deny.set_effect(v1::RESTRICTION_EFFECT_DENY);
  deny.set_page_size(1);
  EXPECT_EQ(list(deny), (Ids{"R-2", "R-3", "R-4"}));
  v1::ListRestrictionsRequest active_review = active;
  active_review.set_effect(v1::RESTRICTION_EFFECT_REVIEW);
  EXPECT_EQ(list(active_review), (Ids{"R-1"}));

  v1::ListRestrictionsRequest one;
  one.set_effect(v1::RESTRICTION_EFFECT_DENY);
  one.set_page_size(3);
  Result<v1::ListRestrictionsResponse> page = q.ListRestrictions(one);
  ASSERT_OK(page);
  ASSERT_EQ(page->restrictions_size(), 3);
  EXPECT_FALSE(page->restrictions(1).lifted());
  EXPECT_TRUE(page->restrictions(2).lifted());
  EXPECT_EQ(page->restrictions(1).match().countries(0), "KP");
  // A token is only good with its own filters.
  v1::ListRestrictionsRequest first = deny;
  Result<v1::ListRestrictionsResponse> first_page = q.ListRestrictions(first);
  ASSERT_OK(first_page);
  ASSERT_FALSE(first_page->next_page_token().empty());
  active.set_page_token(first_page->next_page_token());
  EXPECT_EQ(q.ListRestrictions(active).status().code(), Code::kInvalidArgument);
}

// --- The scan limit ---------------------------------------------------------------------------

// Exports enough that a pass of ExportStats spans many pages under a small scan limit:
// 200 oxide lots of three compositions, cleared against licences of 16 end users (three
// with names of nearly the longest text, and one written two ways) in 7 countries.
class ManyExportsTest : public QueriesTest {
 protected:
  static constexpr int kExports = 200;

  void SetUp() override {
    SetupCast();
    Ok(Extract("ORE", "mine-a", 1'000'000, Comp({{v1::ELEMENT_PR, 3000}, {v1::ELEMENT_ND, 7000}})));
    Transfer("mineco", "OF-ORE", {"ORE"}, "smelter");
    std::vector<Out> outs;
    for (int i = 0; i < kExports; ++i) {
      const v1::Composition comp = i % 3 == 0   ? Comp({{v1::ELEMENT_PR, 10}, {v1::ELEMENT_ND, 20}})
                                   : i % 3 == 1 ? Comp({{v1::ELEMENT_ND, 30}})
                                                : Comp({{v1::ELEMENT_PR, 25}});
      outs.push_back({LotId(i), v1::PRODUCT_FORM_SEPARATED_OXIDE, 100, comp});
    }
    Ok(Process("smelter", {"ORE"}, outs));
    std::vector<std::string> ids;
    for (const Out& o : outs) ids.push_back(o.id);
    Transfer("smelter", "OF-OX", ids, "exporter");

    const char* countries[] = {"DE", "JP", "US", "FR", "KR", "IN", "BR"};
    const v1::Industry industries[] = {v1::INDUSTRY_AUTOMOTIVE_EV, v1::INDUSTRY_WIND_ENERGY,
                                       v1::INDUSTRY_ELECTRONICS};
    std::vector<v1::TxBody> apply, grant;
    for (int l = 0; l < kLicences; ++l) {
      apply.push_back(Apply(LicenceId(l), countries[l % 7], EndUser(l),
                            v1::PRODUCT_FORM_SEPARATED_OXIDE, {v1::ELEMENT_PR, v1::ELEMENT_ND},
                            100 * kExports, industries[l % 3]));
      grant.push_back(Decide(LicenceId(l), v1::DECISION_GRANT, time_ms() + 1'000'000'000));
    }
    for (const v1::TxResult& r : Block(apply)) ASSERT_EQ(r.code(), v1::OK) << r.message();
    for (const v1::TxResult& r : Block(grant)) ASSERT_EQ(r.code(), v1::OK) << r.message();
    for (int b = 0; b < kExports; b += 50) {
      std::vector<v1::TxBody> clear;
      for (int i = b; i < b + 50; ++i) clear.push_back(Clear(LicenceId(i % kLicences), {LotId(i)}));
      for (const v1::TxResult& r : Block(clear)) ASSERT_EQ(r.code(), v1::OK) << r.message();
    }
  }

  static constexpr int kLicences = 17;
  static std::string LotId(int i) { return "OX-" + std::to_string(1000 + i); }
  static std::string LicenceId(int l) { return "LIC-" + std::to_string(100 + l); }
  // Licences 3 and 16 name one end user, written two ways.
  static std::string EndUser(int l) {
    if (l == 16) return "  user 03 ";
    if (l >= 13) return std::string(990, static_cast<char>('a' + l)) + " Corp";
    return (l < 10 ? "User 0" : "User ") + std::to_string(l);
  }

  // Every page of ExportStats with `limits`; each page checked against the scan limit
  // and the token limit.
  std::vector<v1::ExportStatsRow> Rows(const v1::ExportStatsRequest& request, QueryLimits limits,
                                       size_t* pages = nullptr) {
    std::unique_ptr<storage::Snapshot> snap = store().GetSnapshot();
    CountingView view(*snap);
    Queries q(view, limits);
    std::vector<v1::ExportStatsRow> rows;
    v1::ExportStatsRequest req = request;
    for (size_t page = 1; page <= 10000; ++page) {
      view.Reset();
      Result<v1::ExportStatsResponse> answer = q.ExportStats(req);
      EXPECT_OK(answer);
      if (!answer.ok()) break;
      EXPECT_LE(view.moves(), limits.page_keys_scanned_max) << "page " << page;
      EXPECT_LE(view.gets(), limits.page_keys_scanned_max) << "page " << page;
      EXPECT_LE(answer->next_page_token().size(), limits::query_page_token_bytes_max);
      EXPECT_LE(static_cast<uint32_t>(answer->rows_size()),
                req.page_size() == 0 ? limits::query_page_size_default : req.page_size());
      for (const v1::ExportStatsRow& row : answer->rows()) rows.push_back(row);
      if (pages != nullptr) *pages = page;
      if (answer->next_page_token().empty()) return rows;
      req.set_page_token(answer->next_page_token());
    }
    ADD_FAILURE() << "ExportStats does not end";
    return rows;
  }
};

TEST_F(ManyExportsTest, ExportStatsPagesAgreeWithOnePassAndStayWithinTheScanLimit) {
  const v1::ExportGroupBy groupings[] = {v1::EXPORT_GROUP_BY_END_USER, v1::EXPORT_GROUP_BY_COUNTRY,
                                         v1::EXPORT_GROUP_BY_INDUSTRY, v1::EXPORT_GROUP_BY_ELEMENT};
  for (v1::ExportGroupBy by : groupings) {
    SCOPED_TRACE(v1::ExportGroupBy_Name(by));
    v1::ExportStatsRequest req;
    req.set_group_by(by);
    req.set_page_size(1000);
    // One pass, one page: the reference.
    const std::vector<v1::ExportStatsRow> whole = Rows(req, QueryLimits{});
    ASSERT_FALSE(whole.empty());
    uint64_t count = 0;
    int64_t reo = 0;
    for (size_t i = 0; i < whole.size(); ++i) {
      count += whole[i].export_count();
      reo += whole[i].reo_g();
    }
    // 67 x 30 + 67 x 30 + 66 x 25 grams of REO; by element an export counts once per element.
    EXPECT_EQ(count, by == v1::EXPORT_GROUP_BY_ELEMENT ? kExports + 67u : kExports + 0u);
    EXPECT_EQ(reo, 67 * 30 + 67 * 30 + 66 * 25);

    struct Case {
      size_t scan_limit;
      uint32_t page_size;
    };
    for (Case c : {Case{25, 4}, Case{7, 2}, Case{25, 1000}, Case{1, 5}, Case{300, 1}}) {
      SCOPED_TRACE("scan limit " + std::to_string(c.scan_limit) + ", page size " +
                   std::to_string(c.page_size));
      req.set_page_size(c.page_size);
      size_t pages = 0;
      const std::vector<v1::ExportStatsRow> paged = Rows(req, QueryLimits{c.scan_limit}, &pages);
      ASSERT_EQ(paged.size(), whole.size());
      for (size_t i = 0; i < whole.size(); ++i) {
        EXPECT_EQ(paged[i].SerializeAsString(), whole[i].SerializeAsString())
            << i << ": " << paged[i].key().substr(0, 20) << " / " << whole[i].key().substr(0, 20);
      }
      // Each pass reads all 200 exports: at least that many pages of the limit.
      const size_t passes = (whole.size() + c.page_size - 1) / c.page_size;
      EXPECT_GE(pages, passes * (kExports / c.scan_limit));
    }
  }
}

TEST_F(ManyExportsTest, ExportStatsEndUsersAreGroupedAsFirstRecordedAndFiltersHold) {
  v1::ExportStatsRequest req;
  req.set_group_by(v1::EXPORT_GROUP_BY_END_USER);
  const std::vector<v1::ExportStatsRow> rows = Rows(req, QueryLimits{13});
  ASSERT_EQ(rows.size(), 16u);  // 17 licences, two of one end user
  for (size_t i = 1; i < rows.size(); ++i) {
    EXPECT_LT(NormalizeName(rows[i - 1].key()), NormalizeName(rows[i].key()));
  }
  const auto user03 = std::find_if(rows.begin(), rows.end(), [](const v1::ExportStatsRow& r) {
    return NormalizeName(r.key()) == "user 03";
  });
  ASSERT_NE(user03, rows.end());
  EXPECT_EQ(user03->key(), "User 03");           // as first recorded, not "  user 03 "
  EXPECT_EQ(user03->export_count(), 12u + 11u);  // the exports of licences 3 and 16

  // Filters and a period under a small limit agree with the same under the default one.
  v1::ExportStatsRequest filtered;
  filtered.set_group_by(v1::EXPORT_GROUP_BY_COUNTRY);
  filtered.set_element(v1::ELEMENT_PR);
  filtered.set_industry(v1::INDUSTRY_WIND_ENERGY);
  filtered.set_page_size(2);
  const std::vector<v1::ExportStatsRow> reference = Rows(filtered, QueryLimits{});
  const std::vector<v1::ExportStatsRow> small = Rows(filtered, QueryLimits{9});
  ASSERT_EQ(small.size(), reference.size());
  for (size_t i = 0; i < small.size(); ++i)
    EXPECT_EQ(small[i].SerializeAsString(), reference[i].SerializeAsString());
  EXPECT_FALSE(reference.empty());

  // A token from a pass in progress is only good with its own filters.
  std::unique_ptr<storage::Snapshot> snap = store().GetSnapshot();
  Queries q(*snap, QueryLimits{10});
  Result<v1::ExportStatsResponse> first = q.ExportStats(filtered);
  ASSERT_OK(first);
  EXPECT_EQ(first->rows_size(), 0);  // 10 of 200 exports read: the pass goes on
  ASSERT_FALSE(first->next_page_token().empty());
  req.set_page_token(first->next_page_token());
  EXPECT_EQ(q.ExportStats(req).status().code(), Code::kInvalidArgument);
}

TEST_F(QueriesTest, RestrictionImpactPagesAgreeWithOnePageAndStayWithinTheScanLimit) {
  SetupCast();
  v1::RegisterOrg second =
      Org("exporter2", v1::ORG_KIND_PRIVATE_ENTERPRISE, {v1::ROLE_EXPORTER}, *this);
  v1::TxBody reg = Body("miit");
  *reg.mutable_register_org() = second;
  Ok(reg);
  Ok(Extract("ORE", "mine-a", 100'000, Comp({{v1::ELEMENT_PR, 3000}, {v1::ELEMENT_ND, 7000}})));
  Transfer("mineco", "OF-ORE", {"ORE"}, "smelter");
  std::vector<Out> outs;
  std::vector<std::string> to_first, to_second;
  for (int i = 0; i < 40; ++i) {
    const std::string id = "OX-" + std::to_string(100 + i);
    outs.push_back({id, v1::PRODUCT_FORM_SEPARATED_OXIDE, 100,
                    i % 3 != 2 ? Comp({{v1::ELEMENT_ND, 30}}) : Comp({{v1::ELEMENT_PR, 25}})});
    (i < 20 ? to_first : to_second).push_back(id);
  }
  Ok(Process("smelter", {"ORE"}, outs));
  Transfer("smelter", "OF-1", to_first, "exporter");
  Transfer("smelter", "OF-2", to_second, "exporter2");
  Ok(Apply("LIC-A1", "DE", "Acme", v1::PRODUCT_FORM_SEPARATED_OXIDE, {v1::ELEMENT_ND}, 100));
  Ok(Apply("LIC-A2", "JP", "Other", v1::PRODUCT_FORM_SEPARATED_OXIDE, {v1::ELEMENT_ND}, 100));
  Ok(Apply("LIC-B1", "DE", " ACME", v1::PRODUCT_FORM_SEPARATED_OXIDE,
           {v1::ELEMENT_ND, v1::ELEMENT_PR}, 100, v1::INDUSTRY_AUTOMOTIVE_EV, "exporter2"));
  Ok(Decide("LIC-B1", v1::DECISION_GRANT, time_ms() + 1'000'000'000));

  v1::RestrictionImpactRequest req;
  req.mutable_match()->add_end_users("acme");
  req.mutable_match()->add_elements(v1::ELEMENT_ND);
  req.set_effect(v1::RESTRICTION_EFFECT_DENY);
  req.set_revoke_outstanding(true);
  auto walk = [&](QueryLimits limits, uint32_t page_size) {
    std::unique_ptr<storage::Snapshot> snap = store().GetSnapshot();
    CountingView view(*snap);
    Queries q(view, limits);
    v1::RestrictionImpactRequest r = req;
    r.set_page_size(page_size);
    std::vector<std::string> hit;
    for (int page = 1; page <= 10000; ++page) {
      view.Reset();
      Result<v1::RestrictionImpactResponse> answer = q.RestrictionImpact(r);
      EXPECT_OK(answer);
      if (!answer.ok()) break;
      EXPECT_LE(view.moves(), limits.page_keys_scanned_max) << "page " << page;
      EXPECT_LE(view.gets(), limits.page_keys_scanned_max) << "page " << page;
      EXPECT_LE(static_cast<uint32_t>(answer->licences_size() + answer->lots_size()), page_size);
      for (const auto& l : answer->licences()) {
        hit.push_back("licence:" + l.licence().licence_id() + (l.would_revoke() ? " revoke" : ""));
      }
      for (const auto& lot : answer->lots()) hit.push_back("lot:" + lot.lot_id());
      if (answer->next_page_token().empty()) return hit;
      r.set_page_token(answer->next_page_token());
    }
    ADD_FAILURE() << "RestrictionImpact does not end";
    return hit;
  };
  // The matched licences, then every Nd lot of both applicants: runs of two, so that a
  // page that ends on one of a run must not lose the next.
  std::vector<std::string> expected = {"licence:LIC-A1", "licence:LIC-B1 revoke"};
  for (int i = 0; i < 40; ++i) {
    if (i % 3 != 2) expected.push_back("lot:OX-" + std::to_string(100 + i));
  }
  EXPECT_EQ(walk(QueryLimits{}, 1000), expected);
  for (auto [scan_limit, page_size] :
       {std::pair<size_t, uint32_t>{1, 3}, {3, 2}, {5, 1}, {50, 7}, {1000, 1}}) {
    SCOPED_TRACE("scan limit " + std::to_string(scan_limit) + ", page size " +
                 std::to_string(page_size));
    EXPECT_EQ(walk(QueryLimits{scan_limit}, page_size), expected);
  }
}

}  // namespace
}  // namespace reel::ledger::testing
