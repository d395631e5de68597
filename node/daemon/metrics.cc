#include "node/daemon/metrics.h"

#include <algorithm>
#include <map>

#include "base/assert.h"

namespace reel::daemon {
namespace {

bool IsMetricName(std::string_view name) {
  if (name.empty()) return false;
  auto first = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
  };
  if (!first(name.front())) return false;
  return std::all_of(name.begin(), name.end(),
                     [&](char c) { return first(c) || (c >= '0' && c <= '9'); });
}

// HELP text escapes backslash and newline (exposition format 0.0.4).
std::string EscapeHelp(std::string_view help) {
  std::string out;
  for (char c : help) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

bool IsLabelName(std::string_view name) {
  return IsMetricName(name) && name.find(':') == std::string_view::npos &&
         name.substr(0, 2) != "__";
}

// Label values escape backslash, double quote and newline (exposition format 0.0.4).
std::string RenderLabels(const MetricsRegistry::Labels& labels) {
  if (labels.empty()) return {};
  std::string out = "{";
  for (const auto& [name, value] : labels) {
    REEL_ASSERT(IsLabelName(name));
    if (out.size() > 1) out += ',';
    out += name + "=\"";
    for (char c : value) {
      if (c == '\\' || c == '"') {
        out += '\\';
        out += c;
      } else if (c == '\n') {
        out += "\\n";
      } else {
        out += c;
      }
    }
    out += '"';
  }
  return out + "}";
}

}  // namespace

Histogram::Histogram(std::vector<uint64_t> bounds)
    : bounds_(std::move(bounds)), counts_(new std::atomic<uint64_t>[bounds_.size() + 1]) {
  REEL_ASSERT(!bounds_.empty());
  REEL_ASSERT(std::adjacent_find(bounds_.begin(), bounds_.end(), std::greater_equal<>()) ==
              bounds_.end());
  for (size_t i = 0; i <= bounds_.size(); ++i) counts_[i].store(0, std::memory_order_relaxed);
}

void Histogram::Observe(uint64_t value) {
  size_t index = static_cast<size_t>(std::lower_bound(bounds_.begin(), bounds_.end(), value) -
                                     bounds_.begin());
  counts_[index].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(value, std::memory_order_relaxed);
}

uint64_t Histogram::cumulative_count(size_t index) const {
  REEL_ASSERT(index <= bounds_.size());
  uint64_t total = 0;
  for (size_t i = 0; i <= index; ++i) total += counts_[i].load(std::memory_order_relaxed);
  return total;
}

// The entry of `name` with `labels`, if any. Every entry of `name` must be of `kind`.
MetricsRegistry::Entry* MetricsRegistry::Find(std::string_view name, Kind kind,
                                              std::string_view labels) {
  Entry* found = nullptr;
  for (Entry& entry : entries_) {
    if (entry.name != name) continue;
    REEL_ASSERT(entry.kind == kind);
    if (entry.labels == labels) found = &entry;
  }
  return found;
}

Counter& MetricsRegistry::AddCounter(std::string_view name, std::string_view help) {
  return AddCounter(name, help, {});
}

Counter& MetricsRegistry::AddCounter(std::string_view name, std::string_view help,
                                     const Labels& labels) {
  REEL_ASSERT(IsMetricName(name));
  std::string rendered = RenderLabels(labels);
  MutexLock lock(&mutex_);
  if (Entry* entry = Find(name, Kind::kCounter, rendered)) {
    return *entry->counter;
  }
  Counter& counter = counters_.emplace_back();
  entries_.push_back(
      {std::string(name), std::string(help), Kind::kCounter, std::move(rendered), &counter});
  return counter;
}

Gauge& MetricsRegistry::AddGauge(std::string_view name, std::string_view help) {
  REEL_ASSERT(IsMetricName(name));
  MutexLock lock(&mutex_);
  if (Entry* entry = Find(name, Kind::kGauge)) {
    return *entry->gauge;
  }
  Gauge& gauge = gauges_.emplace_back();
  entries_.push_back({std::string(name), std::string(help), Kind::kGauge, {}, nullptr, &gauge});
  return gauge;
}

Histogram& MetricsRegistry::AddHistogram(std::string_view name, std::string_view help,
                                         std::vector<uint64_t> bounds) {
  REEL_ASSERT(IsMetricName(name));
  MutexLock lock(&mutex_);
  if (Entry* entry = Find(name, Kind::kHistogram)) {
    REEL_ASSERT(entry->histogram->bounds() == bounds);
    return *entry->histogram;
  }
  Histogram& histogram = *histograms_.emplace_back(std::make_unique<Histogram>(std::move(bounds)));
  entries_.push_back(
      {std::string(name), std::string(help), Kind::kHistogram, {}, nullptr, nullptr, &histogram});
  return histogram;
}

std::string MetricsRegistry::RenderPrometheus() const {
  MutexLock lock(&mutex_);
  // A family's counters go together, where its first one was registered.
  std::map<std::string_view, std::vector<const Entry*>> families;
  for (const Entry& entry : entries_) families[entry.name].push_back(&entry);
  std::string out;
  for (const Entry& entry : entries_) {
    const std::vector<const Entry*>& family = families[entry.name];
    if (family.front() != &entry) continue;
    out += "# HELP " + entry.name + " " + EscapeHelp(entry.help) + "\n";
    switch (entry.kind) {
      case Kind::kCounter:
        out += "# TYPE " + entry.name + " counter\n";
        for (const Entry* member : family) {
          out +=
              member->name + member->labels + " " + std::to_string(member->counter->value()) + "\n";
        }
        break;
      case Kind::kGauge:
        out += "# TYPE " + entry.name + " gauge\n";
        out += entry.name + " " + std::to_string(entry.gauge->value()) + "\n";
        break;
      case Kind::kHistogram: {
        const Histogram& h = *entry.histogram;
        out += "# TYPE " + entry.name + " histogram\n";
        for (size_t i = 0; i < h.bounds().size(); ++i) {
          out += entry.name + "_bucket{le=\"" + std::to_string(h.bounds()[i]) + "\"} " +
                 std::to_string(h.cumulative_count(i)) + "\n";
        }
        uint64_t count = h.cumulative_count(h.bounds().size());
        out += entry.name + "_bucket{le=\"+Inf\"} " + std::to_string(count) + "\n";
        out += entry.name + "_sum " + std::to_string(h.sum()) + "\n";
        out += entry.name + "_count " + std::to_string(count) + "\n";
        break;
      }
    }
  }
  return out;
}

NodeMetrics::NodeMetrics(MetricsRegistry& registry)
    : height(registry.AddGauge("reel_height", "Height of the last committed block.")),
      round(registry.AddGauge("reel_round", "Current consensus round.")),
      epoch(registry.AddGauge("reel_epoch",
                              "Epoch of the committed state (validator-set changes end one).")),
      view_changes(registry.AddCounter("reel_view_changes_total",
                                       "Rounds that ended by a timeout certificate.")),
      mempool_size(registry.AddGauge("reel_mempool_size", "Transactions in the mempool.")),
      peers(registry.AddGauge("reel_peers", "Connected validator peers.")),
      commit_latency(registry.AddHistogram(
          "reel_commit_latency_ms", "Milliseconds from a transaction's admission to its commit.",
          {10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000})),
      verify_per_second(registry.AddGauge("reel_verify_per_second",
                                          "Signatures verified during the last second.")),
      start_time(
          registry.AddGauge("reel_start_time_seconds", "Unix time at which this process started.")),
      synced_blocks(registry.AddGauge("reel_synced_blocks",
                                      "Committed blocks this node applied by block sync since it "
                                      "started (not through consensus).")),
      gossip_dropped(registry.AddGauge(
          "reel_gossip_dropped",
          "Copies of admitted transactions not gossiped since start because a peer's queue "
          "was full or no gossip stream to it was open (the peer gets them in blocks).")),
      prepared_commits(registry.AddGauge(
          "reel_prepared_commits",
          "Blocks committed since start whose execution was done while their commit was on "
          "the way (the rest, a fork's or a synced block, were executed at their commit).")),
      epoch_unreachable(registry.AddGauge(
          "reel_epoch_unreachable",
          "Peer calls and streams refused because the caller is no validator of this node's "
          "epoch (a removed validator's, for one), and consensus messages this node had no "
          "peer to send to.")) {}

PeerMetrics::PeerMetrics(MetricsRegistry& registry, const std::vector<std::string_view>& drop_kinds)
    : registry_(registry),
      drop_kinds_(drop_kinds),
      dropped_(net::kPeerSlots, std::vector<Counter*>(drop_kinds.size(), nullptr)),
      ranges_refused_(net::kPeerSlots, nullptr),
      throttled_(net::kPeerSlots, nullptr) {
  Register(net::kObserverIndex);
}

void PeerMetrics::Grow(size_t validators, std::optional<uint32_t> self) {
  for (uint32_t peer = 0; peer < validators && peer < net::kObserverIndex; ++peer) {
    if (self != peer && dropped_[peer][0] == nullptr) Register(peer);
  }
}

void PeerMetrics::Register(uint32_t peer) {
  const bool observers = peer == net::kObserverIndex;
  const std::string index = observers ? "observers" : std::to_string(peer);
  for (size_t kind = 0; kind < drop_kinds_.size(); ++kind) {
    dropped_[peer][kind] = &registry_.AddCounter(
        "reel_peer_dropped_total",
        "What a peer sent that this node dropped or refused at its bound, by peer "
        "(validator index in the epoch, or observers) and kind.",
        {{"peer", index}, {"kind", std::string(drop_kinds_[kind])}});
  }
  if (observers) return;
  // (A family renders together whatever the order its counters are registered in.)
  const MetricsRegistry::Labels labels = {{"peer", index}};
  ranges_refused_[peer] = &registry_.AddCounter(
      "reel_sync_ranges_refused_total",
      "Block sync ranges from a validator that failed verification, by peer (validator "
      "index in the epoch).",
      labels);
  throttled_[peer] = &registry_.AddCounter(
      "reel_peer_throttled_total",
      "Consensus messages from a validator that found its budget on this node's loop "
      "full and waited for room (dropped if none came in time), by peer.",
      labels);
}

void AdvanceTo(Counter& counter, uint64_t total) {
  const uint64_t now = counter.value();
  if (total > now) counter.Increment(total - now);
}

}  // namespace reel::daemon
