#include "tools/reel/rpc.h"

#include <google/protobuf/util/json_util.h>
#include <grpcpp/generic/generic_stub.h>

#include <cstdlib>
#include <fstream>
#include <future>
#include <sstream>

namespace reel::cli {
namespace {

namespace pb = google::protobuf;

constexpr auto kCallDeadline = std::chrono::seconds(60);
constexpr int kResponseBytesMax = 64 * 1024 * 1024;

}  // namespace

void AddNodeFlag(CLI::App* command, NodeOptions& options) {
  const char* env = std::getenv("REEL_NODE");
  options.node = env != nullptr && *env != '\0' ? env : "127.0.0.1:26601";
  CLI::Option* flag =
      command->add_option("--node", options.node, "Client API address HOST:PORT (env REEL_NODE)")
          ->capture_default_str();
  // `reel --node H:P status` as well as `reel status --node H:P`: without its own, the
  // command takes the one given before it (main.cc registers it on the app).
  command->parse_complete_callback([flag, command, &options] {
    if (flag->count() > 0) return;
    for (CLI::App* up = command->get_parent(); up != nullptr; up = up->get_parent()) {
      CLI::Option* before = up->get_option_no_throw("--node");
      if (before != nullptr && before->count() > 0) {
        options.node = before->as<std::string>();
        return;
      }
    }
  });
}

std::shared_ptr<grpc::Channel> Channel(const NodeOptions& options) {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(kResponseBytesMax);
  return grpc::CreateCustomChannel(options.node, grpc::InsecureChannelCredentials(), args);
}

Status FromGrpc(const grpc::Status& s, const std::string& node) {
  switch (s.error_code()) {
    case grpc::StatusCode::OK:
      return Status::Ok();
    case grpc::StatusCode::UNAVAILABLE:
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return Status::IoError("node " + node + " unreachable: " + s.error_message() +
                             " (is reeld running? check --node)");
    case grpc::StatusCode::NOT_FOUND:
      return Status::NotFound("node says: " + s.error_message());
    default:
      return Status::InvalidArgument("node refused the request: " + s.error_message());
  }
}

std::string ToJson(const pb::Message& message, bool pretty) {
  std::string json;
  pb::util::JsonPrintOptions print;
  print.add_whitespace = pretty;
  print.preserve_proto_field_names = true;
  if (!pb::util::MessageToJsonString(message, &json, print).ok()) return "{}";
  if (!json.empty() && json.back() == '\n') json.pop_back();
  return json;
}

Result<std::string> Inline(const std::string& text) {
  if (text.empty() || text[0] != '@') return text;
  std::ifstream in(text.substr(1), std::ios::binary);
  if (!in) return Status::NotFound("cannot read " + text.substr(1));
  std::stringstream all;
  all << in.rdbuf();
  return all.str();
}

Status ParseJson(const std::string& json, pb::Message* message, const std::string& what) {
  pb::util::JsonParseOptions options;  // unknown fields are errors: typos must not pass
  auto status = pb::util::JsonStringToMessage(json, message, options);
  if (!status.ok()) {
    return Status::InvalidArgument(what + " is not valid JSON of " +
                                   message->GetDescriptor()->full_name() + ": " +
                                   std::string(status.message()));
  }
  return Status::Ok();
}

const pb::ServiceDescriptor* ApiService() {
  const pb::ServiceDescriptor* service =
      pb::DescriptorPool::generated_pool()->FindServiceByName(v1::Api::service_full_name());
  REEL_ASSERT(service != nullptr);
  return service;
}

Status CallUnary(const NodeOptions& node, const pb::MethodDescriptor* method,
                 const pb::Message& request, pb::Message* response) {
  grpc::GenericStub stub(Channel(node));
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + kCallDeadline);
  grpc::Slice slice(request.SerializeAsString());
  grpc::ByteBuffer request_buffer(&slice, 1), response_buffer;
  std::promise<grpc::Status> done;
  stub.UnaryCall(&context, "/" + method->service()->full_name() + "/" + method->name(),
                 grpc::StubOptions(), &request_buffer, &response_buffer,
                 [&done](grpc::Status s) { done.set_value(std::move(s)); });
  REEL_RETURN_IF_ERROR(FromGrpc(done.get_future().get(), node.node));
  std::vector<grpc::Slice> slices;
  (void)response_buffer.Dump(&slices);
  std::string bytes;
  for (const grpc::Slice& s : slices)
    bytes.append(reinterpret_cast<const char*>(s.begin()), s.size());
  if (!response->ParseFromString(bytes))
    return Status::Internal("the node's answer does not decode");
  return Status::Ok();
}

Result<v1::GetStatusResponse> FetchStatus(const NodeOptions& node) {
  auto stub = v1::Api::NewStub(Channel(node));
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  v1::GetStatusResponse response;
  REEL_RETURN_IF_ERROR(FromGrpc(stub->GetStatus(&context, {}, &response), node.node));
  return response;
}

}  // namespace reel::cli
