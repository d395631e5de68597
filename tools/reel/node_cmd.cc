// reel tx, reel query, reel status: talk to a node's client API (reel.v1.Api).
//
// `reel tx` takes the transaction body as proto3 JSON of reel.v1.TxBody (every
// transaction of DOMAIN.md is one `action` field of it; see proto/reel/v1/tx.proto),
// fills in the chain id and a random nonce when they are absent, signs the body's
// digest with each --key (the organisation's quorum) and submits it.
// `reel query METHOD` calls any unary query of reel.v1.Api with a JSON request, by
// the method's name, through the service's descriptor: one command serves every query.
#include <google/protobuf/util/json_util.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <sodium.h>

#include <fstream>
#include <future>
#include <iostream>
#include <sstream>

#include "crypto/keyfile.h"
#include "crypto/signing.h"
#include "reel/v1/api.grpc.pb.h"
#include "tools/reel/cli.h"

namespace reel::cli {
namespace {

namespace pb = google::protobuf;

constexpr auto kCallDeadline = std::chrono::seconds(60);

struct NodeOptions {
  std::string node = "127.0.0.1:26657";
};

std::shared_ptr<grpc::Channel> Channel(const NodeOptions& o) {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(64 * 1024 * 1024);
  return grpc::CreateCustomChannel(o.node, grpc::InsecureChannelCredentials(), args);
}

Status FromGrpc(const grpc::Status& s, const std::string& node) {
  if (s.ok()) return Status::Ok();
  if (s.error_code() == grpc::StatusCode::UNAVAILABLE ||
      s.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED) {
    return Status::IoError("node " + node + " unreachable: " + s.error_message() +
                           " (is reeld running? check --node)");
  }
  return Status::InvalidArgument("node refused the request: " + s.error_message());
}

std::string ToJson(const pb::Message& message) {
  std::string json;
  pb::util::JsonPrintOptions print;
  print.add_whitespace = true;
  print.preserve_proto_field_names = true;
  if (!pb::util::MessageToJsonString(message, &json, print).ok()) return "{}";
  return json;
}

// `text`, or the contents of the file it names as @path.
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

Result<v1::GetStatusResponse> FetchStatus(const NodeOptions& o) {
  auto stub = v1::Api::NewStub(Channel(o));
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  v1::GetStatusResponse response;
  REEL_RETURN_IF_ERROR(FromGrpc(stub->GetStatus(&context, {}, &response), o.node));
  return response;
}

struct TxOptions {
  NodeOptions node;
  std::vector<std::string> keys;
  std::string body;
  std::string chain_id;
  bool wait = true;
};

Status RunTx(const Globals& globals, const TxOptions& o) {
  Result<std::string> json = Inline(o.body);
  if (!json.ok()) return json.status();
  v1::TxBody body;
  REEL_RETURN_IF_ERROR(ParseJson(*json, &body, "--body"));
  if (body.action_case() == v1::TxBody::ACTION_NOT_SET) {
    return Status::InvalidArgument("--body names no action (register_org, extract, ...)");
  }
  if (body.org_id().empty()) return Status::InvalidArgument("--body needs org_id: who signs");
  if (body.chain_id().empty()) {
    if (!o.chain_id.empty()) {
      body.set_chain_id(o.chain_id);
    } else {
      Result<v1::GetStatusResponse> status = FetchStatus(o.node);
      if (!status.ok()) return status.status();
      body.set_chain_id(status->chain_id());
    }
  }
  if (body.nonce() == 0) body.set_nonce(randombytes_random() | (uint64_t{randombytes_random()} << 32));
  if (!crypto::IsValidChainId(body.chain_id())) return Status::InvalidArgument("bad chain id");
  if (o.keys.empty()) return Status::InvalidArgument("give at least one --key to sign with");

  v1::Transaction tx;
  tx.set_body(body.SerializeAsString());
  const crypto::Hash32 id = crypto::TransactionId(body.chain_id(), tx.body());
  for (const std::string& path : o.keys) {
    Result<crypto::KeyPair> key = crypto::ReadKeyFile(path, std::nullopt);
    if (!key.ok()) return key.status();
    v1::Signature* s = tx.add_signatures();
    s->set_public_key(std::string(crypto::AsBytes(key->public_key())));
    s->set_signature(std::string(crypto::AsBytes(key->SignDigest(id))));
  }

  auto stub = v1::Api::NewStub(Channel(o.node));
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + kCallDeadline);
  v1::SubmitTransactionRequest request;
  *request.mutable_transaction() = tx;
  request.set_wait_for_commit(o.wait);
  v1::SubmitTransactionResponse response;
  REEL_RETURN_IF_ERROR(FromGrpc(stub->SubmitTransaction(&context, request, &response), o.node.node));

  const std::string code = v1::ErrorCode_Name(response.result().code());
  if (globals.json) {
    std::cout << ToJson(response) << "\n";
  } else {
    PrintRecord(globals, {{"tx_id", crypto::HashToHex(id)},
                          {"status", v1::TxStatus_Name(response.status())},
                          {"height", std::to_string(response.height())},
                          {"code", code},
                          {"message", response.result().message()}});
  }
  if (response.status() == v1::TX_STATUS_REJECTED ||
      (response.status() == v1::TX_STATUS_COMMITTED && response.result().code() != v1::OK)) {
    // Rule messages may already start with their code; say it once.
    const std::string& message = response.result().message();
    return Status::FailedPrecondition(
        "transaction refused: " +
        (message.rfind(code, 0) == 0 ? message : code + ": " + message));
  }
  return Status::Ok();
}

struct QueryOptions {
  NodeOptions node;
  std::string method;
  std::string request = "{}";
};

Status RunQuery(const QueryOptions& o) {
  const pb::ServiceDescriptor* service = v1::Api::service_full_name() != nullptr
                                             ? pb::DescriptorPool::generated_pool()->FindServiceByName(
                                                   v1::Api::service_full_name())
                                             : nullptr;
  REEL_ASSERT(service != nullptr);
  const pb::MethodDescriptor* method = service->FindMethodByName(o.method);
  if (method == nullptr || method->server_streaming() || method->client_streaming()) {
    std::string names;
    for (int i = 0; i < service->method_count(); ++i) {
      if (!service->method(i)->server_streaming()) names += " " + service->method(i)->name();
    }
    return Status::InvalidArgument("no query '" + o.method + "'; the queries are:" + names);
  }
  pb::MessageFactory* factory = pb::MessageFactory::generated_factory();
  std::unique_ptr<pb::Message> request(factory->GetPrototype(method->input_type())->New());
  std::unique_ptr<pb::Message> response(factory->GetPrototype(method->output_type())->New());
  Result<std::string> json = Inline(o.request);
  if (!json.ok()) return json.status();
  REEL_RETURN_IF_ERROR(ParseJson(*json, request.get(), "--request"));

  grpc::GenericStub stub(Channel(o.node));
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + kCallDeadline);
  grpc::Slice slice(request->SerializeAsString());
  grpc::ByteBuffer request_buffer(&slice, 1), response_buffer;
  std::promise<grpc::Status> done;
  stub.UnaryCall(&context, "/" + service->full_name() + "/" + method->name(), grpc::StubOptions(),
                 &request_buffer, &response_buffer,
                 [&done](grpc::Status s) { done.set_value(std::move(s)); });
  REEL_RETURN_IF_ERROR(FromGrpc(done.get_future().get(), o.node.node));
  std::vector<grpc::Slice> slices;
  (void)response_buffer.Dump(&slices);
  std::string bytes;
  for (const grpc::Slice& s : slices) bytes.append(reinterpret_cast<const char*>(s.begin()), s.size());
  if (!response->ParseFromString(bytes)) return Status::Internal("the node's answer does not decode");
  // A trace with DOT attached prints the graph itself, for `| dot -Tsvg`.
  if (o.method == "TraceLot") {
    const auto* trace = dynamic_cast<const v1::TraceLotResponse*>(response.get());
    if (trace != nullptr && !trace->dot().empty()) {
      std::cout << trace->dot();
      return Status::Ok();
    }
  }
  std::cout << ToJson(*response) << "\n";
  return Status::Ok();
}

Status RunStatus(const Globals& globals, const NodeOptions& o) {
  Result<v1::GetStatusResponse> status = FetchStatus(o);
  if (!status.ok()) return status.status();
  if (globals.json) {
    std::cout << ToJson(*status) << "\n";
    return Status::Ok();
  }
  PrintRecord(globals, {{"chain_id", status->chain_id()},
                        {"height", std::to_string(status->height())},
                        {"validators", std::to_string(status->validators_size())},
                        {"self_validator_index", std::to_string(status->self_validator_index())},
                        {"mempool_txs", std::to_string(status->mempool_txs())},
                        {"version", status->version()}});
  return Status::Ok();
}

}  // namespace

void RegisterNodeCommands(CLI::App& app, Globals& globals, Runner* selected) {
  auto tx = std::make_shared<TxOptions>();
  CLI::App* tx_cmd = app.add_subcommand(
      "tx", "Sign a transaction body (JSON of reel.v1.TxBody) with --key files and submit it");
  tx_cmd->add_option("--node", tx->node.node, "Client API address")->capture_default_str();
  tx_cmd->add_option("--key", tx->keys, "Key file to sign with (repeat for a quorum)")->required();
  tx_cmd->add_option("--body", tx->body, "TxBody as JSON, or @file")->required();
  tx_cmd->add_option("--chain-id", tx->chain_id, "Chain id (default: asked from the node)");
  tx_cmd->add_flag("!--no-wait", tx->wait, "Return once admitted instead of when committed");
  OnRun(tx_cmd, selected, [&globals, tx] { return RunTx(globals, *tx); });

  auto query = std::make_shared<QueryOptions>();
  CLI::App* query_cmd = app.add_subcommand(
      "query", "Call a query of reel.v1.Api by name (GetLot, TraceLot, ExportStats, ...)");
  query_cmd->add_option("method", query->method, "Method name of reel.v1.Api")->required();
  query_cmd->add_option("--request", query->request, "Request as JSON, or @file")
      ->capture_default_str();
  query_cmd->add_option("--node", query->node.node, "Client API address")->capture_default_str();
  OnRun(query_cmd, selected, [query] { return RunQuery(*query); });

  auto status = std::make_shared<NodeOptions>();
  CLI::App* status_cmd = app.add_subcommand("status", "A node's chain id, height and validators");
  status_cmd->add_option("--node", status->node, "Client API address")->capture_default_str();
  OnRun(status_cmd, selected, [&globals, status] { return RunStatus(globals, *status); });
}

}  // namespace reel::cli
