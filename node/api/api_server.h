// ApiServer: the gRPC server of the client API. It serves reel.v1.Api (ApiService),
// grpc.health.v1.Health (gRPC's default health service: "" and "reel.v1.Api" report
// SERVING until Shutdown) and server reflection (grpc.reflection.v1alpha), so that
// generic tools (grpcurl, grpc_health_probe) work against a node.
//
// Bounds: requests larger than max_receive_message_bytes are refused by gRPC with
// RESOURCE_EXHAUSTED before they are parsed, and the connection keeps serving; gRPC uses
// at most threads_max threads for calls (a ResourceQuota), so a flood of calls cannot
// spawn threads without end.
//
// Plaintext: the API listens on loopback by default ([api] listen); TLS for remote
// wallets is for the daemon to add with its credentials.
//
// Thread safety: Start and Shutdown from the owning thread; the server runs on gRPC's
// own threads. `node` must outlive the server.
#pragma once

#include <grpcpp/server.h>

#include <cstddef>
#include <memory>
#include <string>

#include "base/limits.h"
#include "base/status.h"
#include "node/api/api_service.h"
#include "node/api/node_view.h"

namespace reel::api {

struct ApiServerOptions {
  std::string listen = "127.0.0.1:0";  // host:port; port 0 picks a free one
  size_t max_receive_message_bytes = limits::api_message_bytes_max;
  size_t threads_max = limits::api_server_threads_max;
};

class ApiServer {
 public:
  // FailedPrecondition naming the address when it cannot be bound (a taken port too:
  // the port is not shared with another process).
  static Result<std::unique_ptr<ApiServer>> Start(NodeView* node, const ApiServerOptions& options);
  ~ApiServer();  // Shutdown()
  ApiServer(const ApiServer&) = delete;
  ApiServer& operator=(const ApiServer&) = delete;

  int port() const { return port_; }

  // Health turns NOT_SERVING, new calls are refused, open streams are cancelled after
  // `grace_ms`, and the call returns once every handler has returned. Idempotent.
  void Shutdown(uint64_t grace_ms = 1000);

 private:
  ApiServer() = default;

  std::unique_ptr<ApiService> service_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
  bool stopped_ = false;
};

}  // namespace reel::api
