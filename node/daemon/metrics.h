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
//
// NodeMetrics names the metrics every component of the node updates.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

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
    Counter* counter = nullptr;
    Gauge* gauge = nullptr;
    Histogram* histogram = nullptr;
  };
  Entry* Find(std::string_view name);

  mutable std::mutex mutex_;  // guards entries_ and the deques (not the values)
  std::vector<Entry> entries_;
  std::deque<Counter> counters_;  // deques: growing never moves an element
  std::deque<Gauge> gauges_;
  std::deque<std::unique_ptr<Histogram>> histograms_;
};

// The node's metrics, registered once at start-up. Components get a reference.
struct NodeMetrics {
  explicit NodeMetrics(MetricsRegistry& registry);

  Gauge& height;              // reel_height: last committed block
  Gauge& round;               // reel_round: current consensus round
  Counter& view_changes;      // reel_view_changes_total: rounds ended by a timeout certificate
  Gauge& mempool_size;        // reel_mempool_size: transactions waiting
  Gauge& peers;               // reel_peers: connected validator peers
  Histogram& commit_latency;  // reel_commit_latency_ms: submit to commit
  Gauge& verify_per_second;   // reel_verify_per_second: signature checks, last second
  Gauge& start_time;          // reel_start_time_seconds: Unix time the process started
  Gauge& synced_blocks;       // reel_synced_blocks: blocks applied by block sync since start
};

}  // namespace reel::daemon
