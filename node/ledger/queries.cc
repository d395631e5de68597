#include "node/ledger/queries.h"

#include <algorithm>
#include <deque>
#include <map>
#include <set>

#include "base/bytes.h"
#include "base/limits.h"
#include "crypto/hash.h"
#include "node/ledger/exec.h"
#include "node/ledger/ledger.h"
#include "node/ledger/state.h"

namespace reel::ledger {
namespace {

constexpr char kTokenVersion = 1;
constexpr size_t kFingerprintBytes = 8;

// Runs a query body, turning a store read error or damage into its Status.
template <typename T, typename F>
Result<T> Guarded(F&& body) {
  try {
    return body();
  } catch (const StorageFault& fault) {
    return fault.status;
  }
}

// --- Paging --------------------------------------------------------------------------------

struct Page {
  uint32_t size = limits::query_page_size_default;
  std::string fingerprint;
  std::string payload;  // what the previous page left off at; empty on the first page
};

// The filters of a request, without its page fields: a token only fits the filters it
// came from.
std::string Fingerprint(const google::protobuf::Message& request) {
  std::unique_ptr<google::protobuf::Message> copy(request.New());
  copy->CopyFrom(request);
  for (int number : {1, 2}) {
    const google::protobuf::FieldDescriptor* f = copy->GetDescriptor()->FindFieldByNumber(number);
    if (f != nullptr) copy->GetReflection()->ClearField(copy.get(), f);
  }
  const crypto::Hash32 h = crypto::Blake2b256(copy->SerializeAsString());
  return std::string(crypto::AsBytes(h).substr(0, kFingerprintBytes));
}

Result<Page> OpenPage(const google::protobuf::Message& request, uint32_t page_size,
                      const std::string& token) {
  Page page;
  page.size = page_size == 0 ? limits::query_page_size_default
                             : std::min(page_size, limits::query_page_size_max);
  page.fingerprint = Fingerprint(request);
  if (token.empty()) return page;
  if (token.size() < 1 + kFingerprintBytes || token[0] != kTokenVersion ||
      token.substr(1, kFingerprintBytes) != page.fingerprint) {
    return Status::InvalidArgument(
        "page_token does not belong to this request: repeat the same filters, "
        "or start again with an empty token");
  }
  page.payload = token.substr(1 + kFingerprintBytes);
  if (page.payload.empty()) return Status::InvalidArgument("page_token is empty inside");
  return page;
}

std::string Token(const Page& page, std::string_view payload) {
  std::string t(1, kTokenVersion);
  t += page.fingerprint;
  t += payload;
  return t;
}

// Visits the keys in [begin, end) (end empty: to the last key) after the page's cursor.
// `take` returns whether the key produced an item. Returns the next token: empty at the
// end of the range.
template <typename Take>
Result<std::string> ScanRangePage(const storage::ReadView& view, const std::string& begin,
                                  const std::string& end, const Page& page, Take&& take) {
  std::unique_ptr<storage::Iterator> it = view.NewIterator();
  if (page.payload.empty()) {
    it->Seek(begin);
  } else {
    if (page.payload < begin || (!end.empty() && page.payload >= end)) {
      return Status::InvalidArgument("page_token is out of range");
    }
    it->Seek(page.payload);
    if (it->Valid() && it->key() == page.payload) it->Next();
  }
  uint32_t items = 0;
  size_t scanned = 0;
  for (; it->Valid() && (end.empty() || it->key() < end); it->Next()) {
    if (take(it->key(), it->value())) ++items;
    ++scanned;
    if (items >= page.size || scanned >= limits::query_page_keys_scanned_max) {
      return Token(page, it->key());
    }
  }
  if (!it->status().ok()) return it->status();
  return std::string();
}

// ScanRangePage over every key that starts with `prefix`.
template <typename Take>
Result<std::string> ScanPage(const storage::ReadView& view, const std::string& prefix,
                             const Page& page, Take&& take) {
  return ScanRangePage(view, prefix, storage::PrefixEnd(prefix), page, std::forward<Take>(take));
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

std::string DotQuote(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '\\';
    out += c;
  }
  return out + "\"";
}

std::string Dot(const v1::TraceLotResponse& page) {
  std::string dot = "digraph trace {\n  rankdir=LR;\n";
  for (const v1::TraceNode& n : page.nodes()) {
    const char* shape = n.kind() == v1::TRACE_NODE_KIND_LOT    ? "box"
                        : n.kind() == v1::TRACE_NODE_KIND_MINE ? "house"
                                                               : "ellipse";
    dot += "  " + DotQuote(n.node_id()) + " [shape=" + shape + ", label=" + DotQuote(n.label()) +
           "];\n";
  }
  for (const v1::TraceEdge& e : page.edges()) {
    dot += "  " + DotQuote(e.from_node_id()) + " -> " + DotQuote(e.to_node_id()) +
           " [label=" + DotQuote(std::to_string(e.reo_g()) + " g") + "];\n";
  }
  return dot + "}\n";
}

}  // namespace

// --- Organisations and sites ---------------------------------------------------------------

Result<v1::GetOrgResponse> Queries::GetOrg(const v1::GetOrgRequest& request) const {
  return Guarded<v1::GetOrgResponse>([&]() -> Result<v1::GetOrgResponse> {
    std::optional<v1::Org> org = ReadRecord<v1::Org>(view_, layout::OrgKey(request.org_id()));
    if (!org.has_value())
      return Status::NotFound("organisation '" + request.org_id() + "' is not registered");
    v1::GetOrgResponse out;
    *out.mutable_org() = std::move(*org);
    return out;
  });
}

Result<v1::ListOrgsResponse> Queries::ListOrgs(const v1::ListOrgsRequest& request) const {
  return Guarded<v1::ListOrgsResponse>([&]() -> Result<v1::ListOrgsResponse> {
    Result<Page> page = OpenPage(request, request.page_size(), request.page_token());
    if (!page.ok()) return page.status();
    v1::ListOrgsResponse out;
    Result<std::string> next = ScanPage(
        view_, layout::StatePrefix('o'), *page, [&](std::string_view k, std::string_view v) {
          v1::Org org = ParseValue<v1::Org>(k, v);
          if (request.role() != v1::ROLE_UNSPECIFIED && !HasRole(org, request.role())) return false;
          if (request.kind() != v1::ORG_KIND_UNSPECIFIED && org.kind() != request.kind())
            return false;
          if (request.status() != v1::ORG_STATUS_UNSPECIFIED && org.status() != request.status())
            return false;
          *out.add_orgs() = std::move(org);
          return true;
        });
    if (!next.ok()) return next.status();
    out.set_next_page_token(*next);
    return out;
  });
}

Result<v1::ListSitesResponse> Queries::ListSites(const v1::ListSitesRequest& request) const {
  return Guarded<v1::ListSitesResponse>([&]() -> Result<v1::ListSitesResponse> {
    Result<Page> page = OpenPage(request, request.page_size(), request.page_token());
    if (!page.ok()) return page.status();
    v1::ListSitesResponse out;
    Result<std::string> next = ScanPage(
        view_, layout::StatePrefix('s'), *page, [&](std::string_view k, std::string_view v) {
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
    if (!next.ok()) return next.status();
    out.set_next_page_token(*next);
    return out;
  });
}

// --- Lots -------------------------------------------------------------------------------------

Result<v1::GetLotResponse> Queries::GetLot(const v1::GetLotRequest& request) const {
  return Guarded<v1::GetLotResponse>([&]() -> Result<v1::GetLotResponse> {
    std::optional<v1::Lot> lot = ReadRecord<v1::Lot>(view_, layout::LotKey(request.lot_id()));
    if (!lot.has_value()) return Status::NotFound("lot '" + request.lot_id() + "' does not exist");
    v1::GetLotResponse out;
    *out.mutable_lot() = std::move(*lot);
    return out;
  });
}

Result<v1::LotHistoryResponse> Queries::LotHistory(const v1::LotHistoryRequest& request) const {
  return Guarded<v1::LotHistoryResponse>([&]() -> Result<v1::LotHistoryResponse> {
    if (!GetOrThrow(view_, layout::LotKey(request.lot_id())).has_value()) {
      return Status::NotFound("lot '" + request.lot_id() + "' does not exist");
    }
    Result<Page> page = OpenPage(request, request.page_size(), request.page_token());
    if (!page.ok()) return page.status();
    v1::LotHistoryResponse out;
    Result<std::string> next = ScanPage(view_, layout::LotEventPrefix(request.lot_id()), *page,
                                        [&](std::string_view k, std::string_view v) {
                                          *out.add_events() = ParseValue<v1::LotEvent>(k, v);
                                          return true;
                                        });
    if (!next.ok()) return next.status();
    out.set_next_page_token(*next);
    return out;
  });
}

Result<v1::TraceLotResponse> Queries::TraceLot(const v1::TraceLotRequest& request) const {
  return Guarded<v1::TraceLotResponse>([&]() -> Result<v1::TraceLotResponse> {
    std::optional<v1::Lot> start = ReadRecord<v1::Lot>(view_, layout::LotKey(request.lot_id()));
    if (!start.has_value())
      return Status::NotFound("lot '" + request.lot_id() + "' does not exist");
    Result<Page> page = OpenPage(request, request.page_size(), request.page_token());
    if (!page.ok()) return page.status();
    uint64_t offset = 0;
    if (!page->payload.empty()) {
      if (page->payload.size() != 8) return Status::InvalidArgument("page_token is malformed");
      offset = ReadU64BE(page->payload);
    }
    const uint64_t end = offset + page->size;
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
      out.set_next_page_token(Token(*page, payload));
    }
    if (request.include_dot()) out.set_dot(Dot(out));
    return out;
  });
}

Result<v1::HoldingsResponse> Queries::Holdings(const v1::HoldingsRequest& request) const {
  return Guarded<v1::HoldingsResponse>([&]() -> Result<v1::HoldingsResponse> {
    if (!GetOrThrow(view_, layout::OrgKey(request.org_id())).has_value()) {
      return Status::NotFound("organisation '" + request.org_id() + "' is not registered");
    }
    Result<Page> page = OpenPage(request, request.page_size(), request.page_token());
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
    Status s = storage::ScanPrefix(view_, layout::HoldingSummaryPrefix(request.org_id()),
                                   [&](std::string_view k, std::string_view v) {
                                     v1::HoldingSummary sum = ParseValue<v1::HoldingSummary>(k, v);
                                     if (wanted(sum.status(), sum.product()))
                                       *out.add_summaries() = std::move(sum);
                                     return true;
                                   });
    if (!s.ok()) return s;
    const std::string prefix = layout::HolderPrefix(request.org_id());
    Result<std::string> next =
        ScanPage(view_, prefix, *page, [&](std::string_view k, std::string_view) {
          std::optional<v1::Lot> lot =
              ReadRecord<v1::Lot>(view_, layout::LotKey(k.substr(prefix.size())));
          if (!lot.has_value() || lot->holder_org_id() != request.org_id() ||
              !wanted(lot->status(), lot->product())) {
            return false;
          }
          *out.add_lots() = std::move(*lot);
          return true;
        });
    if (!next.ok()) return next.status();
    out.set_next_page_token(*next);
    return out;
  });
}

Result<v1::ListTransferOffersResponse> Queries::ListTransferOffers(
    const v1::ListTransferOffersRequest& request) const {
  return Guarded<v1::ListTransferOffersResponse>([&]() -> Result<v1::ListTransferOffersResponse> {
    Result<Page> page = OpenPage(request, request.page_size(), request.page_token());
    if (!page.ok()) return page.status();
    v1::ListTransferOffersResponse out;
    Result<std::string> next = ScanPage(
        view_, layout::StatePrefix('t'), *page, [&](std::string_view k, std::string_view v) {
          v1::TransferOfferRecord o = ParseValue<v1::TransferOfferRecord>(k, v);
          if (!request.from_org_id().empty() && o.from_org_id() != request.from_org_id())
            return false;
          if (!request.to_org_id().empty() && o.to_org_id() != request.to_org_id()) return false;
          if (request.status() != v1::TRANSFER_STATUS_UNSPECIFIED && o.status() != request.status())
            return false;
          *out.add_offers() = std::move(o);
          return true;
        });
    if (!next.ok()) return next.status();
    out.set_next_page_token(*next);
    return out;
  });
}

// --- Quotas -------------------------------------------------------------------------------------

Result<v1::QuotaUseResponse> Queries::QuotaUse(const v1::QuotaUseRequest& request) const {
  return Guarded<v1::QuotaUseResponse>([&]() -> Result<v1::QuotaUseResponse> {
    Result<Page> page = OpenPage(request, request.page_size(), request.page_token());
    if (!page.ok()) return page.status();
    const uint32_t year = request.year() != 0
                              ? request.year()
                              : static_cast<uint32_t>(CstDate(LastBlockTime(view_)).year);
    const std::string prefix =
        request.org_id().empty() ? layout::StatePrefix('q') : layout::QuotaPrefix(request.org_id());
    v1::QuotaUseResponse out;
    Result<std::string> next =
        ScanPage(view_, prefix, *page, [&](std::string_view k, std::string_view v) {
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
    if (!next.ok()) return next.status();
    out.set_next_page_token(*next);
    return out;
  });
}

// --- Licences and restrictions ----------------------------------------------------------------

Result<v1::GetLicenceResponse> Queries::GetLicence(const v1::GetLicenceRequest& request) const {
  return Guarded<v1::GetLicenceResponse>([&]() -> Result<v1::GetLicenceResponse> {
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
  return Guarded<v1::ListLicencesResponse>([&]() -> Result<v1::ListLicencesResponse> {
    Result<Page> page = OpenPage(request, request.page_size(), request.page_token());
    if (!page.ok()) return page.status();
    const bool by_applicant = !request.applicant_org_id().empty();
    const std::string prefix = by_applicant
                                   ? layout::ApplicantLicenceKey(request.applicant_org_id(), "")
                                   : layout::StatePrefix('c');
    const std::string end_user = NormalizeName(request.end_user());
    v1::ListLicencesResponse out;
    Result<std::string> next =
        ScanPage(view_, prefix, *page, [&](std::string_view k, std::string_view v) {
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
    if (!next.ok()) return next.status();
    out.set_next_page_token(*next);
    return out;
  });
}

Result<v1::MatchingRestrictionsResponse> Queries::MatchingRestrictions(
    const v1::MatchingRestrictionsRequest& request) const {
  return Guarded<v1::MatchingRestrictionsResponse>(
      [&]() -> Result<v1::MatchingRestrictionsResponse> {
        std::optional<v1::Licence> l =
            ReadRecord<v1::Licence>(view_, layout::LicenceKey(request.licence_id()));
        if (!l.has_value())
          return Status::NotFound("licence '" + request.licence_id() + "' does not exist");
        Result<Page> page = OpenPage(request, request.page_size(), request.page_token());
        if (!page.ok()) return page.status();
        const uint64_t now = LastBlockTime(view_);
        v1::MatchingRestrictionsResponse out;
        Result<std::string> next = ScanPage(view_, layout::StatePrefix('r'), *page,
                                            [&](std::string_view k, std::string_view v) {
                                              v1::Restriction r = ParseValue<v1::Restriction>(k, v);
                                              if (!Matches(r.match(), TermsOf(*l))) return false;
                                              if (!request.include_inactive() && !InForce(r, now))
                                                return false;
                                              *out.add_restrictions() = std::move(r);
                                              return true;
                                            });
        if (!next.ok()) return next.status();
        out.set_next_page_token(*next);
        return out;
      });
}

Result<v1::RestrictionImpactResponse> Queries::RestrictionImpact(
    const v1::RestrictionImpactRequest& request) const {
  return Guarded<v1::RestrictionImpactResponse>([&]() -> Result<v1::RestrictionImpactResponse> {
    Refusal form = CheckMatch(request.match());
    if (!form.ok()) return Status::InvalidArgument(form.message);
    const bool deny = request.effect() == v1::RESTRICTION_EFFECT_DENY;
    if (!deny && request.effect() != v1::RESTRICTION_EFFECT_REVIEW) {
      return Status::InvalidArgument("effect must be DENY or REVIEW");
    }
    Result<Page> page = OpenPage(request, request.page_size(), request.page_token());
    if (!page.ok()) return page.status();
    v1::RestrictionImpactResponse out;
    auto live = [](const v1::Licence& l) {
      return l.status() == v1::LICENCE_STATUS_PENDING ||
             l.status() == v1::LICENCE_STATUS_PENDING_REVIEW ||
             l.status() == v1::LICENCE_STATUS_GRANTED;
    };
    // Phase 1 ('L' + last licence key): the live licences the match hits.
    std::string cursor = page->payload;
    if (cursor.empty() || cursor[0] == 'L') {
      Page licences = *page;
      licences.payload = cursor.empty() ? "" : cursor.substr(1);
      Result<std::string> next = ScanPage(
          view_, layout::StatePrefix('c'), licences, [&](std::string_view k, std::string_view v) {
            v1::Licence l = ParseValue<v1::Licence>(k, v);
            if (!live(l) || !Matches(request.match(), TermsOf(l))) return false;
            const bool granted = l.status() == v1::LICENCE_STATUS_GRANTED;
            v1::ImpactedLicence* i = out.add_licences();
            i->set_would_revoke(granted && deny && request.revoke_outstanding() &&
                                l.exported_mass_g() < l.mass_g());
            i->set_would_block_clearing(granted && deny);
            i->set_would_affect_decision(!granted);
            *i->mutable_licence() = std::move(l);
            return true;
          });
      if (!next.ok()) return next.status();
      if (!next->empty()) {
        out.set_next_page_token(Token(*page, "L" + next->substr(1 + kFingerprintBytes)));
        return out;
      }
      cursor = "O";
    }
    // Phase 2 ('O' + last holder-index key): ACTIVE lots of the applicants of matched
    // licences, of those licences' products, holding a matched element (any if none).
    const std::string after = cursor.substr(1);
    uint32_t items = out.licences_size();
    size_t scanned = 0;
    std::unique_ptr<storage::Iterator> orgs = view_.NewIterator();
    const std::string org_prefix = layout::StatePrefix('o');
    std::string first_org;
    if (!after.empty()) {
      const std::string holder_prefix = layout::IndexPrefix('h');
      if (!after.starts_with(holder_prefix))
        return Status::InvalidArgument("page_token is out of range");
      first_org = after.substr(holder_prefix.size(),
                               after.find('\0', holder_prefix.size()) - holder_prefix.size());
    }
    for (orgs->Seek(org_prefix + first_org); orgs->Valid() && orgs->key().starts_with(org_prefix);
         orgs->Next()) {
      const std::string org(orgs->key().substr(org_prefix.size()));
      // The products of this organisation's matched live licences (at most 8).
      std::set<int> products;
      const std::string applied = layout::ApplicantLicenceKey(org, "");
      Status s = storage::ScanPrefix(view_, applied, [&](std::string_view k, std::string_view) {
        std::optional<v1::Licence> l =
            ReadRecord<v1::Licence>(view_, layout::LicenceKey(k.substr(applied.size())));
        if (l.has_value() && live(*l) && Matches(request.match(), TermsOf(*l)))
          products.insert(l->product());
        return true;
      });
      if (!s.ok()) return s;
      if (products.empty()) continue;
      const std::string held = layout::HolderPrefix(org);
      std::unique_ptr<storage::Iterator> it = view_.NewIterator();
      it->Seek(after.starts_with(held) ? after : held);
      if (it->Valid() && it->key() == after) it->Next();
      for (; it->Valid() && it->key().starts_with(held); it->Next()) {
        if (items >= page->size || ++scanned >= limits::query_page_keys_scanned_max) {
          out.set_next_page_token(Token(*page, "O" + std::string(it->key())));
          return out;
        }
        std::optional<v1::Lot> lot =
            ReadRecord<v1::Lot>(view_, layout::LotKey(it->key().substr(held.size())));
        if (!lot.has_value() || lot->holder_org_id() != org ||
            lot->status() != v1::LOT_STATUS_ACTIVE || !products.count(lot->product())) {
          continue;
        }
        bool element = request.match().elements().empty();
        for (const v1::ElementAmount& a : lot->composition().amounts()) {
          element = element ||
                    std::find(request.match().elements().begin(), request.match().elements().end(),
                              a.element()) != request.match().elements().end();
        }
        if (!element) continue;
        *out.add_lots() = std::move(*lot);
        ++items;
      }
    }
    return out;
  });
}

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

}  // namespace

Result<v1::ExportStatsResponse> Queries::ExportStats(const v1::ExportStatsRequest& request) const {
  return Guarded<v1::ExportStatsResponse>([&]() -> Result<v1::ExportStatsResponse> {
    const v1::ExportGroupBy by = request.group_by();
    if (by == v1::EXPORT_GROUP_BY_UNSPECIFIED || !v1::ExportGroupBy_IsValid(by)) {
      return Status::InvalidArgument("group_by is required");
    }
    Result<Page> page = OpenPage(request, request.page_size(), request.page_token());
    if (!page.ok()) return page.status();
    const std::string& after = page->payload;
    // The page's groups: the page_size smallest keys after the cursor, with full sums.
    std::map<std::string, v1::ExportStatsRow> rows;
    auto add = [&](const std::string& key, const v1::ExportRecord& x, const ElementGrams& grams,
                   int64_t mass) {
      if (key <= after && !after.empty()) return;
      auto it = rows.find(key);
      if (it == rows.end()) {
        if (rows.size() >= page->size) {
          if (key > rows.rbegin()->first) return;
          rows.erase(std::prev(rows.end()));
        }
        it = rows.emplace(key, v1::ExportStatsRow()).first;
        it->second.set_key(by == v1::EXPORT_GROUP_BY_END_USER ? x.end_user() : key);
        if (by == v1::EXPORT_GROUP_BY_INDUSTRY) it->second.set_industry(x.industry());
      }
      v1::ExportStatsRow& row = it->second;
      row.set_export_count(row.export_count() + 1);
      row.set_mass_g(row.mass_g() + mass);
      ElementGrams sum = ToGrams(row.composition());
      AddGrams(&sum, grams);
      *row.mutable_composition() = FromGrams(sum);
      row.set_reo_g(SumGrams(sum));
    };
    Status s = storage::ScanPrefix(
        view_, layout::IndexPrefix('X'), [&](std::string_view, std::string_view tx) {
          std::optional<v1::ExportRecord> x =
              ReadRecord<v1::ExportRecord>(view_, layout::ExportKey(tx));
          if (!x.has_value()) return true;
          if (request.to_time_ms() != 0 && x->time_ms() >= request.to_time_ms())
            return false;  // by time order
          if (x->time_ms() < request.from_time_ms()) return true;
          if (!request.destination_country().empty() &&
              x->destination_country() != request.destination_country()) {
            return true;
          }
          if (!request.end_user().empty() &&
              NormalizeName(x->end_user()) != NormalizeName(request.end_user()))
            return true;
          if (request.industry() != v1::INDUSTRY_UNSPECIFIED && x->industry() != request.industry())
            return true;
          if (request.product() != v1::PRODUCT_FORM_UNSPECIFIED &&
              x->product() != request.product())
            return true;
          if (!request.exporter_org_id().empty() &&
              x->exporter_org_id() != request.exporter_org_id())
            return true;
          const ElementGrams grams = ToGrams(x->composition());
          if (request.element() != v1::ELEMENT_UNSPECIFIED && grams[request.element()] == 0)
            return true;
          if (by != v1::EXPORT_GROUP_BY_ELEMENT) {
            add(GroupKey(*x, by, v1::ELEMENT_UNSPECIFIED), *x, grams, x->mass_g());
            return true;
          }
          for (size_t e = 1; e < grams.size(); ++e) {
            if (grams[e] == 0) continue;
            ElementGrams one{};
            one[e] = grams[e];
            add(GroupKey(*x, by, static_cast<v1::Element>(e)), *x, one, x->mass_g());
          }
          return true;
        });
    if (!s.ok()) return s;
    v1::ExportStatsResponse out;
    for (auto& [key, row] : rows) {
      if (by == v1::EXPORT_GROUP_BY_ELEMENT) {
        v1::Element e = v1::ELEMENT_UNSPECIFIED;
        if (v1::Element_Parse(key, &e)) row.set_element(e);
        row.set_key(ElementName(e));
      }
      *out.add_rows() = std::move(row);
    }
    if (rows.size() >= page->size) out.set_next_page_token(Token(*page, rows.rbegin()->first));
    return out;
  });
}

Result<v1::LicenceVerdictResponse> Queries::LicenceVerdict(
    const v1::LicenceVerdictRequest& request) const {
  return Guarded<v1::LicenceVerdictResponse>([&]() -> Result<v1::LicenceVerdictResponse> {
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
    if (r.ok() && !HasRole(*applicant, v1::ROLE_EXPORTER)) {
      r = Refuse(v1::UNAUTHORIZED_ROLE,
                 "applicant '" + request.applicant_org_id() + "' is not an EXPORTER");
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
  return Guarded<v1::ListRestrictionsResponse>([&]() -> Result<v1::ListRestrictionsResponse> {
    Result<Page> page = OpenPage(request, request.page_size(), request.page_token());
    if (!page.ok()) return page.status();
    const uint64_t now = LastBlockTime(view_);
    v1::ListRestrictionsResponse out;
    Result<std::string> next = ScanPage(
        view_, layout::StatePrefix('r'), *page, [&](std::string_view k, std::string_view v) {
          v1::Restriction r = ParseValue<v1::Restriction>(k, v);
          if (request.active_only() && !InForce(r, now)) return false;
          if (request.effect() != v1::RESTRICTION_EFFECT_UNSPECIFIED &&
              r.effect() != request.effect())
            return false;
          *out.add_restrictions() = std::move(r);
          return true;
        });
    if (!next.ok()) return next.status();
    out.set_next_page_token(*next);
    return out;
  });
}

// --- Exports and violations ----------------------------------------------------------------------

Result<v1::ListExportsResponse> Queries::ListExports(const v1::ListExportsRequest& request) const {
  return Guarded<v1::ListExportsResponse>([&]() -> Result<v1::ListExportsResponse> {
    Result<Page> page = OpenPage(request, request.page_size(), request.page_token());
    if (!page.ok()) return page.status();
    v1::ListExportsResponse out;
    Result<std::string> next = ScanPage(
        view_, layout::IndexPrefix('X'), *page, [&](std::string_view, std::string_view tx) {
          std::optional<v1::ExportRecord> x =
              ReadRecord<v1::ExportRecord>(view_, layout::ExportKey(tx));
          if (!x.has_value()) return false;
          if (!request.licence_id().empty() && x->licence_id() != request.licence_id())
            return false;
          if (!request.exporter_org_id().empty() &&
              x->exporter_org_id() != request.exporter_org_id())
            return false;
          if (!request.destination_country().empty() &&
              x->destination_country() != request.destination_country()) {
            return false;
          }
          if (!InPeriod(x->time_ms(), request.from_time_ms(), request.to_time_ms())) return false;
          *out.add_exports() = std::move(*x);
          return true;
        });
    if (!next.ok()) return next.status();
    out.set_next_page_token(*next);
    return out;
  });
}

// --- Reports ---------------------------------------------------------------------------------

namespace {

constexpr uint32_t kLossThresholdPermilleDefault = 100;

Status CheckOrgExists(const storage::ReadView& view, const std::string& org_id) {
  if (GetOrThrow(view, layout::OrgKey(org_id)).has_value()) return Status::Ok();
  return Status::NotFound("organisation '" + org_id + "' is not registered");
}

}  // namespace

Result<v1::MassBalanceResponse> Queries::MassBalance(const v1::MassBalanceRequest& request) const {
  return Guarded<v1::MassBalanceResponse>([&]() -> Result<v1::MassBalanceResponse> {
    REEL_RETURN_IF_ERROR(CheckOrgExists(view_, request.org_id()));
    Result<Page> page = OpenPage(request, request.page_size(), request.page_token());
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
    Result<std::string> next =
        ScanRangePage(view_, begin, end, *page, [&](std::string_view k, std::string_view v) {
          v1::MassBalanceOutlier step = ParseValue<v1::MassBalanceOutlier>(k, v);
          if (step.loss_permille() <= threshold) return false;
          *out.add_outliers() = std::move(step);
          return true;
        });
    if (!next.ok()) return next.status();
    out.set_next_page_token(*next);
    return out;
  });
}

Result<v1::MonthlyFlowReportResponse> Queries::MonthlyFlowReport(
    const v1::MonthlyFlowReportRequest& request) const {
  return Guarded<v1::MonthlyFlowReportResponse>([&]() -> Result<v1::MonthlyFlowReportResponse> {
    if (request.month() < 1 || request.month() > 12)
      return Status::InvalidArgument("month must be 1..12");
    if (request.year() < limits::ledger_quota_year_min ||
        request.year() > limits::ledger_quota_year_max) {
      return Status::InvalidArgument("year out of range");
    }
    REEL_RETURN_IF_ERROR(CheckOrgExists(view_, request.org_id()));
    Result<Page> page = OpenPage(request, request.page_size(), request.page_token());
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
    Result<std::string> next =
        ScanRangePage(view_, layout::FlowTimeKey(org, from), layout::FlowTimeKey(org, to), *page,
                      [&](std::string_view k, std::string_view v) {
                        *out.add_entries() = ParseValue<v1::FlowEntry>(k, v);
                        return true;
                      });
    if (!next.ok()) return next.status();
    out.set_next_page_token(*next);
    return out;
  });
}

Result<v1::ListViolationsResponse> Queries::ListViolations(
    const v1::ListViolationsRequest& request) const {
  return Guarded<v1::ListViolationsResponse>([&]() -> Result<v1::ListViolationsResponse> {
    Result<Page> page = OpenPage(request, request.page_size(), request.page_token());
    if (!page.ok()) return page.status();
    v1::ListViolationsResponse out;
    Result<std::string> next = ScanPage(
        view_, layout::IndexPrefix('V'), *page, [&](std::string_view, std::string_view id) {
          std::optional<v1::Violation> v =
              ReadRecord<v1::Violation>(view_, layout::ViolationKey(id));
          if (!v.has_value()) return false;
          if (!request.org_id().empty() && v->org_id() != request.org_id()) return false;
          if (request.kind() != v1::VIOLATION_KIND_UNSPECIFIED && v->kind() != request.kind())
            return false;
          if (!InPeriod(v->time_ms(), request.from_time_ms(), request.to_time_ms())) return false;
          *out.add_violations() = std::move(*v);
          return true;
        });
    if (!next.ok()) return next.status();
    out.set_next_page_token(*next);
    return out;
  });
}

}  // namespace reel::ledger
