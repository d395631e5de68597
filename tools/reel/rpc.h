// What every command that talks to a node shares: the --node flag, the gRPC channel,
// the mapping of gRPC errors to a Status a person can act on, JSON both ways, and one
// generic unary call by method descriptor (so one code path serves every query).
#pragma once

#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>
#include <grpcpp/grpcpp.h>

#include <CLI/CLI.hpp>
#include <memory>
#include <string>

#include "base/status.h"
#include "reel/v1/api.grpc.pb.h"

namespace reel::cli {

struct NodeOptions {
  std::string node;  // HOST:PORT of a node's client API
};

// Adds --node, defaulting to $REEL_NODE or 127.0.0.1:26601 (node0 of testnet/up.sh).
void AddNodeFlag(CLI::App* command, NodeOptions& options);

std::shared_ptr<grpc::Channel> Channel(const NodeOptions& options);

// An RPC failure as a Status: unreachable nodes say to check --node, refusals quote
// the node.
Status FromGrpc(const grpc::Status& status, const std::string& node);

// proto3 JSON with the .proto field names; one line unless `pretty`.
std::string ToJson(const google::protobuf::Message& message, bool pretty = true);
// Parses proto3 JSON strictly (an unknown field is an error); `what` names the flag.
Status ParseJson(const std::string& json, google::protobuf::Message* message,
                 const std::string& what);
// `text`, or the contents of the file it names as @path.
Result<std::string> Inline(const std::string& text);

const google::protobuf::ServiceDescriptor* ApiService();

// Calls a unary method of reel.v1.Api; `response` must be of its output type.
Status CallUnary(const NodeOptions& node, const google::protobuf::MethodDescriptor* method,
                 const google::protobuf::Message& request, google::protobuf::Message* response);

Result<v1::GetStatusResponse> FetchStatus(const NodeOptions& node);

}  // namespace reel::cli
