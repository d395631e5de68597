#include "node/ledger/queries.h"

#include <algorithm>
#include <deque>
#include <limits>
#include <map>
#include <optional>

#include "base/assert.h"
#include "base/bytes.h"
#include "base/limits.h"
#include "node/ledger/exec.h"
#include "node/ledger/ledger.h"
#include "node/ledger/paging.h"
#include "node/ledger/state.h"
#include "node/ledger/tx_kinds.h"
#include "node/ledger/validators.h"

namespace reel::ledger {
namespace {

using layout::IndexTag;
using layout::StateTag;
using paging::Guarded;
using paging::KeyRange;
using paging::Page;
using paging::ScanBudget;
using paging::Visit;

// Every record of one kind, and every entry of one index.
KeyRange Records(StateTag tag) {
  return KeyRange::Prefix(layout::StatePrefix(tag));
}
KeyRange Entries(IndexTag tag) {
  return KeyRange::Prefix(layout::IndexPrefix(tag));
}

template <typename M>
M ParseValue(std::string_view key, std::string_view value) {
  M m;
  ParseOrThrow(value, &m, key);
  return m;
}

template <typename M>
std::optional<M> ReadRecord(const storage::ReadView& view, const std::string& key) {
  std::optional<std::string> bytes = GetOrThrow(view, key);
  if (!bytes.has_value()) return std::nullopt;
  return ParseValue<M>(key, *bytes);
}

uint64_t LastBlockTime(const storage::ReadView& view) {
  Result<uint64_t> t = ExecutedTimeMs(view);
  if (!t.ok()) throw StorageFault{t.status()};
  return *t;
}

bool InPeriod(uint64_t t, uint64_t from, uint64_t to) {
  return t >= from && (to == 0 || t < to);
}

Status CheckOrgExists(const storage::ReadView& view, const std::string& org_id) {
  if (GetOrThrow(view, layout::OrgKey(org_id)).has_value()) return Status::Ok();
  return Status::NotFound("organisation '" + org_id + "' is not registered");
}

// --- Trace -----------------------------------------------------------------------------------

struct TraceGraph {
  enum Way : uint8_t { kUp = 1, kDown = 2 };
  struct Pending {
    std::string node_id;
    std::string lot_id;  // empty for non-lot nodes: they are not expanded
    uint32_t depth;
    uint8_t ways;
  };
  std::map<std::string, size_t> index;  // node id -> BFS position
  std::vector<v1::TraceNode> nodes;
  std::vector<std::pair<size_t, v1::TraceEdge>> edges;  // (max endpoint position, edge)
  size_t limit = 0;

  // Adds a node if new; returns its position.
  size_t Add(v1::TraceNode node) {
    auto [it, fresh] = index.emplace(node.node_id(), nodes.size());
    if (fresh) nodes.push_back(std::move(node));
    return it->second;
  }
  void Edge(size_t a, size_t b, v1::TraceEdge edge) {
    edges.emplace_back(std::max(a, b), std::move(edge));
  }
};

v1::TraceNode LotNode(const v1::Lot& lot, uint32_t depth) {
  v1::TraceNode n;
  n.set_node_id("lot:" + lot.lot_id());
  n.set_kind(v1::TRACE_NODE_KIND_LOT);
  n.set_label(lot.lot_id() + "\\n" + FormName(lot.product()) + " " + std::to_string(lot.reo_g()) +
              " g REO");
  n.set_depth(depth);
  n.set_lot_id(lot.lot_id());
  n.set_product(lot.product());
  n.set_mass_g(lot.mass_g());
  n.set_reo_g(lot.reo_g());
  n.set_status(lot.status());
  n.set_org_id(lot.holder_org_id());
  n.set_site_id(lot.site_id());
  n.set_licence_id(lot.licence_id());
  return n;
}

v1::TraceEdge MakeEdge(const std::string& from, const std::string& to, v1::TraceEdgeKind kind,
                       int64_t reo, const std::string& tx_id) {
  v1::TraceEdge e;
  e.set_from_node_id(from);
  e.set_to_node_id(to);
  e.set_kind(kind);
  e.set_reo_g(reo);
  e.set_tx_id(tx_id);
  return e;
}

class Tracer {
 public:
  Tracer(const storage::ReadView& view, uint32_t depth_max, size_t stop_after)
      : view_(view), depth_max_(depth_max), stop_after_(stop_after) {}

  // Walks breadth first until `stop_after` nodes have been expanded.
  Status Run(const v1::Lot& start, uint8_t ways) {
    std::deque<TraceGraph::Pending> queue;
    g_.Add(LotNode(start, 0));
    queue.push_back({"lot:" + start.lot_id(), start.lot_id(), 0, ways});
    size_t expanded = 0;
    while (!queue.empty() && expanded < stop_after_) {
      TraceGraph::Pending p = std::move(queue.front());
      queue.pop_front();
      ++expanded;
      if (p.lot_id.empty() || (depth_max_ != 0 && p.depth >= depth_max_)) continue;
      std::optional<v1::Lot> lot = ReadRecord<v1::Lot>(view_, layout::LotKey(p.lot_id));
      if (!lot.has_value()) return Status::Corruption("trace reaches a missing lot " + p.lot_id);
      if (p.ways & TraceGraph::kUp) Up(*lot, p, &queue);
      if (p.ways & TraceGraph::kDown) Down(*lot, p, &queue);
      if (g_.nodes.size() > limits::query_trace_nodes_max) {
        return Status::ResourceExhausted("the trace has more than " +
                                         std::to_string(limits::query_trace_nodes_max) +
                                         " nodes; narrow it with depth_max or one direction");
      }
    }
    return Status::Ok();
  }
  TraceGraph& graph() { return g_; }

 private:
  void Up(const v1::Lot& lot, const TraceGraph::Pending& p,
          std::deque<TraceGraph::Pending>* queue) {
    const size_t self = g_.index.at(p.node_id);
    if (lot.parents().empty()) {
      v1::TraceNode n;
      n.set_depth(p.depth + 1);
      n.set_lot_id(lot.lot_id());
      v1::TraceEdgeKind kind;
      if (lot.has_origin() && !lot.origin().country().empty()) {
        n.set_node_id("import:" + lot.lot_id());
        n.set_kind(v1::TRACE_NODE_KIND_IMPORT);
        n.set_country(lot.origin().country());
        n.set_label("import from " + lot.origin().country() + "\\n" + lot.origin().supplier());
        kind = v1::TRACE_EDGE_KIND_IMPORTED;
      } else {
        n.set_node_id("site:" + lot.site_id());
        n.set_kind(v1::TRACE_NODE_KIND_MINE);
        n.set_site_id(lot.site_id());
        std::optional<v1::Site> site = ReadRecord<v1::Site>(view_, layout::SiteKey(lot.site_id()));
        if (site.has_value()) n.set_org_id(site->org_id());
        n.set_label("mine " + lot.site_id() + (site.has_value() ? "\\n" + site->province() : ""));
        kind = v1::TRACE_EDGE_KIND_EXTRACTED;
      }
      const std::string id = n.node_id();
      const size_t at = g_.Add(std::move(n));
      g_.Edge(at, self, MakeEdge(id, p.node_id, kind, lot.reo_g(), lot.created_tx_id()));
      return;
    }
    for (const v1::LotParent& parent : lot.parents()) {
      std::optional<v1::Lot> up = ReadRecord<v1::Lot>(view_, layout::LotKey(parent.lot_id()));
      if (!up.has_value()) continue;
      const std::string id = "lot:" + up->lot_id();
      const bool fresh = !g_.index.count(id);
      const size_t at = g_.Add(LotNode(*up, p.depth + 1));
      g_.Edge(at, self,
              MakeEdge(id, p.node_id, EdgeKind(*up, lot), parent.reo_g(), lot.created_tx_id()));
      if (fresh) queue->push_back({id, up->lot_id(), p.depth + 1, TraceGraph::kUp});
    }
  }

  void Down(const v1::Lot& lot, const TraceGraph::Pending& p,
            std::deque<TraceGraph::Pending>* queue) {
    const size_t self = g_.index.at(p.node_id);
    const std::string prefix = layout::ChildPrefix(lot.lot_id());
    std::vector<std::string> children;
    Status s = storage::ScanPrefix(view_, prefix, [&](std::string_view key, std::string_view) {
      children.emplace_back(key.substr(prefix.size()));
      return children.size() < limits::ledger_tx_lots_max;  // one transaction's outputs
    });
    if (!s.ok()) throw StorageFault{s};
    for (const std::string& child_id : children) {
      std::optional<v1::Lot> child = ReadRecord<v1::Lot>(view_, layout::LotKey(child_id));
      if (!child.has_value()) continue;
      int64_t reo = 0;
      for (const v1::LotParent& parent : child->parents()) {
        if (parent.lot_id() == lot.lot_id()) reo = parent.reo_g();
      }
      const std::string id = "lot:" + child_id;
      const bool fresh = !g_.index.count(id);
      const size_t at = g_.Add(LotNode(*child, p.depth + 1));
      g_.Edge(self, at,
              MakeEdge(p.node_id, id, EdgeKind(lot, *child), reo, child->created_tx_id()));
      if (fresh) queue->push_back({id, child_id, p.depth + 1, TraceGraph::kDown});
    }
    if (lot.status() == v1::LOT_STATUS_EXPORTED) {
      std::optional<std::string> tx = GetOrThrow(view_, layout::LotExportKey(lot.lot_id()));
      if (!tx.has_value()) return;
      std::optional<v1::ExportRecord> x =
          ReadRecord<v1::ExportRecord>(view_, layout::ExportKey(*tx));
      v1::TraceNode n;
      n.set_node_id("export:" + ToHex(*tx));
      n.set_kind(v1::TRACE_NODE_KIND_EXPORT);
      n.set_depth(p.depth + 1);
      if (x.has_value()) {
        n.set_org_id(x->exporter_org_id());
        n.set_country(x->destination_country());
        n.set_licence_id(x->licence_id());
        n.set_label("export to " + x->destination_country() + "\\n" + x->end_user());
      }
      const std::string id = n.node_id();
      const size_t at = g_.Add(std::move(n));
      g_.Edge(self, at, MakeEdge(p.node_id, id, v1::TRACE_EDGE_KIND_EXPORTED, lot.reo_g(), *tx));
    } else if (lot.status() != v1::LOT_STATUS_CONSUMED) {
      v1::TraceNode n;
      n.set_node_id("org:" + lot.holder_org_id());
      n.set_kind(v1::TRACE_NODE_KIND_HOLDER);
      n.set_org_id(lot.holder_org_id());
      n.set_label(lot.holder_org_id());
      n.set_depth(p.depth + 1);
      const std::string id = n.node_id();
      const size_t at = g_.Add(std::move(n));
      g_.Edge(self, at, MakeEdge(p.node_id, id, v1::TRACE_EDGE_KIND_HELD_BY, lot.reo_g(), ""));
    }
  }

  // A single parent of the same form is a split; anything else a transformation.
  static v1::TraceEdgeKind EdgeKind(const v1::Lot& parent, const v1::Lot& child) {
    return child.parents_size() == 1 && parent.product() == child.product()
               ? v1::TRACE_EDGE_KIND_SPLIT
               : v1::TRACE_EDGE_KIND_PROCESSED;
  }

  const storage::ReadView& view_;
  uint32_t depth_max_;
  size_t stop_after_;
  TraceGraph g_;
};

}  // namespace

Queries::Queries(const storage::ReadView& view, QueryLimits limits) : view_(view), limits_(limits) {
  // A page that may read nothing could never move on.
  REEL_ASSERT(limits_.page_keys_scanned_max >= 1);
}

// --- Organisations and sites ---------------------------------------------------------------

Result<v1::GetOrgResponse> Queries::GetOrg(const v1::GetOrgRequest& request) const {
  return Guarded([&]() -> Result<v1::GetOrgResponse> {
    std::optional<v1::Org> org = ReadRecord<v1::Org>(view_, layout::OrgKey(request.org_id()));
    if (!org.has_value())
      return Status::NotFound("organisation '" + request.org_id() + "' is not registered");
    v1::GetOrgResponse out;
    *out.mutable_org() = std::move(*org);
    return out;
  });
}

Result<v1::ListOrgsResponse> Queries::ListOrgs(const v1::ListOrgsRequest& request) const {
  return paging::ListPage<v1::ListOrgsResponse>(
      view_, request, Records(StateTag::kOrg), limits_.page_keys_scanned_max,
      [&](std::string_view k, std::string_view v, v1::ListOrgsResponse& out) {
        v1::Org org = ParseValue<v1::Org>(k, v);
        if (request.role() != v1::ROLE_UNSPECIFIED && !HasRole(org, request.role())) return false;
        if (request.kind() != v1::ORG_KIND_UNSPECIFIED && org.kind() != request.kind())
          return false;
        if (request.status() != v1::ORG_STATUS_UNSPECIFIED && org.status() != request.status())
          return false;
        *out.add_orgs() = std::move(org);
        return true;
      });
}

Result<v1::ListSitesResponse> Queries::ListSites(const v1::ListSitesRequest& request) const {
  return paging::ListPage<v1::ListSitesResponse>(
      view_, request, Records(StateTag::kSite), limits_.page_keys_scanned_max,
      [&](std::string_view k, std::string_view v, v1::ListSitesResponse& out) {
        v1::Site site = ParseValue<v1::Site>(k, v);
        if (!request.org_id().empty() && site.org_id() != request.org_id()) return false;
        if (request.kind() != v1::SITE_KIND_UNSPECIFIED && site.kind() != request.kind())
          return false;
        if (request.deposit_type() != v1::DEPOSIT_TYPE_UNSPECIFIED &&
            site.deposit_type() != request.deposit_type()) {
          return false;
        }
        if (!request.province().empty() &&
            NormalizeName(site.province()) != NormalizeName(request.province())) {
          return false;
        }
        *out.add_sites() = std::move(site);
        return true;
      });
}

// --- Lots -------------------------------------------------------------------------------------

Result<v1::GetLotResponse> Queries::GetLot(const v1::GetLotRequest& request) const {
  return Guarded([&]() -> Result<v1::GetLotResponse> {
    std::optional<v1::Lot> lot = ReadRecord<v1::Lot>(view_, layout::LotKey(request.lot_id()));
    if (!lot.has_value()) return Status::NotFound("lot '" + request.lot_id() + "' does not exist");
    v1::GetLotResponse out;
    *out.mutable_lot() = std::move(*lot);
    return out;
  });
}

Result<v1::LotHistoryResponse> Queries::LotHistory(const v1::LotHistoryRequest& request) const {
  return Guarded([&]() -> Result<v1::LotHistoryResponse> {
    if (!GetOrThrow(view_, layout::LotKey(request.lot_id())).has_value()) {
      return Status::NotFound("lot '" + request.lot_id() + "' does not exist");
    }
    return paging::ListPage<v1::LotHistoryResponse>(
        view_, request, KeyRange::Prefix(layout::LotEventPrefix(request.lot_id())),
        limits_.page_keys_scanned_max,
        [](std::string_view k, std::string_view v, v1::LotHistoryResponse& out) {
          *out.add_events() = ParseValue<v1::LotEvent>(k, v);
          return true;
        });
  });
}

Result<v1::TraceLotResponse> Queries::TraceLot(const v1::TraceLotRequest& request) const {
  return Guarded([&]() -> Result<v1::TraceLotResponse> {
    std::optional<v1::Lot> start = ReadRecord<v1::Lot>(view_, layout::LotKey(request.lot_id()));
    if (!start.has_value())
      return Status::NotFound("lot '" + request.lot_id() + "' does not exist");
    Result<Page> page = Page::Open(request, limits_.page_keys_scanned_max);
    if (!page.ok()) return page.status();
    // The payload is the position of the page's first node in the walk.
    uint64_t offset = 0;
    if (!page->cursor().empty()) {
      if (page->cursor().size() != 8) return Status::InvalidArgument("page_token is malformed");
      offset = ReadU64BE(page->cursor());
    }
    const uint64_t end = offset + page->size();
    if (end > limits::query_trace_nodes_max) {
      return Status::ResourceExhausted("a trace lists at most " +
                                       std::to_string(limits::query_trace_nodes_max) + " nodes");
    }
    uint8_t ways = TraceGraph::kUp | TraceGraph::kDown;
    if (request.direction() == v1::TRACE_DIRECTION_UPSTREAM) ways = TraceGraph::kUp;
    if (request.direction() == v1::TRACE_DIRECTION_DOWNSTREAM) ways = TraceGraph::kDown;
    // The walk is recomputed up to the page's end, so a page costs O(end) and no state
    // is kept between pages; every node before `end` is expanded, so every edge between
    // two of them is known.
    Tracer tracer(view_, request.depth_max(), end);
    REEL_RETURN_IF_ERROR(tracer.Run(*start, ways));
    TraceGraph& g = tracer.graph();
    v1::TraceLotResponse out;
    for (size_t i = offset; i < std::min<size_t>(end, g.nodes.size()); ++i)
      *out.add_nodes() = g.nodes[i];
    for (const auto& [at, edge] : g.edges) {
      if (at >= offset && at < end) *out.add_edges() = edge;
    }
    if (g.nodes.size() > end) {
      std::string payload;
      AppendU64BE(payload, end);
      out.set_next_page_token(page->Token(payload));
    }
    return out;
  });
}

Result<v1::HoldingsResponse> Queries::Holdings(const v1::HoldingsRequest& request) const {
  return Guarded([&]() -> Result<v1::HoldingsResponse> {
    REEL_RETURN_IF_ERROR(CheckOrgExists(view_, request.org_id()));
    Result<Page> page = Page::Open(request, limits_.page_keys_scanned_max);
    if (!page.ok()) return page.status();
    std::vector<int> statuses(request.statuses().begin(), request.statuses().end());
    if (statuses.empty()) statuses = {v1::LOT_STATUS_ACTIVE, v1::LOT_STATUS_IN_TRANSIT};
    auto wanted = [&](v1::LotStatus s, v1::ProductForm p) {
      if (std::find(statuses.begin(), statuses.end(), s) == statuses.end()) return false;
      return request.products().empty() ||
             std::find(request.products().begin(), request.products().end(), p) !=
                 request.products().end();
    };
    v1::HoldingsResponse out;
    // At most 5 statuses x 8 products: complete on every page.
    Status s = storage::ScanPrefix(view_, layout::HoldingSummaryPrefix(request.org_id()),
                                   [&](std::string_view k, std::string_view v) {
                                     v1::HoldingSummary sum = ParseValue<v1::HoldingSummary>(k, v);
                                     if (wanted(sum.status(), sum.product()))
                                       *out.add_summaries() = std::move(sum);
                                     return true;
                                   });
    if (!s.ok()) return s;
    const std::string prefix = layout::HolderPrefix(request.org_id());
    REEL_RETURN_IF_ERROR(
        paging::FillPage(view_, KeyRange::Prefix(prefix), *page, &out,
                         [&](std::string_view k, std::string_view, v1::HoldingsResponse& page_out) {
                           std::optional<v1::Lot> lot =
                               ReadRecord<v1::Lot>(view_, layout::LotKey(k.substr(prefix.size())));
                           if (!lot.has_value() || lot->holder_org_id() != request.org_id() ||
                               !wanted(lot->status(), lot->product())) {
                             return false;
                           }
                           *page_out.add_lots() = std::move(*lot);
                           return true;
                         }));
    return out;
  });
}

Result<v1::ListTransferOffersResponse> Queries::ListTransferOffers(
    const v1::ListTransferOffersRequest& request) const {
  return paging::ListPage<v1::ListTransferOffersResponse>(
      view_, request, Records(StateTag::kOffer), limits_.page_keys_scanned_max,
      [&](std::string_view k, std::string_view v, v1::ListTransferOffersResponse& out) {
        v1::TransferOfferRecord o = ParseValue<v1::TransferOfferRecord>(k, v);
        if (!request.from_org_id().empty() && o.from_org_id() != request.from_org_id())
          return false;
        if (!request.to_org_id().empty() && o.to_org_id() != request.to_org_id()) return false;
        if (request.status() != v1::TRANSFER_STATUS_UNSPECIFIED && o.status() != request.status())
          return false;
        *out.add_offers() = std::move(o);
        return true;
      });
}

// --- Quotas -------------------------------------------------------------------------------------

Result<v1::QuotaUseResponse> Queries::QuotaUse(const v1::QuotaUseRequest& request) const {
  return Guarded([&]() -> Result<v1::QuotaUseResponse> {
    const uint32_t year = request.year() != 0
                              ? request.year()
                              : static_cast<uint32_t>(CstDate(LastBlockTime(view_)).year);
    const KeyRange range = request.org_id().empty()
                               ? Records(StateTag::kQuota)
                               : KeyRange::Prefix(layout::QuotaPrefix(request.org_id()));
    return paging::ListPage<v1::QuotaUseResponse>(
        view_, request, range, limits_.page_keys_scanned_max,
        [&](std::string_view k, std::string_view v, v1::QuotaUseResponse& out) {
          v1::Quota q = ParseValue<v1::Quota>(k, v);
          if (q.year() != year) return false;
          if (request.category() != v1::QUOTA_CATEGORY_UNSPECIFIED &&
              q.category() != request.category())
            return false;
          v1::QuotaUseRow* row = out.add_rows();
          row->set_org_id(q.org_id());
          row->set_year(q.year());
          row->set_category(q.category());
          row->set_granted_g(q.granted_g());
          row->set_cut_g(q.cut_g());
          row->set_used_g(q.used_g());
          row->set_left_g(std::max<int64_t>(0, q.granted_g() - q.cut_g() - q.used_g()));
          return true;
        });
  });
}

// --- Licences and restrictions ----------------------------------------------------------------

Result<v1::GetLicenceResponse> Queries::GetLicence(const v1::GetLicenceRequest& request) const {
  return Guarded([&]() -> Result<v1::GetLicenceResponse> {
    std::optional<v1::Licence> l =
        ReadRecord<v1::Licence>(view_, layout::LicenceKey(request.licence_id()));
    if (!l.has_value())
      return Status::NotFound("licence '" + request.licence_id() + "' does not exist");
    v1::GetLicenceResponse out;
    out.set_expired(l->status() == v1::LICENCE_STATUS_GRANTED &&
                    l->valid_until_ms() <= LastBlockTime(view_));
    *out.mutable_licence() = std::move(*l);
    return out;
  });
}

Result<v1::ListLicencesResponse> Queries::ListLicences(
    const v1::ListLicencesRequest& request) const {
  const bool by_applicant = !request.applicant_org_id().empty();
  const std::string prefix = by_applicant
                                 ? layout::ApplicantLicencePrefix(request.applicant_org_id())
                                 : layout::StatePrefix(StateTag::kLicence);
  const std::string end_user = NormalizeName(request.end_user());
  return paging::ListPage<v1::ListLicencesResponse>(
      view_, request, KeyRange::Prefix(prefix), limits_.page_keys_scanned_max,
      [&](std::string_view k, std::string_view v, v1::ListLicencesResponse& out) {
        std::optional<v1::Licence> l;
        if (by_applicant) {
          l = ReadRecord<v1::Licence>(view_, layout::LicenceKey(k.substr(prefix.size())));
        } else {
          l = ParseValue<v1::Licence>(k, v);
        }
        if (!l.has_value()) return false;
        if (request.status() != v1::LICENCE_STATUS_UNSPECIFIED && l->status() != request.status())
          return false;
        if (!request.destination_country().empty() &&
            l->destination_country() != request.destination_country()) {
          return false;
        }
        if (!end_user.empty() && NormalizeName(l->end_user()) != end_user) return false;
        if (request.industry() != v1::INDUSTRY_UNSPECIFIED && l->industry() != request.industry())
          return false;
        *out.add_licences() = std::move(*l);
        return true;
      });
}

Result<v1::MatchingRestrictionsResponse> Queries::MatchingRestrictions(
    const v1::MatchingRestrictionsRequest& request) const {
  return Guarded([&]() -> Result<v1::MatchingRestrictionsResponse> {
    std::optional<v1::Licence> l =
        ReadRecord<v1::Licence>(view_, layout::LicenceKey(request.licence_id()));
    if (!l.has_value())
      return Status::NotFound("licence '" + request.licence_id() + "' does not exist");
    const uint64_t now = LastBlockTime(view_);
    return paging::ListPage<v1::MatchingRestrictionsResponse>(
        view_, request, Records(StateTag::kRestriction), limits_.page_keys_scanned_max,
        [&](std::string_view k, std::string_view v, v1::MatchingRestrictionsResponse& out) {
          v1::Restriction r = ParseValue<v1::Restriction>(k, v);
          if (!Matches(r.match(), TermsOf(*l))) return false;
          if (!request.include_inactive() && !InForce(r, now)) return false;
          *out.add_restrictions() = std::move(r);
          return true;
        });
  });
}

// --- RestrictionImpact -------------------------------------------------------------------------

namespace {

bool Live(const v1::Licence& l) {
  return l.status() == v1::LICENCE_STATUS_PENDING ||
         l.status() == v1::LICENCE_STATUS_PENDING_REVIEW ||
         l.status() == v1::LICENCE_STATUS_GRANTED;
}

// A set of product forms in one byte: bit p - 1 for form p.
static_assert(v1::ProductForm_MAX <= 8);
uint8_t ProductBit(v1::ProductForm form) {
  return form <= 0 ? 0 : static_cast<uint8_t>(1u << (static_cast<int>(form) - 1));
}

// Whether the lot holds an element the match names (any lot, if it names none).
bool HasMatchedElement(const v1::Lot& lot, const v1::RestrictionMatch& match) {
  if (match.elements().empty()) return true;
  for (const v1::ElementAmount& a : lot.composition().amounts()) {
    if (std::find(match.elements().begin(), match.elements().end(), a.element()) !=
        match.elements().end()) {
      return true;
    }
  }
  return false;
}

// Where RestrictionImpact's list of lots stands. The walk takes the organisations in
// id order; for each, it reads its licences (the applicant index) to learn the products
// of the matched live ones, then, if there are any, its lots (the holder index). It can
// stop after any key it reads, so the cursor says which step it is in and what that
// step has learnt so far.
struct LotsCursor {
  enum Step : char { kNextOrg = 'n', kLicences = 'c', kLots = 'l' };
  Step step = kNextOrg;
  uint8_t products = 0;  // of `org`'s matched live licences
  std::string org;       // empty: before the first organisation
  std::string after;     // the last key read in this step; empty: none yet

  // Token payload: 'O', the step, the products, field(org), after.
  std::string Encode() const {
    std::string out = {'O', static_cast<char>(step), static_cast<char>(products)};
    paging::AppendField(out, org);
    return out + after;
  }

  static std::optional<LotsCursor> Decode(std::string_view payload) {
    if (payload.size() < 3 || payload[0] != 'O') return std::nullopt;
    LotsCursor c;
    c.step = static_cast<Step>(payload[1]);
    c.products = static_cast<uint8_t>(payload[2]);
    payload.remove_prefix(3);
    if (!paging::TakeField(payload, &c.org) || c.org.find('\0') != std::string::npos) {
      return std::nullopt;
    }
    c.after = std::string(payload);
    // `after` must lie in the step's own range, and only the first step has no org.
    std::string range;
    switch (c.step) {
      case kNextOrg:
        return c.after.empty() ? std::optional(c) : std::nullopt;
      case kLicences:
        range = layout::ApplicantLicencePrefix(c.org);
        break;
      case kLots:
        range = layout::HolderPrefix(c.org);
        break;
      default:
        return std::nullopt;
    }
    if (c.org.empty() || (!c.after.empty() && !c.after.starts_with(range))) return std::nullopt;
    return c;
  }
};

// Adds the lots a restriction would reach to a RestrictionImpact page, from a cursor,
// until the page is full or its scan budget is spent.
class ImpactedLots {
 public:
  ImpactedLots(const storage::ReadView& view, const v1::RestrictionMatch& match, const Page& page,
               ScanBudget& budget, v1::RestrictionImpactResponse* out)
      : view_(view), match_(match), page_(page), budget_(budget), out_(out) {}

  // Where to continue on the next page; nullopt when every organisation is done.
  Result<std::optional<LotsCursor>> Continue(LotsCursor c) {
    for (;;) {
      Result<Progress> progress = c.step == LotsCursor::kNextOrg    ? NextOrg(c)
                                  : c.step == LotsCursor::kLicences ? Licences(c)
                                                                    : Lots(c);
      if (!progress.ok()) return progress.status();
      if (*progress == kStopped) return std::optional<LotsCursor>(std::move(c));
      if (*progress == kEnd) return std::optional<LotsCursor>();
    }
  }

 private:
  enum Progress { kNextStep, kStopped, kEnd };

  uint32_t Room() const {
    const auto items = static_cast<uint32_t>(out_->licences_size() + out_->lots_size());
    return items < page_.size() ? page_.size() - items : 0;
  }

  // Moves to the organisation after `c.org`.
  Result<Progress> NextOrg(LotsCursor& c) {
    if (Room() == 0) return kStopped;  // full: read nothing that could not be sent
    const size_t prefix_size = layout::StatePrefix(StateTag::kOrg).size();
    std::optional<std::string> next;
    Result<std::optional<std::string>> stopped =
        ScanKeys(view_, Records(StateTag::kOrg), c.org.empty() ? "" : layout::OrgKey(c.org), 1,
                 budget_, [&](std::string_view k, std::string_view) {
                   next = std::string(k.substr(prefix_size));
                   return Visit::kItem;
                 });
    if (!stopped.ok()) return stopped.status();
    if (!next.has_value()) return stopped->has_value() ? kStopped : kEnd;
    c = LotsCursor{LotsCursor::kLicences, 0, std::move(*next), ""};
    return kNextStep;
  }

  // Learns the products of the organisation's matched live licences.
  Result<Progress> Licences(LotsCursor& c) {
    const std::string prefix = layout::ApplicantLicencePrefix(c.org);
    Result<std::optional<std::string>> stopped =
        ScanKeys(view_, KeyRange::Prefix(prefix), c.after, std::numeric_limits<uint32_t>::max(),
                 budget_, [&](std::string_view k, std::string_view) {
                   std::optional<v1::Licence> l =
                       ReadRecord<v1::Licence>(view_, layout::LicenceKey(k.substr(prefix.size())));
                   if (l.has_value() && Live(*l) && Matches(match_, TermsOf(*l)))
                     c.products |= ProductBit(l->product());
                   return Visit::kSkipped;
                 });
    return Advance(c, stopped, LotsCursor::kLots);
  }

  // The organisation's ACTIVE lots of those products with a matched element.
  Result<Progress> Lots(LotsCursor& c) {
    if (c.products == 0) return Advance(c, std::optional<std::string>(), LotsCursor::kNextOrg);
    const std::string prefix = layout::HolderPrefix(c.org);
    Result<std::optional<std::string>> stopped = ScanKeys(
        view_, KeyRange::Prefix(prefix), c.after, Room(), budget_,
        [&](std::string_view k, std::string_view) {
          std::optional<v1::Lot> lot =
              ReadRecord<v1::Lot>(view_, layout::LotKey(k.substr(prefix.size())));
          if (!lot.has_value() || lot->holder_org_id() != c.org ||
              lot->status() != v1::LOT_STATUS_ACTIVE ||
              (c.products & ProductBit(lot->product())) == 0 || !HasMatchedElement(*lot, match_)) {
            return Visit::kSkipped;
          }
          *out_->add_lots() = std::move(*lot);
          return Visit::kItem;
        });
    return Advance(c, stopped, LotsCursor::kNextOrg);
  }

  // After a step's scan: stopped at a key (remember it), or done (go to `next`).
  static Result<Progress> Advance(LotsCursor& c, const Result<std::optional<std::string>>& stopped,
                                  LotsCursor::Step next) {
    if (!stopped.ok()) return stopped.status();
    if (stopped->has_value()) {
      c.after = **stopped;
      return kStopped;
    }
    c.step = next;
    c.after.clear();
    return kNextStep;
  }

  const storage::ReadView& view_;
  const v1::RestrictionMatch& match_;
  const Page& page_;
  ScanBudget& budget_;
  v1::RestrictionImpactResponse* out_;
};

}  // namespace

Result<v1::RestrictionImpactResponse> Queries::RestrictionImpact(
    const v1::RestrictionImpactRequest& request) const {
  return Guarded([&]() -> Result<v1::RestrictionImpactResponse> {
    Refusal form = CheckMatch(request.match());
    if (!form.ok()) return Status::InvalidArgument(form.message);
    const bool deny = request.effect() == v1::RESTRICTION_EFFECT_DENY;
    if (!deny && request.effect() != v1::RESTRICTION_EFFECT_REVIEW) {
      return Status::InvalidArgument("effect must be DENY or REVIEW");
    }
    Result<Page> page = Page::Open(request, limits_.page_keys_scanned_max);
    if (!page.ok()) return page.status();
    // One budget for both lists: a page reads at most the limit in all.
    ScanBudget budget(page->keys_scanned_max());
    v1::RestrictionImpactResponse out;
    // First list ('L' + the last licence key read): the live licences the match hits.
    const std::string& cursor = page->cursor();
    const bool in_licences = cursor.empty() || cursor[0] == 'L';
    if (in_licences) {
      const KeyRange licences = Records(StateTag::kLicence);
      const std::string after = cursor.empty() ? "" : cursor.substr(1);
      if (!after.empty() && !licences.Contains(after))
        return Status::InvalidArgument("page_token is out of range");
      Result<std::optional<std::string>> stopped =
          ScanKeys(view_, licences, after, page->size(), budget,
                   [&](std::string_view k, std::string_view v) {
                     v1::Licence l = ParseValue<v1::Licence>(k, v);
                     if (!Live(l) || !Matches(request.match(), TermsOf(l))) return Visit::kSkipped;
                     const bool granted = l.status() == v1::LICENCE_STATUS_GRANTED;
                     v1::ImpactedLicence* i = out.add_licences();
                     i->set_would_revoke(granted && deny && request.revoke_outstanding() &&
                                         l.exported_mass_g() < l.mass_g());
                     i->set_would_block_clearing(granted && deny);
                     i->set_would_affect_decision(!granted);
                     *i->mutable_licence() = std::move(l);
                     return Visit::kItem;
                   });
      if (!stopped.ok()) return stopped.status();
      if (stopped->has_value()) {
        out.set_next_page_token(page->Token("L" + **stopped));
        return out;
      }
    }
    // Second list (LotsCursor): ACTIVE lots of the applicants of matched live licences,
    // of those licences' products, holding a matched element (any if none is named).
    std::optional<LotsCursor> from = in_licences ? LotsCursor() : LotsCursor::Decode(cursor);
    if (!from.has_value()) return Status::InvalidArgument("page_token is malformed");
    Result<std::optional<LotsCursor>> next =
        ImpactedLots(view_, request.match(), *page, budget, &out).Continue(std::move(*from));
    if (!next.ok()) return next.status();
    if (next->has_value()) out.set_next_page_token(page->Token((*next)->Encode()));
    return out;
  });
}

// --- ExportStats -------------------------------------------------------------------------------

namespace {

// The group key of an export, or nothing when it has no part in `element` grouping.
std::string GroupKey(const v1::ExportRecord& x, v1::ExportGroupBy by, v1::Element element) {
  switch (by) {
    case v1::EXPORT_GROUP_BY_COUNTRY:
      return x.destination_country();
    case v1::EXPORT_GROUP_BY_END_USER:
      return NormalizeName(x.end_user());
    case v1::EXPORT_GROUP_BY_INDUSTRY:
      return v1::Industry_Name(x.industry());
    case v1::EXPORT_GROUP_BY_ELEMENT:
      return v1::Element_Name(element);
    default:
      return {};
  }
}

// Whether the request's filters keep the export (the time bounds aside).
bool Wanted(const v1::ExportStatsRequest& request, const v1::ExportRecord& x,
            const ElementGrams& grams) {
  if (!request.destination_country().empty() &&
      x.destination_country() != request.destination_country()) {
    return false;
  }
  if (!request.end_user().empty() &&
      NormalizeName(x.end_user()) != NormalizeName(request.end_user()))
    return false;
  if (request.industry() != v1::INDUSTRY_UNSPECIFIED && x.industry() != request.industry())
    return false;
  if (request.product() != v1::PRODUCT_FORM_UNSPECIFIED && x.product() != request.product())
    return false;
  if (!request.exporter_org_id().empty() && x.exporter_org_id() != request.exporter_org_id())
    return false;
  return request.element() == v1::ELEMENT_UNSPECIFIED || grams[request.element()] != 0;
}

// ExportStats reads the period's exports in passes (the 'X' index, by height, which is
// also by time). A pass keeps the groups with the page_size smallest keys above the last
// group sent, each summed over the whole period: memory O(page_size) whatever the number
// of groups. A key is let in at its first export of the pass or never: one pushed out,
// or not let in, lowers the ceiling, and keys at or above the ceiling wait for a later
// pass. So every kept group has all its exports, and a ceiling says more groups follow.
//
// A pass that needs more moves than a page may make spans pages: the pages before its
// end hold no rows, and their token carries the pass (Encode), trimmed to the token
// limit by pushing out its largest groups.
class StatsPass {
 public:
  // The longest group key (an end user's name) is free text.
  static constexpr size_t kKeyBytesMax = limits::ledger_text_bytes_max;
  // A row: its key (the end user as recorded), counts, and every element's grams.
  static constexpr size_t kRowBytesMax = kKeyBytesMax + 400;
  // The fixed part of a payload: four fields' sizes, the ceiling flag, the position
  // (an 'X' key: 0x06, the tag, a height and a position in the block).
  static constexpr size_t kFixedBytes = 4 * 4 + 1 + (2 + 8 + 4);

  StatsPass(v1::ExportGroupBy by, uint32_t groups_max) : by_(by), groups_max_(groups_max) {}

  // Resumes the pass a token's payload carries; false if it carries none.
  bool Decode(std::string_view payload) {
    std::string has_ceiling, ceiling;
    if (!paging::TakeField(payload, &after_) || !paging::TakeField(payload, &position_) ||
        !paging::TakeField(payload, &has_ceiling) || !paging::TakeField(payload, &ceiling) ||
        has_ceiling.size() != 1) {
      return false;
    }
    if (has_ceiling[0] != 0) ceiling_ = std::move(ceiling);
    if (!position_.empty() && !Entries(IndexTag::kExportByTime).Contains(position_)) return false;
    for (std::string row_bytes; !payload.empty();) {
      v1::ExportStatsRow row;
      if (!paging::TakeField(payload, &row_bytes) || !row.ParseFromString(row_bytes)) return false;
      std::string key = by_ == v1::EXPORT_GROUP_BY_END_USER ? NormalizeName(row.key()) : row.key();
      if (!Admits(key)) return false;
      rows_.emplace(std::move(key), std::move(row));
    }
    // page_size is not one of the filters: the next page may ask for fewer groups.
    while (rows_.size() > groups_max_) PushOutLargest();
    return true;
  }

  // The payload that resumes this pass, at most `bytes_max` long. The groups pushed out
  // to fit are counted again in a later pass; the smallest always stays, so a pass
  // ends with at least one group whenever any export is in the period.
  std::string Encode(size_t bytes_max) {
    std::vector<std::string> rows;
    size_t size = kFixedBytes + after_.size() + kKeyBytesMax;  // room for any ceiling
    for (const auto& [key, row] : rows_) {
      rows.push_back(row.SerializeAsString());
      size += 4 + rows.back().size();
    }
    while (size > bytes_max && rows_.size() > 1) {
      size -= 4 + rows.back().size();
      rows.pop_back();
      PushOutLargest();
    }
    std::string out;
    paging::AppendField(out, after_);
    paging::AppendField(out, position_);
    paging::AppendField(out, std::string(1, ceiling_.has_value() ? 1 : 0));
    paging::AppendField(out, ceiling_.value_or(""));
    for (const std::string& row : rows) paging::AppendField(out, row);
    return out;
  }

  const std::string& position() const { return position_; }
  void set_position(std::string key) { position_ = std::move(key); }

  // Adds one export of the period that the filters keep.
  void Add(const v1::ExportRecord& x, const ElementGrams& grams) {
    if (by_ != v1::EXPORT_GROUP_BY_ELEMENT) {
      AddTo(GroupKey(x, by_, v1::ELEMENT_UNSPECIFIED), x, grams);
      return;
    }
    for (size_t e = 1; e < grams.size(); ++e) {
      if (grams[e] == 0) continue;
      ElementGrams one{};
      one[e] = grams[e];
      AddTo(GroupKey(x, by_, static_cast<v1::Element>(e)), x, one);
    }
  }

  // The end of the pass: its groups as the page's rows, and the payload of the next
  // pass if groups are left (none when there is no ceiling).
  std::optional<std::string> Finish(v1::ExportStatsResponse* out) {
    for (auto& [key, row] : rows_) {
      if (by_ == v1::EXPORT_GROUP_BY_ELEMENT) {
        v1::Element e = v1::ELEMENT_UNSPECIFIED;
        if (v1::Element_Parse(key, &e)) row.set_element(e);
        row.set_key(ElementName(e));
      }
      *out->add_rows() = std::move(row);
    }
    if (!ceiling_.has_value() || rows_.empty()) return std::nullopt;
    StatsPass next(by_, groups_max_);
    next.after_ = rows_.rbegin()->first;
    return next.Encode(std::numeric_limits<size_t>::max());
  }

 private:
  bool Admits(const std::string& key) const {
    return (after_.empty() || key > after_) && (!ceiling_.has_value() || key < *ceiling_);
  }

  void PushOutLargest() {
    auto largest = std::prev(rows_.end());
    if (!ceiling_.has_value() || largest->first < *ceiling_) ceiling_ = largest->first;
    rows_.erase(largest);
  }

  void AddTo(const std::string& key, const v1::ExportRecord& x, const ElementGrams& grams) {
    if (!Admits(key)) return;
    auto it = rows_.find(key);
    if (it == rows_.end()) {
      it = rows_.emplace(key, v1::ExportStatsRow()).first;
      it->second.set_key(by_ == v1::EXPORT_GROUP_BY_END_USER ? x.end_user() : key);
      if (by_ == v1::EXPORT_GROUP_BY_INDUSTRY) it->second.set_industry(x.industry());
      if (rows_.size() > groups_max_) {
        PushOutLargest();
        if (!Admits(key)) return;  // it was the largest
      }
    }
    v1::ExportStatsRow& row = it->second;
    row.set_export_count(row.export_count() + 1);
    row.set_mass_g(row.mass_g() + x.mass_g());
    ElementGrams sum = ToGrams(row.composition());
    AddGrams(&sum, grams);
    *row.mutable_composition() = FromGrams(sum);
    row.set_reo_g(SumGrams(sum));
  }

  v1::ExportGroupBy by_;
  uint32_t groups_max_;
  std::string after_;     // groups up to this key were sent; empty: none yet
  std::string position_;  // the last 'X' key the pass read; empty: it has not begun
  std::optional<std::string> ceiling_;
  std::map<std::string, v1::ExportStatsRow> rows_;  // by group key
};

// One group always fits in a token beside the cursor, the position and a ceiling: so
// the pass that keeps only its smallest group still ends with a row.
static_assert(1 + paging::Page::kFingerprintBytes + StatsPass::kFixedBytes +
                  2 * StatsPass::kKeyBytesMax + 4 + StatsPass::kRowBytesMax <=
              limits::query_page_token_bytes_max);

}  // namespace

Result<v1::ExportStatsResponse> Queries::ExportStats(const v1::ExportStatsRequest& request) const {
  return Guarded([&]() -> Result<v1::ExportStatsResponse> {
    const v1::ExportGroupBy by = request.group_by();
    if (by == v1::EXPORT_GROUP_BY_UNSPECIFIED || !v1::ExportGroupBy_IsValid(by)) {
      return Status::InvalidArgument("group_by is required");
    }
    Result<Page> page = Page::Open(request, limits_.page_keys_scanned_max);
    if (!page.ok()) return page.status();
    StatsPass pass(by, page->size());
    if (!page->cursor().empty() && !pass.Decode(page->cursor())) {
      return Status::InvalidArgument("page_token is malformed");
    }
    ScanBudget budget(page->keys_scanned_max());
    Result<std::optional<std::string>> stopped = ScanKeys(
        view_, Entries(IndexTag::kExportByTime), pass.position(),
        std::numeric_limits<uint32_t>::max(), budget, [&](std::string_view, std::string_view tx) {
          std::optional<v1::ExportRecord> x =
              ReadRecord<v1::ExportRecord>(view_, layout::ExportKey(tx));
          if (!x.has_value()) return Visit::kSkipped;
          if (request.to_time_ms() != 0 && x->time_ms() >= request.to_time_ms())
            return Visit::kEndOfRange;  // exports are in time order
          if (x->time_ms() < request.from_time_ms()) return Visit::kSkipped;
          const ElementGrams grams = ToGrams(x->composition());
          if (Wanted(request, *x, grams)) pass.Add(*x, grams);
          return Visit::kSkipped;
        });
    if (!stopped.ok()) return stopped.status();
    v1::ExportStatsResponse out;
    if (stopped->has_value()) {  // the pass goes on in the next page
      pass.set_position(std::move(**stopped));
      out.set_next_page_token(page->Token(
          pass.Encode(limits::query_page_token_bytes_max - 1 - Page::kFingerprintBytes)));
      return out;
    }
    std::optional<std::string> next = pass.Finish(&out);
    if (next.has_value()) out.set_next_page_token(page->Token(*next));
    return out;
  });
}

Result<v1::LicenceVerdictResponse> Queries::LicenceVerdict(
    const v1::LicenceVerdictRequest& request) const {
  return Guarded([&]() -> Result<v1::LicenceVerdictResponse> {
    v1::LicenceVerdictResponse out;
    v1::ApplyExportLicense application = request.application();
    if (application.licence_id().empty()) application.set_licence_id("dry-run");
    Refusal r = FormApplyExportLicense(application);
    std::optional<v1::Org> applicant =
        ReadRecord<v1::Org>(view_, layout::OrgKey(request.applicant_org_id()));
    if (r.ok() && !applicant.has_value()) {
      r = Refuse(v1::SIGNER_NOT_FOUND,
                 "applicant '" + request.applicant_org_id() + "' is not registered");
    }
    if (r.ok()) {
      // The role the table gives the kind, as the ledger would check it.
      v1::TxBody as_submitted;
      *as_submitted.mutable_apply_export_license() = application;
      const TxKindEntry* kind = FindTxKind(v1::TxBody::kApplyExportLicense);
      REEL_ASSERT(kind != nullptr);
      r = CheckRole(*applicant, as_submitted, *kind);
    }
    if (r.ok() && applicant->status() != v1::ORG_STATUS_ACTIVE) {
      r = Refuse(v1::ORG_SUSPENDED, "applicant '" + request.applicant_org_id() + "' is suspended");
    }
    if (r.ok() && !request.application().licence_id().empty() &&
        GetOrThrow(view_, layout::LicenceKey(request.application().licence_id())).has_value()) {
      r = Refuse(v1::LICENCE_EXISTS,
                 "licence '" + request.application().licence_id() + "' already exists");
    }
    if (!r.ok()) {
      out.set_code(r.code);
      out.set_message(r.message);
      return out;
    }
    Overlay overlay(view_);
    State state(overlay);
    std::vector<std::string> deny, review;
    const uint64_t at = request.at_time_ms() != 0 ? request.at_time_ms() : LastBlockTime(view_);
    MatchingInForce(state, TermsOf(application), at, &deny, &review);
    for (const std::string& id : deny) out.add_deny_restriction_ids(id);
    for (const std::string& id : review) out.add_review_restriction_ids(id);
    out.set_status(!deny.empty()     ? v1::LICENCE_STATUS_DENIED
                   : !review.empty() ? v1::LICENCE_STATUS_PENDING_REVIEW
                                     : v1::LICENCE_STATUS_PENDING);
    return out;
  });
}

Result<v1::ListRestrictionsResponse> Queries::ListRestrictions(
    const v1::ListRestrictionsRequest& request) const {
  return Guarded([&]() -> Result<v1::ListRestrictionsResponse> {
    const uint64_t now = LastBlockTime(view_);
    return paging::ListPage<v1::ListRestrictionsResponse>(
        view_, request, Records(StateTag::kRestriction), limits_.page_keys_scanned_max,
        [&](std::string_view k, std::string_view v, v1::ListRestrictionsResponse& out) {
          v1::Restriction r = ParseValue<v1::Restriction>(k, v);
          if (request.active_only() && !InForce(r, now)) return false;
          if (request.effect() != v1::RESTRICTION_EFFECT_UNSPECIFIED &&
              r.effect() != request.effect())
            return false;
          *out.add_restrictions() = std::move(r);
          return true;
        });
  });
}

// --- Exports and violations ----------------------------------------------------------------------

Result<v1::ListExportsResponse> Queries::ListExports(const v1::ListExportsRequest& request) const {
  return paging::ListPage<v1::ListExportsResponse>(
      view_, request, Entries(IndexTag::kExportByTime), limits_.page_keys_scanned_max,
      [&](std::string_view, std::string_view tx, v1::ListExportsResponse& out) {
        std::optional<v1::ExportRecord> x =
            ReadRecord<v1::ExportRecord>(view_, layout::ExportKey(tx));
        if (!x.has_value()) return false;
        if (!request.licence_id().empty() && x->licence_id() != request.licence_id()) return false;
        if (!request.exporter_org_id().empty() && x->exporter_org_id() != request.exporter_org_id())
          return false;
        if (!request.destination_country().empty() &&
            x->destination_country() != request.destination_country()) {
          return false;
        }
        if (!InPeriod(x->time_ms(), request.from_time_ms(), request.to_time_ms())) return false;
        *out.add_exports() = std::move(*x);
        return true;
      });
}

Result<v1::ListViolationsResponse> Queries::ListViolations(
    const v1::ListViolationsRequest& request) const {
  return paging::ListPage<v1::ListViolationsResponse>(
      view_, request, Entries(IndexTag::kViolationByTime), limits_.page_keys_scanned_max,
      [&](std::string_view, std::string_view id, v1::ListViolationsResponse& out) {
        std::optional<v1::Violation> v = ReadRecord<v1::Violation>(view_, layout::ViolationKey(id));
        if (!v.has_value()) return false;
        if (!request.org_id().empty() && v->org_id() != request.org_id()) return false;
        if (request.kind() != v1::VIOLATION_KIND_UNSPECIFIED && v->kind() != request.kind())
          return false;
        if (!InPeriod(v->time_ms(), request.from_time_ms(), request.to_time_ms())) return false;
        *out.add_violations() = std::move(*v);
        return true;
      });
}

// --- Validator set ---------------------------------------------------------------------------

Result<v1::ListValidatorChangesResponse> Queries::ListValidatorChanges(
    const v1::ListValidatorChangesRequest& request) const {
  Result<v1::ListValidatorChangesResponse> out = paging::ListPage<v1::ListValidatorChangesResponse>(
      view_, request, Records(StateTag::kValidatorChange), limits_.page_keys_scanned_max,
      [&](std::string_view k, std::string_view v, v1::ListValidatorChangesResponse& page) {
        v1::ValidatorChangeRecord change = ParseValue<v1::ValidatorChangeRecord>(k, v);
        if (request.status() != v1::VALIDATOR_CHANGE_STATUS_UNSPECIFIED &&
            change.status() != request.status()) {
          return false;
        }
        *page.add_changes() = std::move(change);
        return true;
      });
  if (!out.ok()) return out;
  // Two fixed reads beside the scan: what every page needs to judge its changes.
  Result<v1::ValidatorGovernance> governance = GetValidatorGovernance(view_);
  if (!governance.ok()) return governance.status();
  Result<v1::ValidatorSet> current = CurrentValidatorSet(view_);
  if (!current.ok()) return current.status();
  *out->mutable_governance() = *std::move(governance);
  *out->mutable_current() = *std::move(current);
  return out;
}

Result<v1::GetValidatorChangeResponse> Queries::GetValidatorChange(
    const v1::GetValidatorChangeRequest& request) const {
  Result<std::optional<v1::ValidatorChangeRecord>> change =
      ledger::GetValidatorChange(view_, request.change_id());
  if (!change.ok()) return change.status();
  if (!change->has_value()) {
    return Status::NotFound("validator change '" + request.change_id() + "' does not exist");
  }
  Result<v1::ValidatorGovernance> governance = GetValidatorGovernance(view_);
  if (!governance.ok()) return governance.status();
  v1::GetValidatorChangeResponse out;
  *out.mutable_change() = std::move(**change);
  *out.mutable_governance() = *std::move(governance);
  return out;
}

// --- Reports ---------------------------------------------------------------------------------

namespace {

constexpr uint32_t kLossThresholdPermilleDefault = 100;

}  // namespace

Result<v1::MassBalanceResponse> Queries::MassBalance(const v1::MassBalanceRequest& request) const {
  return Guarded([&]() -> Result<v1::MassBalanceResponse> {
    REEL_RETURN_IF_ERROR(CheckOrgExists(view_, request.org_id()));
    Result<Page> page = Page::Open(request, limits_.page_keys_scanned_max);
    if (!page.ok()) return page.status();
    const uint64_t to = request.to_time_ms() != 0 ? request.to_time_ms() : LastBlockTime(view_) + 1;
    const std::string& org = request.org_id();
    v1::MassBalanceResponse out;
    out.set_org_id(org);
    out.set_from_time_ms(request.from_time_ms());
    out.set_to_time_ms(to);
    std::map<uint8_t, int64_t> reo;
    Status s = storage::ScanRange(
        view_, layout::FlowTimeKey(org, request.from_time_ms()), layout::FlowTimeKey(org, to),
        [&](std::string_view k, std::string_view v) {
          reo[static_cast<uint8_t>(k.back())] += ParseValue<v1::FlowEntry>(k, v).reo_g();
          return true;
        });
    if (!s.ok()) return s;
    out.set_extracted_reo_g(reo[kFlowExtracted]);
    out.set_imported_reo_g(reo[kFlowImported]);
    out.set_received_reo_g(reo[kFlowReceived]);
    out.set_shipped_reo_g(reo[kFlowShipped]);
    out.set_exported_reo_g(reo[kFlowExported]);
    out.set_seized_reo_g(reo[kFlowSeized]);
    out.set_in_reo_g(reo[kFlowExtracted] + reo[kFlowImported] + reo[kFlowReceived]);
    out.set_out_reo_g(reo[kFlowShipped] + reo[kFlowExported] + reo[kFlowSeized]);
    ElementGrams loss{};
    int64_t processed_in = 0, processed_out = 0;
    const std::string begin = layout::ProcessTimeKey(org, request.from_time_ms());
    const std::string end = layout::ProcessTimeKey(org, to);
    s = storage::ScanRange(view_, begin, end, [&](std::string_view k, std::string_view v) {
      v1::MassBalanceOutlier step = ParseValue<v1::MassBalanceOutlier>(k, v);
      processed_in += step.input_reo_g();
      processed_out += step.output_reo_g();
      AddGrams(&loss, ToGrams(step.loss()));
      return true;
    });
    if (!s.ok()) return s;
    out.set_processed_in_reo_g(processed_in);
    out.set_processed_out_reo_g(processed_out);
    *out.mutable_loss() = FromGrams(loss);
    out.set_loss_reo_g(SumGrams(loss));
    out.set_loss_permille(
        processed_in == 0
            ? 0
            : static_cast<uint32_t>(static_cast<Int128>(SumGrams(loss)) * 1000 / processed_in));
    const uint32_t threshold = request.loss_threshold_permille() != 0
                                   ? request.loss_threshold_permille()
                                   : kLossThresholdPermilleDefault;
    REEL_RETURN_IF_ERROR(paging::FillPage(
        view_, KeyRange{begin, end}, *page, &out,
        [&](std::string_view k, std::string_view v, v1::MassBalanceResponse& page_out) {
          v1::MassBalanceOutlier step = ParseValue<v1::MassBalanceOutlier>(k, v);
          if (step.loss_permille() <= threshold) return false;
          *page_out.add_outliers() = std::move(step);
          return true;
        }));
    return out;
  });
}

Result<v1::MonthlyFlowReportResponse> Queries::MonthlyFlowReport(
    const v1::MonthlyFlowReportRequest& request) const {
  return Guarded([&]() -> Result<v1::MonthlyFlowReportResponse> {
    if (request.month() < 1 || request.month() > 12)
      return Status::InvalidArgument("month must be 1..12");
    if (request.year() < limits::ledger_quota_year_min ||
        request.year() > limits::ledger_quota_year_max) {
      return Status::InvalidArgument("year out of range");
    }
    REEL_RETURN_IF_ERROR(CheckOrgExists(view_, request.org_id()));
    Result<Page> page = Page::Open(request, limits_.page_keys_scanned_max);
    if (!page.ok()) return page.status();
    const std::string& org = request.org_id();
    const uint64_t from = CstMonthStartMs(request.year(), request.month());
    const uint64_t to = request.month() == 12
                            ? CstMonthStartMs(request.year() + 1, 1)
                            : CstMonthStartMs(request.year(), request.month() + 1);
    v1::MonthlyFlowReportResponse out;
    out.set_org_id(org);
    out.set_year(request.year());
    out.set_month(request.month());
    out.set_from_time_ms(from);
    out.set_to_time_ms(to);
    const uint32_t year_month = request.year() * 100 + request.month();
    auto total = [&](int flow, v1::FlowTotal* into) {
      std::optional<v1::FlowTotal> t = ReadRecord<v1::FlowTotal>(
          view_, layout::MonthTotalKey(org, year_month, static_cast<uint8_t>(flow)));
      if (t.has_value()) *into = std::move(*t);
    };
    total(kFlowExtracted, out.mutable_extracted());
    total(kFlowImported, out.mutable_imported());
    total(kFlowReceived, out.mutable_received());
    total(kFlowProcessedIn, out.mutable_processed_in());
    total(kFlowProcessedOut, out.mutable_processed_out());
    total(kFlowLoss, out.mutable_process_loss());
    total(kFlowShipped, out.mutable_shipped());
    total(kFlowExported, out.mutable_exported());
    total(kFlowSeized, out.mutable_seized());
    for (int c = v1::QUOTA_CATEGORY_MINING_LIGHT; c <= v1::QUOTA_CATEGORY_SMELTING_SEPARATION;
         ++c) {
      const auto category = static_cast<v1::QuotaCategory>(c);
      v1::FlowTotal charged;
      total(static_cast<int>(kFlowQuota) + c, &charged);
      std::optional<v1::Quota> quota =
          ReadRecord<v1::Quota>(view_, layout::QuotaKey(org, request.year(), category));
      if (charged.reo_g() == 0 && !quota.has_value()) continue;
      v1::QuotaUseRow* row = out.add_quota();
      row->set_org_id(org);
      row->set_year(request.year());
      row->set_category(category);
      row->set_used_g(charged.reo_g());  // charged in this month
      if (quota.has_value()) {
        row->set_granted_g(quota->granted_g());
        row->set_cut_g(quota->cut_g());
        row->set_left_g(
            std::max<int64_t>(0, quota->granted_g() - quota->cut_g() - quota->used_g()));
      }
    }
    REEL_RETURN_IF_ERROR(paging::FillPage(
        view_, KeyRange{layout::FlowTimeKey(org, from), layout::FlowTimeKey(org, to)}, *page, &out,
        [](std::string_view k, std::string_view v, v1::MonthlyFlowReportResponse& page_out) {
          *page_out.add_entries() = ParseValue<v1::FlowEntry>(k, v);
          return true;
        }));
    return out;
  });
}

}  // namespace reel::ledger
