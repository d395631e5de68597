#include "node/api/api_server.h"

#include <grpc/grpc.h>
#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/resource_quota.h>
#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server_builder.h>

#include <chrono>
#include <climits>

namespace reel::api {

namespace {
constexpr char kApiServiceName[] = "reel.v1.Api";
}  // namespace

Result<std::unique_ptr<ApiServer>> ApiServer::Start(NodeView* node,
                                                    const ApiServerOptions& options) {
  REEL_ASSERT(options.max_receive_message_bytes <= INT_MAX);
  REEL_ASSERT(options.threads_max > 0);
  // Both are process-wide switches that take effect for servers built after them.
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();

  std::unique_ptr<ApiServer> server(new ApiServer());
  server->service_ = std::make_unique<ApiService>(node);
  grpc::ResourceQuota quota("reel-api");
  quota.SetMaxThreads(static_cast<int>(options.threads_max));

  grpc::ServerBuilder builder;
  builder.SetResourceQuota(quota);
  builder.SetMaxReceiveMessageSize(static_cast<int>(options.max_receive_message_bytes));
  // gRPC shares ports by default (SO_REUSEPORT): two nodes on one host would then split
  // one port's clients between them without a word. A taken port must be an error.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  builder.AddListeningPort(options.listen, grpc::InsecureServerCredentials(), &server->port_);
  builder.RegisterService(server->service_.get());
  server->server_ = builder.BuildAndStart();
  if (server->server_ == nullptr || server->port_ == 0) {
    return Status::FailedPrecondition("the API cannot listen on '" + options.listen +
                                      "' (bad address, or the port is taken); set [api] listen");
  }
  grpc::HealthCheckServiceInterface* health = server->server_->GetHealthCheckService();
  REEL_ASSERT(health != nullptr);
  health->SetServingStatus(kApiServiceName, true);
  return server;
}

ApiServer::~ApiServer() {
  Shutdown();
}

void ApiServer::Shutdown(uint64_t grace_ms) {
  if (stopped_ || server_ == nullptr) return;
  stopped_ = true;
  if (grpc::HealthCheckServiceInterface* health = server_->GetHealthCheckService()) {
    health->SetServingStatus(false);
  }
  server_->Shutdown(std::chrono::system_clock::now() + std::chrono::milliseconds(grace_ms));
  server_->Wait();
}

}  // namespace reel::api
