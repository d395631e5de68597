// A small metrics registry, rendered in Prometheus's text exposition format (0.0.4).
//
// What it promises
//   - Counters (only go up), gauges (set to any integer) and histograms with integer
//     bucket bounds. Integers only: nothing here needs floating point, and integer
//     buckets render exactly.
//   - Thread-safe: every update is a relaxed atomic operation, cheap enough for the
//     consensus thread; Render may run concurrently with updates (it then sees each
//     value at some moment, not all at one moment; a histogram's sum and buckets
//     may disagree by the observations in flight).
//   - A metric is registered once and lives as long as the registry; the references
//     returned stay valid, so a component keeps them and never looks names up again.
//     Registering a name twice with the same kind returns the same metric; names are
//     code constants, so a bad name or a kind clash is a bug (REEL_ASSERT).
//   - Counters may carry labels (`reel_x_total{peer="3",kind="vote"}`): one counter per
//     name and label set, rendered together under one # HELP and # TYPE. Label names are
//     code constants (asserted); values are escaped.
//
// NodeMetrics names the metrics every component of the node updates.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/mutex.h"
#include "node/net/peer_set.h"

namespace reel::daemon {

class Counter {
 public:
  void Increment(uint64_t by = 1) { value_.fetch_add(by, std::memory_order_relaxed); }
  uint64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> value_{0};
};

class Gauge {
 public:
  void Set(int64_t v) { value_.store(v, std::memory_order_relaxed); }
  void Add(int64_t by) { value_.fetch_add(by, std::memory_order_relaxed); }
  int64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<int64_t> value_{0};
};

// Cumulative buckets `le` the given bounds, plus +Inf, as Prometheus expects.
class Histogram {
 public:
  explicit Histogram(std::vector<uint64_t> bounds);  // strictly increasing, not empty
  void Observe(uint64_t value);

  const std::vector<uint64_t>& bounds() const { return bounds_; }
  // Observations <= bounds()[i] (cumulative); index bounds().size() is the total count.
  uint64_t cumulative_count(size_t index) const;
  uint64_t sum() const { return sum_.load(std::memory_order_relaxed); }

 private:
  std::vector<uint64_t> bounds_;
  // Per-bucket (not cumulative) counts; the last one is above every bound.
  std::unique_ptr<std::atomic<uint64_t>[]> counts_;
  std::atomic<uint64_t> sum_{0};
};

class MetricsRegistry {
 public:
  // `name` matches [a-zA-Z_:][a-zA-Z0-9_:]*; `help` is one line.
  Counter& AddCounter(std::string_view name, std::string_view help);
  // A counter of the family `name` with these labels, in this order.
  using Labels = std::vector<std::pair<std::string, std::string>>;
  Counter& AddCounter(std::string_view name, std::string_view help, const Labels& labels);
  Gauge& AddGauge(std::string_view name, std::string_view help);
  Histogram& AddHistogram(std::string_view name, std::string_view help,
                          std::vector<uint64_t> bounds);

  // Every metric, in registration order, with # HELP and # TYPE lines.
  std::string RenderPrometheus() const;

 private:
  enum class Kind : uint8_t { kCounter, kGauge, kHistogram };
  struct Entry {
    std::string name;
    std::string help;
    Kind kind;
    std::string labels;  // rendered, `{k="v",...}`, or empty
    Counter* counter = nullptr;
    Gauge* gauge = nullptr;
    Histogram* histogram = nullptr;
  };
  Entry* Find(std::string_view name, Kind kind, std::string_view labels = {}) REEL_REQUIRES(mutex_);

  // Guards the entries and the deques, not the values (atomics).
  mutable Mutex mutex_;
  std::vector<Entry> entries_ REEL_GUARDED_BY(mutex_);
  // Deques: growing never moves an element.
  std::deque<Counter> counters_ REEL_GUARDED_BY(mutex_);
  std::deque<Gauge> gauges_ REEL_GUARDED_BY(mutex_);
  std::deque<std::unique_ptr<Histogram>> histograms_ REEL_GUARDED_BY(mutex_);
};

// The node's metrics, registered once at start-up. Components get a reference.
struct NodeMetrics {
  explicit NodeMetrics(MetricsRegistry& registry);

  Gauge& height;              // reel_height: last committed block
  Gauge& round;               // reel_round: current consensus round
  Gauge& epoch;               // reel_epoch: the epoch of the committed state
  Counter& view_changes;      // reel_view_changes_total: rounds ended by a timeout certificate
  Gauge& mempool_size;        // reel_mempool_size: transactions waiting
  Gauge& peers;               // reel_peers: connected validator peers
  Histogram& commit_latency;  // reel_commit_latency_ms: submit to commit
  Gauge& verify_per_second;   // reel_verify_per_second: signature checks, last second
  Gauge& start_time;          // reel_start_time_seconds: Unix time the process started
  Gauge& synced_blocks;       // reel_synced_blocks: blocks applied by block sync since start
  Gauge& gossip_dropped;      // reel_gossip_dropped: gossip copies dropped, a peer's queue full
  Gauge& prepared_commits;    // reel_prepared_commits: commits whose execution was done ahead
  // reel_epoch_unreachable: peer calls and streams refused because the caller is no
  // validator of this node's epoch (a removed validator's, for one), and consensus
  // messages this node had no peer to send to
  Gauge& epoch_unreachable;
};

// Counters kept per peer: each validator index of an epoch but this node's, and every
// observer together (net::kObserverIndex, peer="observers"). Labels are validator indexes
// of the epoch of the moment; an index's counters are registered the first time an epoch
// has it (Grow) and kept, whoever holds the index later.
struct PeerMetrics {
  // `drop_kinds`: the values of the `kind` label, indexed as the callers count them.
  PeerMetrics(MetricsRegistry& registry, const std::vector<std::string_view>& drop_kinds);

  // Registers the counters of indexes below `validators`, but `self`'s, that have none yet.
  // On one thread at a time (the node's loop).
  void Grow(size_t validators, std::optional<uint32_t> self);

  // reel_peer_dropped_total{peer,kind}: what the peer sent that this node dropped or
  // refused. Null for an index not registered.
  Counter* dropped(uint32_t peer, size_t kind) const { return dropped_[peer][kind]; }
  // reel_sync_ranges_refused_total{peer}: block sync ranges from the peer that failed
  // verification. Null for an index not registered.
  Counter* ranges_refused(uint32_t peer) const { return ranges_refused_[peer]; }
  // reel_peer_throttled_total{peer}: consensus messages from the peer that found its
  // budget on the loop full and waited for room. Null for an index not registered.
  Counter* throttled(uint32_t peer) const { return throttled_[peer]; }

 private:
  void Register(uint32_t peer);
  MetricsRegistry& registry_;
  const std::vector<std::string_view> drop_kinds_;
  std::vector<std::vector<Counter*>> dropped_;  // kPeerSlots
  std::vector<Counter*> ranges_refused_;        // kPeerSlots; observers' stays null
  std::vector<Counter*> throttled_;             // kPeerSlots; observers' stays null
};

// Raises `counter` to `total`, a component's own monotonic count (never lowers it).
void AdvanceTo(Counter& counter, uint64_t total);

}  // namespace reel::daemon
