// Queries: the reel.v1 Api read methods, answered from the ledger's state records and
// indexes (docs/LEDGER.md) in one committed snapshot, never by scanning the chain.
//
// What it promises
//   - Every answer reads only the ReadView it was given, which should be a Snapshot
//     (one committed height).
//   - Lists page as proto/README.md "Paging" says: page_size 0 is the default,
//     above the maximum it is clamped; the token is opaque (a version byte, a
//     fingerprint of the request's filters, and where the list left off: docs/LEDGER.md
//     says what for each); a page also stops after QueryLimits::page_keys_scanned_max
//     iterator moves (each with at most one record read), so a selective filter costs
//     bounded work per page and may return fewer items, even none, with a token. Beside
//     the limit: a few fixed reads (Holdings' summaries, a month's totals), MassBalance's
//     totals (the organisation's flows in the period), and TraceLot, bounded by nodes.
//   - Memory is bounded by the page: no answer loads an unbounded result. TraceLot
//     holds at most limits::query_trace_nodes_max nodes.
//   - Tokens are at most limits::query_page_token_bytes_max bytes.
//   - Graphviz output is not the ledger's: TraceLotRequest.include_dot is left to the
//     API (node/api/trace_dot.h), and TraceLotResponse.dot stays empty here.
//
// Failure: NotFound for a named record that does not exist, InvalidArgument for a bad
// request or token, ResourceExhausted for a trace beyond the server's node limit, and
// the store's Status for a read error. Thread-safety: a Queries is immutable; many
// threads may use one at once if the view allows it (a Snapshot does).
#pragma once

#include "base/limits.h"
#include "base/status.h"
#include "node/storage/kv.h"
#include "reel/v1/api.pb.h"

namespace reel::ledger {

namespace v1 = ::reel::v1;

// The work one page may do. The node uses the defaults; tests make them small to page
// through many passes with little data.
struct QueryLimits {
  size_t page_keys_scanned_max = limits::query_page_keys_scanned_max;  // at least 1
};

class Queries {
 public:
  explicit Queries(const storage::ReadView& view, QueryLimits limits = {});

  Result<v1::GetOrgResponse> GetOrg(const v1::GetOrgRequest& request) const;
  Result<v1::ListOrgsResponse> ListOrgs(const v1::ListOrgsRequest& request) const;
  Result<v1::ListSitesResponse> ListSites(const v1::ListSitesRequest& request) const;

  Result<v1::GetLotResponse> GetLot(const v1::GetLotRequest& request) const;
  // Oldest first: by height, then position in the block.
  Result<v1::LotHistoryResponse> LotHistory(const v1::LotHistoryRequest& request) const;
  // Breadth first from the lot; a page counts nodes (docs/LEDGER.md, "Trace").
  Result<v1::TraceLotResponse> TraceLot(const v1::TraceLotRequest& request) const;
  Result<v1::HoldingsResponse> Holdings(const v1::HoldingsRequest& request) const;
  Result<v1::ListTransferOffersResponse> ListTransferOffers(
      const v1::ListTransferOffersRequest& request) const;

  Result<v1::QuotaUseResponse> QuotaUse(const v1::QuotaUseRequest& request) const;

  Result<v1::GetLicenceResponse> GetLicence(const v1::GetLicenceRequest& request) const;
  Result<v1::ListLicencesResponse> ListLicences(const v1::ListLicencesRequest& request) const;
  Result<v1::MatchingRestrictionsResponse> MatchingRestrictions(
      const v1::MatchingRestrictionsRequest& request) const;
  // Licences first (by id), then the lots of their applicants (by organisation, lot id).
  // Every key it reads, the organisations' and their licences' included, counts
  // against the page's scan limit.
  Result<v1::RestrictionImpactResponse> RestrictionImpact(
      const v1::RestrictionImpactRequest& request) const;
  Result<v1::LicenceVerdictResponse> LicenceVerdict(const v1::LicenceVerdictRequest& request) const;
  Result<v1::ListRestrictionsResponse> ListRestrictions(
      const v1::ListRestrictionsRequest& request) const;

  // Groups by key. A pass reads the exports of the period once and keeps only the
  // page's groups (the page_size smallest keys after the cursor): memory O(page_size).
  // A pass longer than a page's scan limit spans pages: those before its end hold no
  // rows, and their token carries the pass (docs/LEDGER.md).
  Result<v1::ExportStatsResponse> ExportStats(const v1::ExportStatsRequest& request) const;
  Result<v1::ListExportsResponse> ListExports(const v1::ListExportsRequest& request) const;
  // Totals over the period (read from the organisation's flow index: work grows with
  // its flows in the period), outliers paged by time.
  Result<v1::MassBalanceResponse> MassBalance(const v1::MassBalanceRequest& request) const;
  // Totals of the month from its aggregates (a few keys), entries paged by time.
  Result<v1::MonthlyFlowReportResponse> MonthlyFlowReport(
      const v1::MonthlyFlowReportRequest& request) const;
  Result<v1::ListViolationsResponse> ListViolations(const v1::ListViolationsRequest& request) const;

  // Validator-set changes by change_id (their state key, so the order never depends on
  // when they were proposed or decided), filtered by status; every page also carries the
  // governance and the current set, read from the same snapshot.
  Result<v1::ListValidatorChangesResponse> ListValidatorChanges(
      const v1::ListValidatorChangesRequest& request) const;
  Result<v1::GetValidatorChangeResponse> GetValidatorChange(
      const v1::GetValidatorChangeRequest& request) const;

 private:
  const storage::ReadView& view_;
  QueryLimits limits_;
};

}  // namespace reel::ledger
