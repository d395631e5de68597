#include "node/daemon/status_server.h"

#include <httplib.h>
#include <sys/socket.h>

#include <chrono>

#include "base/limits.h"

namespace reel::daemon {
namespace {

std::string_view StateName(NodeState state) {
  switch (state) {
    case NodeState::kStarting:
      return "starting";
    case NodeState::kServing:
      return "serving";
    case NodeState::kStopping:
      return "stopping";
  }
  return "unknown";
}

// How long Start waits for the listener thread to begin accepting, so that a Stop
// right after Start cannot miss it (httplib's stop() does nothing before that).
constexpr auto kListenerStartWaitMax = std::chrono::seconds(5);

}  // namespace

std::string HealthJson(NodeState state, std::string_view moniker, const NodeMetrics& metrics) {
  // The moniker is checked in config.h to hold only [A-Za-z0-9._-]: no escaping needed.
  return std::string("{\"status\":\"") + std::string(StateName(state)) + "\",\"moniker\":\"" +
         std::string(moniker) + "\",\"height\":" + std::to_string(metrics.height.value()) +
         ",\"round\":" + std::to_string(metrics.round.value()) +
         ",\"peers\":" + std::to_string(metrics.peers.value()) + ",\"consensus\":\"running\"}\n";
}

StatusServer::StatusServer(std::string moniker, const MetricsRegistry& registry,
                           const NodeMetrics& metrics, const std::atomic<NodeState>& state)
    : moniker_(std::move(moniker)),
      registry_(registry),
      metrics_(metrics),
      state_(state),
      server_(std::make_unique<httplib::Server>()) {}

StatusServer::~StatusServer() {
  Stop();
}

Status StatusServer::Start(const config::HostPort& address) {
  REEL_ASSERT(!listener_.joinable());
  httplib::Server& server = *server_;
  server.new_task_queue = [] { return new httplib::ThreadPool(limits::daemon_http_threads); };
  constexpr time_t timeout_s = limits::daemon_http_timeout_ms / 1000;
  static_assert(timeout_s > 0);
  server.set_read_timeout(timeout_s, 0);
  server.set_write_timeout(timeout_s, 0);
  server.set_idle_interval(0, 0);
  server.set_keep_alive_timeout(timeout_s);
  server.set_payload_max_length(limits::daemon_http_body_bytes_max);
  // httplib's default sets SO_REUSEPORT, with which a second node on the same port
  // would bind too and silently take half the scrapes. SO_REUSEADDR only lets a
  // restarted node rebind past TIME_WAIT; a port in use is still refused.
  server.set_socket_options([](socket_t socket) {
    int yes = 1;
    ::setsockopt(socket, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  });

  server.Get("/metrics", [this](const httplib::Request&, httplib::Response& response) {
    response.set_content(registry_.RenderPrometheus(), "text/plain; version=0.0.4; charset=utf-8");
  });
  server.Get("/healthz", [this](const httplib::Request&, httplib::Response& response) {
    NodeState state = state_.load(std::memory_order_acquire);
    response.status = state == NodeState::kServing ? 200 : 503;
    response.set_content(HealthJson(state, moniker_, metrics_), "application/json");
  });

  int port = 0;
  if (address.port == 0) {
    port = server.bind_to_any_port(address.host);
  } else {
    port = server.bind_to_port(address.host, address.port) ? address.port : -1;
  }
  if (port <= 0) {
    return Status::FailedPrecondition("cannot listen on " + address.host + ":" +
                                      std::to_string(address.port) +
                                      " (the port is in use, or the host is not an address of "
                                      "this machine)");
  }
  port_ = static_cast<uint16_t>(port);
  listener_ = std::thread([&server] { server.listen_after_bind(); });
  auto deadline = std::chrono::steady_clock::now() + kListenerStartWaitMax;
  while (!server.is_running() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return Status::Ok();
}

void StatusServer::Stop() {
  if (!listener_.joinable()) return;
  server_->stop();
  listener_.join();
}

}  // namespace reel::daemon
