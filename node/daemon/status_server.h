// The node's HTTP status server: GET /metrics and GET /healthz.
//
//   /metrics  200, Prometheus text format 0.0.4, from the MetricsRegistry.
//   /healthz  200 with {"status":"serving","moniker":...,"height":H,"round":R,"peers":P,
//             "consensus":"not_wired"} while the node is serving; 503 with the same
//             shape ("starting" or "stopping") otherwise, so a load balancer or an
//             orchestrator stops sending traffic as soon as shutdown begins.
// Anything else is 404. Request bodies are refused beyond a few bytes, connections
// time out after limits::daemon_http_timeout_ms, and a fixed pool of
// limits::daemon_http_threads serves requests: a scraper cannot take the node down.
//
// Threads: Start spawns the listener thread; handlers run on the pool and only read
// atomics and the registry (thread-safe). Stop (or the destructor) stops accepting,
// finishes the requests in flight and joins every thread. Start and Stop are called
// from one thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>

#include "base/status.h"
#include "node/config/config.h"
#include "node/daemon/metrics.h"

namespace httplib {
class Server;
}  // namespace httplib

namespace reel::daemon {

enum class NodeState : uint8_t { kStarting, kServing, kStopping };

// The /healthz body; exposed for tests.
std::string HealthJson(NodeState state, std::string_view moniker, const NodeMetrics& metrics);

class StatusServer {
 public:
  StatusServer(std::string moniker, const MetricsRegistry& registry, const NodeMetrics& metrics,
               const std::atomic<NodeState>& state);
  ~StatusServer();
  StatusServer(const StatusServer&) = delete;
  StatusServer& operator=(const StatusServer&) = delete;

  // Binds `address` (port 0: any free port) and starts serving. FailedPrecondition
  // naming the address if it cannot be bound.
  Status Start(const config::HostPort& address);
  // The port bound by Start (useful with port 0).
  uint16_t port() const { return port_; }
  void Stop();

 private:
  std::string moniker_;
  const MetricsRegistry& registry_;
  const NodeMetrics& metrics_;
  const std::atomic<NodeState>& state_;
  std::unique_ptr<httplib::Server> server_;
  std::thread listener_;
  uint16_t port_ = 0;
};

}  // namespace reel::daemon
