// ApiTest: a real gRPC server on loopback over a TestNode (real LevelDB store, blocks
// executed by the ledger, real mempool admission) and a real client stub; shared by the
// API's test files.
#pragma once

#include <grpcpp/channel.h>
#include <grpcpp/client_context.h>
#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>

#include <memory>
#include <string>

#include "node/api/api_server.h"
#include "reel/v1/api.grpc.pb.h"
#include "tests/api/api_test_node.h"
#include "tests/api/grpc_probe.h"

namespace reel::api::testing {

class ApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    node_.Genesis();
    Result<std::unique_ptr<ApiServer>> server = ApiServer::Start(&node_, ApiServerOptions{});
    ASSERT_OK(server);
    server_ = std::move(server).value();
    grpc::ChannelArguments args;
    args.SetMaxReceiveMessageSize(-1);  // blocks may be large; the client takes them all
    channel_ = grpc::CreateCustomChannel("127.0.0.1:" + std::to_string(server_->port()),
                                         grpc::InsecureChannelCredentials(), args);
    stub_ = v1::Api::NewStub(channel_);
  }
  void TearDown() override { server_.reset(); }

  static void Deadline(grpc::ClientContext& context, int ms = 10000) {
    context.set_deadline(In(ms));
  }

  grpc::Status Submit(const v1::Transaction& tx, v1::SubmitTransactionResponse* response,
                      bool wait = false, int deadline_ms = 10000) {
    grpc::ClientContext context;
    Deadline(context, deadline_ms);
    v1::SubmitTransactionRequest request;
    *request.mutable_transaction() = tx;
    request.set_wait_for_commit(wait);
    return stub_->SubmitTransaction(&context, request, response);
  }

  grpc::Status GetTx(const std::string& id, v1::GetTransactionResponse* response) {
    grpc::ClientContext context;
    Deadline(context);
    v1::GetTransactionRequest request;
    request.set_tx_id(id);
    return stub_->GetTransaction(&context, request, response);
  }

  grpc::Status GetBlock(const v1::GetBlockRequest& request, v1::GetBlockResponse* response) {
    grpc::ClientContext context;
    Deadline(context);
    return stub_->GetBlock(&context, request, response);
  }

  TestNode node_;
  std::unique_ptr<ApiServer> server_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::Api::Stub> stub_;
};

#define EXPECT_CODE(status, code) \
  EXPECT_EQ((status).error_code(), grpc::StatusCode::code) << (status).error_message()

}  // namespace reel::api::testing
