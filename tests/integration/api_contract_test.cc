// The written API contract (proto/CONTRACT.md), row by row, against real processes: four
// reeld validators and one observer on loopback, made by `reel testnet init` and started
// by testnet/up.sh, spoken to only through the public gRPC API, as a wallet written in
// another language would. Every RPC of reel.v1.Api gets a valid call and each gRPC code
// its table lists, triggered for real, with the code and the words of the message
// checked (but the store's failures, which tests/api brings about with a store that fails
// on demand, and a trace of 100,000 nodes); the settled items of issue 14 that concern
// the API are here too (1, 2, 3, 4, 5, 6 and 8).
//
// The tests record every (method, code, message) they see; the last one reads the tables
// of proto/CONTRACT.md and fails when a row was not seen, or when the node gave a code
// that no row of that method lists. The tests run in their file's order (the last ones
// stop validators); run them all, as CTest does.
#include <google/protobuf/descriptor.h>
#include <google/protobuf/dynamic_message.h>
#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "base/bytes.h"
#include "base/limits.h"
#include "crypto/hash.h"
#include "crypto/keys.h"
#include "crypto/merkle.h"
#include "crypto/signing.h"
#include "reel/v1/api.grpc.pb.h"
#include "tests/api/grpc_probe.h"
#include "tests/test_util.h"

namespace reel {
namespace {

namespace v1 = ::reel::v1;
namespace pb = ::google::protobuf;
using api::testing::FromBuffer;
using api::testing::In;
using api::testing::Step;
using api::testing::ToBuffer;
using Code = grpc::StatusCode;

constexpr char kChain[] = "reel-testnet";
constexpr int kValidators = 4;
constexpr int kObserver = kValidators;  // observer0 listens as node number 4
constexpr int kSmallPool = 1;           // node1 runs with the smallest mempool allowed
constexpr int kLagging = 3;             // node3 is stopped and comes back far behind
constexpr int kUnknownEnum = 99;        // a number no request enum names
// Blocks with something to order come this often at most (genesis; the node's default is
// 50 ms), so that the chain grows a long way ahead of a stopped validator quickly.
constexpr int kBlockIntervalMs = 10;

int BasePort() {
  const char* text = getenv("REEL_BASE_PORT");
  return text != nullptr ? atoi(text) : 30400;
}

std::string Shell(const std::string& command) {
  std::string output;
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return "popen failed";
  char buffer[4096];
  while (fgets(buffer, sizeof buffer, pipe) != nullptr) output += buffer;
  const int status = pclose(pipe);
  if (status != 0) output += "\n[exit status " + std::to_string(status) + "]";
  return output;
}

std::string CodeName(Code code) {
  static const std::map<Code, std::string> names = {
      {Code::OK, "OK"},
      {Code::CANCELLED, "CANCELLED"},
      {Code::UNKNOWN, "UNKNOWN"},
      {Code::INVALID_ARGUMENT, "INVALID_ARGUMENT"},
      {Code::DEADLINE_EXCEEDED, "DEADLINE_EXCEEDED"},
      {Code::NOT_FOUND, "NOT_FOUND"},
      {Code::ALREADY_EXISTS, "ALREADY_EXISTS"},
      {Code::PERMISSION_DENIED, "PERMISSION_DENIED"},
      {Code::RESOURCE_EXHAUSTED, "RESOURCE_EXHAUSTED"},
      {Code::FAILED_PRECONDITION, "FAILED_PRECONDITION"},
      {Code::ABORTED, "ABORTED"},
      {Code::OUT_OF_RANGE, "OUT_OF_RANGE"},
      {Code::UNIMPLEMENTED, "UNIMPLEMENTED"},
      {Code::INTERNAL, "INTERNAL"},
      {Code::UNAVAILABLE, "UNAVAILABLE"},
      {Code::DATA_LOSS, "DATA_LOSS"},
      {Code::UNAUTHENTICATED, "UNAUTHENTICATED"},
  };
  auto it = names.find(code);
  return it != names.end() ? it->second : "CODE_" + std::to_string(static_cast<int>(code));
}

const pb::ServiceDescriptor& ApiService() {
  const pb::ServiceDescriptor* service =
      pb::DescriptorPool::generated_pool()->FindServiceByName("reel.v1.Api");
  REEL_ASSERT(service != nullptr);
  return *service;
}

// The methods answered by ledger::Queries, which share the boundary checks of
// proto/CONTRACT.md "Every query": all but the transaction, block, stream and status ones.
bool IsQuery(const std::string& method) {
  static const std::set<std::string> others = {
      "SubmitTransaction", "SubmitTransactions", "GetTransaction", "GetBlock",
      "StreamBlocks",      "StreamEvents",       "GetStatus",      "GetEpochProofs"};
  return others.count(method) == 0;
}

// `bytes` with a field the proto does not have appended (number 1000, a varint).
std::string WithUnknownField(std::string bytes, uint64_t value = 7) {
  {
    pb::io::StringOutputStream stream(&bytes);
    pb::io::CodedOutputStream coded(&stream);
    coded.WriteTag(1000u << 3 | 0);
    coded.WriteVarint64(value);
  }
  return bytes;
}

// `bytes` with a length-delimited unknown field of `size` bytes appended.
std::string WithUnknownBytes(std::string bytes, size_t size) {
  {
    pb::io::StringOutputStream stream(&bytes);
    pb::io::CodedOutputStream coded(&stream);
    coded.WriteTag(1001u << 3 | 2);
    coded.WriteVarint64(size);
  }
  bytes.append(size, 'x');
  return bytes;
}

// What a call gave: its status and, when OK, the first answer's bytes.
struct Answer {
  grpc::Status status;
  std::string bytes;
};

void Drain(grpc::CompletionQueue& cq) {
  cq.Shutdown();
  void* tag;
  bool ok;
  while (cq.Next(&tag, &ok)) {
  }
}

// Calls `method` with raw request bytes, through gRPC's GenericStub: nothing of the
// generated code touches the bytes, so they can be anything. A server-streaming method
// answers OK with its first message (then the stream is cancelled), or with the status
// that ended it before one came.
Answer CallRaw(const std::shared_ptr<grpc::Channel>& channel, const std::string& path,
               bool server_streaming, const std::string& request, int deadline_ms = 15000) {
  grpc::GenericStub stub(channel);
  grpc::ClientContext context;
  context.set_deadline(In(deadline_ms));
  grpc::CompletionQueue cq;
  Answer answer;
  if (!server_streaming) {
    auto call = stub.PrepareUnaryCall(&context, path, ToBuffer(request), &cq);
    call->StartCall();
    grpc::ByteBuffer response;
    int tag = 0;
    call->Finish(&response, &answer.status, &tag);
    if (!Step(cq, &tag)) answer.status = grpc::Status(Code::UNKNOWN, "no completion");
    if (answer.status.ok()) answer.bytes = FromBuffer(response);
    Drain(cq);
    return answer;
  }
  int start = 0, write = 0, done = 0, read = 0, finish = 0;
  auto call = stub.PrepareCall(&context, path, &cq);
  call->StartCall(&start);
  bool got = false;
  if (Step(cq, &start)) {
    call->Write(ToBuffer(request), &write);
    if (Step(cq, &write)) {
      call->WritesDone(&done);
      if (Step(cq, &done)) {
        grpc::ByteBuffer response;
        call->Read(&response, &read);
        if (Step(cq, &read)) {
          got = true;
          answer.bytes = FromBuffer(response);
        }
      }
    }
  }
  if (got) context.TryCancel();
  call->Finish(&answer.status, &finish);
  Step(cq, &finish);
  if (got) answer.status = grpc::Status::OK;
  Drain(cq);
  return answer;
}

std::string MethodPath(const pb::MethodDescriptor& method) {
  return "/" + method.service()->full_name() + "/" + method.name();
}

// Every path from `type` to an enum field, as field descriptors (messages recursing into
// themselves are followed once).
void EnumPaths(const pb::Descriptor& type, std::vector<const pb::FieldDescriptor*> prefix,
               std::set<const pb::Descriptor*> open,
               std::vector<std::vector<const pb::FieldDescriptor*>>* out) {
  if (!open.insert(&type).second) return;
  for (int i = 0; i < type.field_count(); ++i) {
    const pb::FieldDescriptor* field = type.field(i);
    std::vector<const pb::FieldDescriptor*> path = prefix;
    path.push_back(field);
    if (field->type() == pb::FieldDescriptor::TYPE_ENUM) {
      out->push_back(path);
    } else if (field->type() == pb::FieldDescriptor::TYPE_MESSAGE) {
      EnumPaths(*field->message_type(), path, open, out);
    }
  }
}

// Sets the enum at the end of `path` in `message` to `value` (adding one element to every
// repeated field on the way).
void SetEnumAt(pb::Message* message, const std::vector<const pb::FieldDescriptor*>& path,
               int value) {
  for (size_t i = 0; i + 1 < path.size(); ++i) {
    const pb::Reflection* r = message->GetReflection();
    message = path[i]->is_repeated() ? r->AddMessage(message, path[i])
                                     : r->MutableMessage(message, path[i]);
  }
  const pb::Reflection* r = message->GetReflection();
  if (path.back()->is_repeated()) {
    r->AddEnumValue(message, path.back(), value);
  } else {
    r->SetEnumValue(message, path.back(), value);
  }
}

std::string PathName(const std::vector<const pb::FieldDescriptor*>& path) {
  std::string name;
  for (const pb::FieldDescriptor* f : path) name += (name.empty() ? "" : ".") + f->name();
  return name;
}

uint32_t YearInChina(uint64_t time_ms) {
  const time_t seconds = static_cast<time_t>(time_ms / 1000 + 8 * 3600);
  struct tm parts {};
  gmtime_r(&seconds, &parts);
  return static_cast<uint32_t>(parts.tm_year + 1900);
}

uint32_t MonthInChina(uint64_t time_ms) {
  const time_t seconds = static_cast<time_t>(time_ms / 1000 + 8 * 3600);
  struct tm parts {};
  gmtime_r(&seconds, &parts);
  return static_cast<uint32_t>(parts.tm_mon + 1);
}

std::string Bytes(const crypto::Hash32& h) {
  return std::string(crypto::AsBytes(h));
}

// A signatory key as a wallet reads it from the key file that `reel testnet init` wrote
// (proto/README.md, "Key files"): the JSON object, not crypto/keyfile.h.
struct KeyFile {
  nlohmann::json json;
  unsigned mode = 0;
  std::optional<crypto::KeyPair> key;
  std::string error;
};

KeyFile ReadKeyFileAsAWallet(const std::string& path) {
  KeyFile out;
  struct stat st {};
  if (stat(path.c_str(), &st) != 0) {
    out.error = "cannot stat " + path;
    return out;
  }
  out.mode = st.st_mode & 0777;
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  out.json = nlohmann::json::parse(text.str(), nullptr, /*allow_exceptions=*/false);
  if (!out.json.is_object() || !out.json.contains("seed") || !out.json["seed"].is_string()) {
    out.error = path + " is not a plain key file: " + text.str();
    return out;
  }
  std::optional<std::string> seed = FromHex(out.json["seed"].get<std::string>());
  if (!seed.has_value()) {
    out.error = path + ": seed is not hex";
    return out;
  }
  Result<crypto::KeyPair> key = crypto::KeyPair::FromSeed(*seed);
  crypto::WipeString(*seed);
  if (!key.ok()) {
    out.error = path + ": " + key.status().ToString();
    return out;
  }
  out.key.emplace(std::move(key).value());
  return out;
}

// --- What the tests saw, for the last test's comparison with proto/CONTRACT.md ----------

struct Seen {
  std::string method;
  Code code;
  std::string text;  // the status message, or for an OK answer the answer's status name
};

std::mutex seen_mu;
std::vector<Seen> seen;

void Record(const std::string& method, Code code, const std::string& text) {
  std::lock_guard<std::mutex> lock(seen_mu);
  seen.push_back({method, code, text});
}

// --- The fixture ----------------------------------------------------------------------------

class ApiContractTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    const std::string run = dir_->Sub("net");
    env_ = "REEL_BUILD_DIR=" + std::string(REEL_BUILD_DIR) + " REEL_RUN_DIR=" + run +
           " REEL_BASE_PORT=" + std::to_string(BasePort()) + " ";
    lib_ = "source " + std::string(REEL_SOURCE_DIR) + "/testnet/lib.sh; ";
    setup_log_ = Shell(std::string(REEL_BUILD_DIR) + "/bin/reel testnet init --validators " +
                       std::to_string(kValidators) + " --observers 1 --out " + run +
                       " --base-port " + std::to_string(BasePort()) + " --block-interval-ms " +
                       std::to_string(kBlockIntervalMs));
    // node1 holds at most a block's worth of transactions (the least node.toml allows),
    // so that its mempool can be filled.
    setup_log_ +=
        Shell("sed -i 's/^size_max = .*/size_max = " + std::to_string(limits::block_txs_max) +
              "/' " + run + "/node" + std::to_string(kSmallPool) + "/config/node.toml");
    setup_log_ += Shell(env_ + std::string(REEL_SOURCE_DIR) + "/testnet/up.sh " +
                        std::to_string(kValidators));
    if (setup_log_.find("node3 api=") == std::string::npos) {
      setup_error_ = "the testnet did not start:\n" + setup_log_;
      return;
    }
    setup_log_ += Shell(env_ + "bash -c '" + lib_ + "start_observer 0'");
    channels_.resize(kObserver + 1);
    stubs_.resize(kObserver + 1);
    for (int i = 0; i <= kObserver; ++i) Connect(i);
    for (const std::string org : {"miit", "mofcom", "gacc"}) {
      KeyFile file = ReadKeyFileAsAWallet(run + "/keys/" + org + ".key");
      if (!file.error.empty()) {
        setup_error_ = file.error;
        return;
      }
      keys_.emplace(org, std::move(*file.key));
    }
    keys_.emplace("c-miner", crypto::KeyPair::Generate());
    keys_.emplace("c-exporter", crypto::KeyPair::Generate());
    setup_error_ = MakeScenario();
  }

  // A new channel to node `i`, with its own connection: one shared with an older channel
  // (gRPC shares them by default) may be waiting out a backoff of many seconds after the
  // node was stopped, and would miss what a restarted node says while it catches up.
  static void Connect(int i) {
    grpc::ChannelArguments args;
    args.SetMaxReceiveMessageSize(-1);
    args.SetMaxSendMessageSize(-1);
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
    args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 100);
    args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 200);
    channels_[i] = grpc::CreateCustomChannel("127.0.0.1:" + std::to_string(BasePort() + 10 * i + 1),
                                             grpc::InsecureChannelCredentials(), args);
    stubs_[i] = v1::Api::NewStub(channels_[i]);
  }

  static void TearDownTestSuite() {
    stubs_.clear();
    channels_.clear();
    Shell(env_ + std::string(REEL_SOURCE_DIR) + "/testnet/down.sh");
    delete dir_;
    dir_ = nullptr;
  }

  void SetUp() override { ASSERT_EQ(setup_error_, "") << setup_log_; }

  // --- Transactions

  static v1::TxBody Body(const std::string& org) {
    v1::TxBody body;
    body.set_chain_id(kChain);
    body.set_org_id(org);
    body.set_nonce(nonce_.fetch_add(1));
    return body;
  }

  static v1::TxBody Quota(int64_t amount_g) {
    v1::TxBody body = Body("miit");
    v1::SetQuota* quota = body.mutable_set_quota();
    quota->set_org_id("miit");
    quota->set_year(2030);
    quota->set_category(v1::QUOTA_CATEGORY_SMELTING_SEPARATION);
    quota->set_amount_g(amount_g);
    return body;
  }

  static void AddSignature(v1::Transaction* tx, const crypto::KeyPair& key) {
    const crypto::Hash32 id = crypto::TransactionId(kChain, tx->body());
    v1::Signature* s = tx->add_signatures();
    s->set_public_key(std::string(crypto::AsBytes(key.public_key())));
    s->set_signature(std::string(crypto::AsBytes(key.SignDigest(id))));
  }

  // The body serialised once and signed by its organisation's key.
  static v1::Transaction Signed(const v1::TxBody& body) {
    v1::Transaction tx;
    tx.set_body(body.SerializeAsString());
    AddSignature(&tx, keys_.at(body.org_id()));
    return tx;
  }

  static std::string Id(const v1::Transaction& tx) {
    return Bytes(crypto::TransactionId(kChain, tx.body()));
  }

  static grpc::Status Submit(int node, const v1::Transaction& tx, bool wait,
                             v1::SubmitTransactionResponse* response, int deadline_ms = 30000) {
    grpc::ClientContext context;
    context.set_deadline(In(deadline_ms));
    v1::SubmitTransactionRequest request;
    *request.mutable_transaction() = tx;
    request.set_wait_for_commit(wait);
    return stubs_[node]->SubmitTransaction(&context, request, response);
  }

  static grpc::Status SubmitBatch(int node, const std::vector<v1::Transaction>& txs,
                                  v1::SubmitTransactionsResponse* response,
                                  int deadline_ms = 30000) {
    grpc::ClientContext context;
    context.set_deadline(In(deadline_ms));
    v1::SubmitTransactionsRequest request;
    for (const v1::Transaction& tx : txs) *request.add_transactions() = tx;
    return stubs_[node]->SubmitTransactions(&context, request, response);
  }

  // Submits and waits for the commit; "" when committed with OK, else what happened.
  static std::string Commit(int node, const v1::Transaction& tx,
                            v1::SubmitTransactionResponse* out = nullptr) {
    v1::SubmitTransactionResponse response;
    grpc::Status status = Submit(node, tx, /*wait=*/true, &response);
    if (out != nullptr) *out = response;
    if (!status.ok()) return CodeName(status.error_code()) + ": " + status.error_message();
    if (response.status() != v1::TX_STATUS_COMMITTED || response.result().code() != v1::OK) {
      return response.ShortDebugString();
    }
    return "";
  }

  // Commits `txs` at once, spread over three validators, then waits until every node has
  // the last of them: a node admits a transaction against its own committed state
  // (CONTRACT.md, SubmitTransaction), and one a block behind would refuse the next
  // batch's signer as not registered.
  static std::string CommitAll(std::vector<v1::Transaction> txs) {
    std::vector<std::string> errors(txs.size());
    std::vector<uint64_t> heights(txs.size(), 0);
    std::vector<std::thread> threads;
    for (size_t i = 0; i < txs.size(); ++i) {
      threads.emplace_back([&, i] {
        v1::SubmitTransactionResponse committed;
        errors[i] = Commit(static_cast<int>(i % 3), txs[i], &committed);
        heights[i] = committed.height();
      });
    }
    for (std::thread& t : threads) t.join();
    for (const std::string& e : errors) {
      if (!e.empty()) return e;
    }
    return EveryNodeReaches(*std::max_element(heights.begin(), heights.end()));
  }

  // "" once every node, the observer too, has committed `height`; else which did not.
  static std::string EveryNodeReaches(uint64_t height) {
    for (int node = 0; node <= kObserver; ++node) {
      for (int tries = 0; NodeStatus(node).height() < height; ++tries) {
        if (tries == 300)
          return "node" + std::to_string(node) + " does not reach " + std::to_string(height);
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
    }
    return "";
  }

  // --- Generic calls, recorded

  static const pb::MethodDescriptor& Method(const std::string& name) {
    const pb::MethodDescriptor* method = ApiService().FindMethodByName(name);
    REEL_ASSERT(method != nullptr);
    return *method;
  }

  static Answer Raw(int node, const std::string& method, const std::string& bytes,
                    int deadline_ms = 15000) {
    const pb::MethodDescriptor& m = Method(method);
    return CallRaw(channels_[node], MethodPath(m), m.server_streaming(), bytes, deadline_ms);
  }

  // Calls `method` on `node` with `request`; on OK parses the (first) answer into
  // `response` when given.
  static grpc::Status Call(int node, const std::string& method, const pb::Message& request,
                           pb::Message* response = nullptr) {
    Answer answer = Raw(node, method, request.SerializeAsString());
    if (answer.status.ok() && response != nullptr && !response->ParseFromString(answer.bytes)) {
      return grpc::Status(Code::DATA_LOSS, "the answer does not parse");
    }
    return answer.status;
  }

  // The text an OK answer is recorded with: the name of its TxStatus field `status`, if
  // it has one.
  static std::string AnswerText(const pb::Message& response) {
    const pb::FieldDescriptor* status = response.GetDescriptor()->FindFieldByName("status");
    if (status == nullptr || status->type() != pb::FieldDescriptor::TYPE_ENUM ||
        status->enum_type()->full_name() != "reel.v1.TxStatus") {
      return "";
    }
    return response.GetReflection()->GetEnum(response, status)->name();
  }

  // Asserts that `method` on `node` answers OK, and records it.
  static ::testing::AssertionResult Ok(int node, const std::string& method,
                                       const pb::Message& request, pb::Message* response) {
    grpc::Status status = Call(node, method, request, response);
    if (!status.ok()) {
      return ::testing::AssertionFailure()
             << method << " " << request.ShortDebugString() << ": " << CodeName(status.error_code())
             << ": " << status.error_message();
    }
    Record(method, Code::OK, response != nullptr ? AnswerText(*response) : "");
    return ::testing::AssertionSuccess();
  }

  // Asserts that `status` has `code` and a message with `words` in it, and records it.
  static ::testing::AssertionResult Fails(const std::string& method, const grpc::Status& status,
                                          Code code, const std::string& words) {
    Record(method, status.error_code(), status.error_message());
    if (status.error_code() != code) {
      return ::testing::AssertionFailure()
             << method << ": expected " << CodeName(code) << ", got "
             << CodeName(status.error_code()) << ": '" << status.error_message() << "'";
    }
    if (status.error_message().find(words) == std::string::npos) {
      return ::testing::AssertionFailure() << method << ": " << CodeName(code) << " message '"
                                           << status.error_message() << "' lacks '" << words << "'";
    }
    return ::testing::AssertionSuccess();
  }

  static ::testing::AssertionResult Fails(int node, const std::string& method,
                                          const pb::Message& request, Code code,
                                          const std::string& words) {
    return Fails(method, Call(node, method, request), code, words);
  }

  // A SubmitTransaction answer, recorded; REJECTED answers must carry `code` and a
  // message that starts with its name.
  static ::testing::AssertionResult Answered(const grpc::Status& status,
                                             const v1::SubmitTransactionResponse& response,
                                             v1::TxStatus expected, v1::ErrorCode code = v1::OK) {
    if (!status.ok()) {
      Record("SubmitTransaction", status.error_code(), status.error_message());
      return ::testing::AssertionFailure() << "SubmitTransaction: " << CodeName(status.error_code())
                                           << ": " << status.error_message();
    }
    Record("SubmitTransaction", Code::OK, v1::TxStatus_Name(response.status()));
    if (response.status() != expected || response.result().code() != code) {
      return ::testing::AssertionFailure()
             << "expected " << v1::TxStatus_Name(expected) << " " << v1::ErrorCode_Name(code)
             << ", got " << response.ShortDebugString();
    }
    if (expected == v1::TX_STATUS_REJECTED &&
        !response.result().message().starts_with(v1::ErrorCode_Name(code) + ":")) {
      return ::testing::AssertionFailure()
             << "the message does not start with the code: " << response.result().message();
    }
    return ::testing::AssertionSuccess();
  }

  // What one transaction of a SubmitTransactions call is expected to answer.
  struct Expected {
    v1::TxStatus status;
    v1::ErrorCode code = v1::OK;
  };

  // A SubmitTransactions answer, recorded (an OK one by each result's status): one result
  // per transaction of `txs`, in their order (each with its transaction's id), each as
  // `expected` says; REJECTED ones with a message that starts with their code's name.
  static ::testing::AssertionResult AnsweredEach(const grpc::Status& status,
                                                 const std::vector<v1::Transaction>& txs,
                                                 const v1::SubmitTransactionsResponse& response,
                                                 const std::vector<Expected>& expected) {
    REEL_ASSERT(expected.size() == txs.size());
    if (!status.ok()) {
      Record("SubmitTransactions", status.error_code(), status.error_message());
      return ::testing::AssertionFailure()
             << "SubmitTransactions: " << CodeName(status.error_code()) << ": "
             << status.error_message();
    }
    for (const v1::SubmitTransactionResponse& result : response.results()) {
      Record("SubmitTransactions", Code::OK, v1::TxStatus_Name(result.status()));
    }
    if (response.results_size() != static_cast<int>(txs.size())) {
      return ::testing::AssertionFailure()
             << response.results_size() << " results for " << txs.size() << " transactions";
    }
    for (size_t i = 0; i < txs.size(); ++i) {
      const v1::SubmitTransactionResponse& result = response.results(static_cast<int>(i));
      if (result.tx_id() != Id(txs[i])) {
        return ::testing::AssertionFailure()
               << "results[" << i << "] has not the id of transactions[" << i << "]";
      }
      if (result.status() != expected[i].status || result.result().code() != expected[i].code) {
        return ::testing::AssertionFailure()
               << "results[" << i << "]: expected " << v1::TxStatus_Name(expected[i].status) << " "
               << v1::ErrorCode_Name(expected[i].code) << ", got " << result.ShortDebugString();
      }
      if (expected[i].status == v1::TX_STATUS_REJECTED &&
          !result.result().message().starts_with(v1::ErrorCode_Name(expected[i].code) + ":")) {
        return ::testing::AssertionFailure()
               << "results[" << i
               << "]: the message does not start with the code: " << result.result().message();
      }
    }
    return ::testing::AssertionSuccess();
  }

  // A valid request of every method, on the scenario below.
  static std::unique_ptr<pb::Message> ValidRequest(const std::string& method);

  static std::string MakeScenario();

  static v1::GetStatusResponse NodeStatus(int node) {
    v1::GetStatusResponse status;
    grpc::ClientContext context;
    context.set_deadline(In(5000));
    if (!stubs_[node]->GetStatus(&context, v1::GetStatusRequest(), &status).ok()) return {};
    return status;
  }

  // Stops validator `i` (SIGTERM) and waits until it has exited; nothing if it is not
  // running (its pid file may name a pid that another process has since).
  static std::string StopNode(int i) {
    const std::string n = std::to_string(i);
    return Shell(env_ + "bash -c '" + lib_ + "p=$(pid_of " + n + "); if running " + n +
                 " && [ \"$(ps -o comm= -p $p)\" = reeld ]; then kill $p; while running " + n +
                 "; do sleep 0.1; done; fi'");
  }
  // Starts validator `i` and connects to it anew once its API listens.
  static std::string StartNode(int i) {
    std::string out = Shell(env_ + "bash -c '" + lib_ + "start_node " + std::to_string(i) + "'");
    Connect(i);
    if (!channels_[i]->WaitForConnected(In(10000))) out += "node" + std::to_string(i) + " API down";
    return out;
  }

  static inline testing::TempDir* dir_ = new testing::TempDir("contract");
  static inline std::string env_, lib_, setup_log_, setup_error_;
  static inline std::vector<std::shared_ptr<grpc::Channel>> channels_;
  static inline std::vector<std::unique_ptr<v1::Api::Stub>> stubs_;
  static inline std::map<std::string, crypto::KeyPair> keys_;
  static inline std::atomic<uint64_t> nonce_{
      static_cast<uint64_t>(std::chrono::system_clock::now().time_since_epoch().count())};
  // The scenario: ids and what it committed.
  static inline uint32_t year_ = 0, month_ = 0;
  static inline v1::Transaction extract_;
  static inline v1::SubmitTransactionResponse extract_committed_;
};

// Two enterprises registered by MIIT with keys made here, a mine and a quota, one lot
// extracted; MOFCOM's DENY restriction on an end user and REVIEW restriction on a country,
// an application that both match (denied at once) and one that none matches (pending).
std::string ApiContractTest::MakeScenario() {
  const v1::GetStatusResponse status = NodeStatus(0);
  if (status.height() == 0) return "node0 does not answer GetStatus";
  year_ = YearInChina(status.block_time_ms());
  month_ = MonthInChina(status.block_time_ms());
  auto key = [](const std::string& org) {
    return std::string(crypto::AsBytes(keys_.at(org).public_key()));
  };
  std::vector<v1::Transaction> orgs;
  {
    v1::TxBody body = Body("miit");
    v1::RegisterOrg* org = body.mutable_register_org();
    org->set_org_id("c-miner");
    org->set_name("Contract Mining");
    org->set_kind(v1::ORG_KIND_STATE_ENTERPRISE);
    org->add_roles(v1::ROLE_MINER);
    org->add_signatory_keys(key("c-miner"));
    org->set_quorum(1);
    orgs.push_back(Signed(body));
  }
  {
    v1::TxBody body = Body("miit");
    v1::RegisterOrg* org = body.mutable_register_org();
    org->set_org_id("c-exporter");
    org->set_name("Contract Export");
    org->set_kind(v1::ORG_KIND_PRIVATE_ENTERPRISE);
    org->add_roles(v1::ROLE_EXPORTER);
    org->add_signatory_keys(key("c-exporter"));
    org->set_quorum(1);
    orgs.push_back(Signed(body));
  }
  {
    v1::TxBody body = Body("mofcom");
    v1::SetExportRestriction* r = body.mutable_set_export_restriction();
    r->set_restriction_id("c-deny");
    r->mutable_match()->add_end_users("Bad Actor Ltd");
    r->set_effect(v1::RESTRICTION_EFFECT_DENY);
    r->set_reason("contract test");
    orgs.push_back(Signed(body));
  }
  {
    v1::TxBody body = Body("mofcom");
    v1::SetExportRestriction* r = body.mutable_set_export_restriction();
    r->set_restriction_id("c-review");
    r->mutable_match()->add_countries("US");
    r->set_effect(v1::RESTRICTION_EFFECT_REVIEW);
    r->set_reason("contract test");
    orgs.push_back(Signed(body));
  }
  if (std::string e = CommitAll(std::move(orgs)); !e.empty()) return "organisations: " + e;

  std::vector<v1::Transaction> next;
  {
    v1::TxBody body = Body("miit");
    v1::RegisterSite* site = body.mutable_register_site();
    site->set_site_id("c-mine");
    site->set_org_id("c-miner");
    site->set_name("Contract mine");
    site->set_kind(v1::SITE_KIND_MINE);
    site->set_deposit_type(v1::DEPOSIT_TYPE_ROCK);
    site->set_province("Inner Mongolia");
    next.push_back(Signed(body));
  }
  {
    v1::TxBody body = Body("miit");
    v1::SetQuota* quota = body.mutable_set_quota();
    quota->set_org_id("c-miner");
    quota->set_year(year_);
    quota->set_category(v1::QUOTA_CATEGORY_MINING_LIGHT);
    quota->set_amount_g(1'000'000'000);
    next.push_back(Signed(body));
  }
  auto apply = [](const std::string& id, const std::string& country, const std::string& end_user) {
    v1::TxBody body = Body("c-exporter");
    v1::ApplyExportLicense* a = body.mutable_apply_export_license();
    a->set_licence_id(id);
    a->set_destination_country(country);
    a->set_consignee("Consignee of " + end_user);
    a->set_end_user(end_user);
    a->set_industry(v1::INDUSTRY_ELECTRONICS);
    a->set_product(v1::PRODUCT_FORM_MAGNET);
    a->add_elements(v1::ELEMENT_ND);
    a->set_mass_g(1'000'000);
    a->set_purpose("contract test");
    return Signed(body);
  };
  {
    // A validator-set change MIIT proposes and nobody approves here (MOFCOM's approval
    // is needed too), so that no epoch ends under the tests.
    v1::TxBody body = Body("miit");
    v1::ProposeValidatorChange* p = body.mutable_propose_validator_change();
    p->set_change_id("c-timings");
    p->mutable_consensus()->set_round_timeout_ms(1500);
    next.push_back(Signed(body));
  }
  next.push_back(apply("c-lic-denied", "US", "Bad Actor Ltd"));
  next.push_back(apply("c-lic-pending", "DE", "Good Turbines GmbH"));
  if (std::string e = CommitAll(std::move(next)); !e.empty()) return "site, quota, licences: " + e;

  v1::TxBody body = Body("c-miner");
  v1::Extract* x = body.mutable_extract();
  x->set_site_id("c-mine");
  x->set_lot_id("c-lot-1");
  x->set_product(v1::PRODUCT_FORM_ORE);
  x->set_mass_g(1'000'000);
  v1::ElementAmount* la = x->mutable_composition()->add_amounts();
  la->set_element(v1::ELEMENT_LA);
  la->set_reo_g(10'000);
  v1::ElementAmount* ce = x->mutable_composition()->add_amounts();
  ce->set_element(v1::ELEMENT_CE);
  ce->set_reo_g(20'000);
  extract_ = Signed(body);
  if (std::string e = Commit(0, extract_, &extract_committed_); !e.empty()) return "extract: " + e;
  // Every node, the observer too, has the scenario before the tests start.
  return EveryNodeReaches(extract_committed_.height());
}

std::unique_ptr<pb::Message> ApiContractTest::ValidRequest(const std::string& method) {
  if (method == "SubmitTransaction") {
    auto r = std::make_unique<v1::SubmitTransactionRequest>();
    *r->mutable_transaction() = Signed(Quota(1));
    return r;
  }
  if (method == "SubmitTransactions") {
    auto r = std::make_unique<v1::SubmitTransactionsRequest>();
    *r->add_transactions() = Signed(Quota(1));
    *r->add_transactions() = Signed(Quota(2));
    return r;
  }
  if (method == "GetTransaction") {
    auto r = std::make_unique<v1::GetTransactionRequest>();
    r->set_tx_id(Id(extract_));
    return r;
  }
  if (method == "GetBlock") {
    auto r = std::make_unique<v1::GetBlockRequest>();
    r->set_height(extract_committed_.height());
    return r;
  }
  if (method == "StreamBlocks") {
    auto r = std::make_unique<v1::StreamBlocksRequest>();
    r->set_from_height(1);
    return r;
  }
  if (method == "StreamEvents") {
    auto r = std::make_unique<v1::StreamEventsRequest>();
    r->set_from_height(1);
    r->mutable_filter()->add_kinds(v1::TX_KIND_EXTRACT);
    return r;
  }
  if (method == "GetStatus") return std::make_unique<v1::GetStatusRequest>();
  if (method == "GetEpochProofs") return std::make_unique<v1::GetEpochProofsRequest>();
  if (method == "GetOrg") {
    auto r = std::make_unique<v1::GetOrgRequest>();
    r->set_org_id("c-miner");
    return r;
  }
  if (method == "ListOrgs") return std::make_unique<v1::ListOrgsRequest>();
  if (method == "ListSites") {
    auto r = std::make_unique<v1::ListSitesRequest>();
    r->set_org_id("c-miner");
    return r;
  }
  if (method == "GetLot") {
    auto r = std::make_unique<v1::GetLotRequest>();
    r->set_lot_id("c-lot-1");
    return r;
  }
  if (method == "LotHistory") {
    auto r = std::make_unique<v1::LotHistoryRequest>();
    r->set_lot_id("c-lot-1");
    return r;
  }
  if (method == "TraceLot") {
    auto r = std::make_unique<v1::TraceLotRequest>();
    r->set_lot_id("c-lot-1");
    return r;
  }
  if (method == "Holdings") {
    auto r = std::make_unique<v1::HoldingsRequest>();
    r->set_org_id("c-miner");
    return r;
  }
  if (method == "ListTransferOffers") return std::make_unique<v1::ListTransferOffersRequest>();
  if (method == "QuotaUse") {
    auto r = std::make_unique<v1::QuotaUseRequest>();
    r->set_org_id("c-miner");
    return r;
  }
  if (method == "GetLicence") {
    auto r = std::make_unique<v1::GetLicenceRequest>();
    r->set_licence_id("c-lic-denied");
    return r;
  }
  if (method == "ListLicences") {
    auto r = std::make_unique<v1::ListLicencesRequest>();
    r->set_applicant_org_id("c-exporter");
    return r;
  }
  if (method == "MatchingRestrictions") {
    auto r = std::make_unique<v1::MatchingRestrictionsRequest>();
    r->set_licence_id("c-lic-denied");
    return r;
  }
  if (method == "RestrictionImpact") {
    auto r = std::make_unique<v1::RestrictionImpactRequest>();
    r->mutable_match()->add_countries("DE");
    r->set_effect(v1::RESTRICTION_EFFECT_DENY);
    return r;
  }
  if (method == "LicenceVerdict") {
    auto r = std::make_unique<v1::LicenceVerdictRequest>();
    v1::ApplyExportLicense* a = r->mutable_application();
    a->set_destination_country("US");
    a->set_consignee("Consignee of Bad Actor Ltd");
    a->set_end_user("bad actor ltd");
    a->set_industry(v1::INDUSTRY_ELECTRONICS);
    a->set_product(v1::PRODUCT_FORM_MAGNET);
    a->add_elements(v1::ELEMENT_ND);
    a->set_mass_g(1'000'000);
    r->set_applicant_org_id("c-exporter");
    return r;
  }
  if (method == "ListRestrictions") return std::make_unique<v1::ListRestrictionsRequest>();
  if (method == "ExportStats") {
    auto r = std::make_unique<v1::ExportStatsRequest>();
    r->set_group_by(v1::EXPORT_GROUP_BY_COUNTRY);
    return r;
  }
  if (method == "ListExports") return std::make_unique<v1::ListExportsRequest>();
  if (method == "MassBalance") {
    auto r = std::make_unique<v1::MassBalanceRequest>();
    r->set_org_id("c-miner");
    return r;
  }
  if (method == "MonthlyFlowReport") {
    auto r = std::make_unique<v1::MonthlyFlowReportRequest>();
    r->set_org_id("c-miner");
    r->set_year(year_);
    r->set_month(month_);
    return r;
  }
  if (method == "ListViolations") return std::make_unique<v1::ListViolationsRequest>();
  if (method == "ListValidatorChanges") return std::make_unique<v1::ListValidatorChangesRequest>();
  if (method == "GetValidatorChange") {
    auto r = std::make_unique<v1::GetValidatorChangeRequest>();
    r->set_change_id("c-timings");
    return r;
  }
  return nullptr;
}

std::unique_ptr<pb::Message> NewResponse(const std::string& method) {
  const pb::MethodDescriptor* m = ApiService().FindMethodByName(method);
  return std::unique_ptr<pb::Message>(
      pb::MessageFactory::generated_factory()->GetPrototype(m->output_type())->New());
}

// --- Issue 14, item 1: the key files are what proto/README.md says ---------------------

TEST_F(ApiContractTest, KeyFilesAreTheDocumentedJsonAndNameTheGenesisSignatories) {
  for (const std::string org : {"miit", "mofcom", "gacc"}) {
    KeyFile file = ReadKeyFileAsAWallet(dir_->Sub("net/keys/" + org + ".key"));
    ASSERT_EQ(file.error, "");
    EXPECT_EQ(file.mode, 0600u) << org;
    EXPECT_EQ(file.json.value("version", 0), 1) << file.json.dump();
    EXPECT_EQ(file.json.value("type", ""), "ed25519") << file.json.dump();
    const std::string public_hex = file.json.value("public_key", "");
    EXPECT_EQ(public_hex, ToHex(crypto::AsBytes(file.key->public_key())))
        << org << ": public_key is not the key the seed derives";
    v1::GetOrgRequest request;
    request.set_org_id(org);
    v1::GetOrgResponse response;
    ASSERT_TRUE(Ok(0, "GetOrg", request, &response));
    ASSERT_EQ(response.org().signatory_keys_size(), 1);
    EXPECT_EQ(ToHex(response.org().signatory_keys(0)), public_hex)
        << "keys/" << org << ".key is not " << org << "'s signatory key";
  }
}

// --- Every method ---------------------------------------------------------------------------

TEST_F(ApiContractTest, EveryMethodAnswersAValidCallAndIgnoresUnknownFields) {
  const pb::ServiceDescriptor& service = ApiService();
  for (int i = 0; i < service.method_count(); ++i) {
    const std::string name = service.method(i)->name();
    SCOPED_TRACE(name);
    std::unique_ptr<pb::Message> request = ValidRequest(name);
    ASSERT_NE(request, nullptr) << "the contract test has no valid request of " << name;
    std::unique_ptr<pb::Message> response = NewResponse(name);
    EXPECT_TRUE(Ok(0, name, *request, response.get()));
    // A field this node does not know (a newer client's) is ignored.
    if (name.starts_with("SubmitTransaction")) request = ValidRequest(name);  // new ones
    Answer answer = Raw(0, name, WithUnknownField(request->SerializeAsString()));
    EXPECT_OK(answer.status) << "with an unknown field: " << answer.status.error_message();
    Record(name, answer.status.error_code(), answer.status.error_message());
  }
}

// Issue 14, item 3: bytes that do not parse are gRPC's INTERNAL, on every method.
TEST_F(ApiContractTest, UnparseableRequestBytesAreInternalOnEveryMethod) {
  // A length-delimited field 1 that claims 5 bytes and has 2: no message parses it.
  const std::string garbage(
      "\x0a\x05"
      "ab",
      4);
  const pb::ServiceDescriptor& service = ApiService();
  for (int i = 0; i < service.method_count(); ++i) {
    const std::string name = service.method(i)->name();
    Answer answer = Raw(0, name, garbage);
    // gRPC's own reader refuses the bytes before the node's code runs; its message is
    // gRPC's (empty in the versions REEL builds with), so only the code is the contract.
    Record(name, answer.status.error_code(), "");
    EXPECT_EQ(answer.status.error_code(), Code::INTERNAL)
        << name << ": " << CodeName(answer.status.error_code()) << " "
        << answer.status.error_message();
  }
  v1::GetStatusResponse status;
  EXPECT_TRUE(Ok(0, "GetStatus", v1::GetStatusRequest(), &status)) << "the node stopped serving";
}

TEST_F(ApiContractTest, RequestsOverTheMessageBoundAreResourceExhaustedOnEveryMethod) {
  const pb::ServiceDescriptor& service = ApiService();
  for (int i = 0; i < service.method_count(); ++i) {
    const std::string name = service.method(i)->name();
    std::unique_ptr<pb::Message> request = ValidRequest(name);
    ASSERT_NE(request, nullptr);
    Answer answer = Raw(
        0, name, WithUnknownBytes(request->SerializeAsString(), limits::api_message_bytes_max + 1));
    EXPECT_TRUE(Fails(name, answer.status, Code::RESOURCE_EXHAUSTED, "larger than max"));
  }
  v1::GetStatusResponse status;
  EXPECT_TRUE(Ok(0, "GetStatus", v1::GetStatusRequest(), &status)) << "the node stopped serving";
}

TEST_F(ApiContractTest, AMethodTheNodeDoesNotHaveIsUnimplemented) {
  Answer answer = CallRaw(channels_[0], "/reel.v1.Api/NoSuchMethod", false, "");
  EXPECT_EQ(answer.status.error_code(), Code::UNIMPLEMENTED) << answer.status.error_message();
}

// Issue 14, item 4: one rule for unknown enum values, in every field of every request.
TEST_F(ApiContractTest, AnUnknownEnumValueAnywhereInAnyRequestIsInvalidArgument) {
  const pb::ServiceDescriptor& service = ApiService();
  int checked = 0;
  for (int i = 0; i < service.method_count(); ++i) {
    const pb::MethodDescriptor& method = *service.method(i);
    std::vector<std::vector<const pb::FieldDescriptor*>> paths;
    EnumPaths(*method.input_type(), {}, {}, &paths);
    for (const auto& path : paths) {
      ASSERT_EQ(path.back()->enum_type()->FindValueByNumber(kUnknownEnum), nullptr);
      std::unique_ptr<pb::Message> request(
          pb::MessageFactory::generated_factory()->GetPrototype(method.input_type())->New());
      SetEnumAt(request.get(), path, kUnknownEnum);
      const std::string words = PathName(path) + " is " + std::to_string(kUnknownEnum) +
                                ", not a value of " + path.back()->enum_type()->full_name();
      EXPECT_TRUE(
          Fails(method.name(), Call(0, method.name(), *request), Code::INVALID_ARGUMENT, words))
          << request->ShortDebugString();
      ++checked;
    }
  }
  EXPECT_GT(checked, 20);
}

// The checks every query shares (request_checks.h) before it reads anything.
TEST_F(ApiContractTest, EveryQueryRefusesOverlongIdsAndForeignPageTokens) {
  const pb::ServiceDescriptor& service = ApiService();
  for (int i = 0; i < service.method_count(); ++i) {
    const std::string name = service.method(i)->name();
    if (!IsQuery(name)) continue;
    SCOPED_TRACE(name);
    const pb::Descriptor& type = *service.method(i)->input_type();
    for (int f = 0; f < type.field_count(); ++f) {
      const pb::FieldDescriptor* field = type.field(f);
      if (field->type() != pb::FieldDescriptor::TYPE_STRING || field->is_repeated() ||
          !field->name().ends_with("_id")) {
        continue;
      }
      std::unique_ptr<pb::Message> request = ValidRequest(name);
      request->GetReflection()->SetString(request.get(), field,
                                          std::string(limits::lot_id_bytes_max + 1, 'a'));
      EXPECT_TRUE(Fails(0, name, *request, Code::INVALID_ARGUMENT,
                        field->name() + " is 65 bytes; no id is longer than 64"));
    }
    const pb::FieldDescriptor* token = type.FindFieldByName("page_token");
    if (token == nullptr) continue;
    std::unique_ptr<pb::Message> request = ValidRequest(name);
    request->GetReflection()->SetString(request.get(), token,
                                        std::string(limits::api_page_token_bytes_max + 1, 't'));
    EXPECT_TRUE(
        Fails(0, name, *request, Code::INVALID_ARGUMENT, "pass back next_page_token unchanged"));
    request->GetReflection()->SetString(request.get(), token, "not a token of this node");
    EXPECT_TRUE(
        Fails(0, name, *request, Code::INVALID_ARGUMENT, "page_token does not belong to this"));
  }
}

// --- SubmitTransaction ----------------------------------------------------------------------

TEST_F(ApiContractTest, SubmitAnswersPendingThenCommittedAndResendingAnswersTheSame) {
  const v1::Transaction tx = Signed(Quota(10));
  v1::SubmitTransactionResponse pending;
  ASSERT_TRUE(Answered(Submit(0, tx, false, &pending), pending, v1::TX_STATUS_PENDING));
  EXPECT_EQ(pending.tx_id(), Id(tx));
  // Resent while it waits: PENDING again, the same id (the mempool's "already held").
  v1::SubmitTransactionResponse again;
  grpc::Status status = Submit(0, tx, false, &again);
  if (status.ok() && again.status() == v1::TX_STATUS_PENDING) {
    EXPECT_TRUE(Answered(status, again, v1::TX_STATUS_PENDING));
    EXPECT_EQ(again.tx_id(), Id(tx));
  }  // else it committed in between: the resends below cover that
  v1::SubmitTransactionResponse committed;
  ASSERT_TRUE(Answered(Submit(0, tx, true, &committed), committed, v1::TX_STATUS_COMMITTED));
  EXPECT_GT(committed.height(), 0u);
  // Issue 14, item 5: resent after the commit, to any node, the observer too, and in any
  // envelope of the same body (here one without signatures), the answer is the original
  // outcome: COMMITTED with its result, height and tx_index, never REJECTED/DUPLICATE_TX.
  v1::Transaction bare = tx;
  bare.clear_signatures();
  for (int node = 0; node <= kObserver; ++node) {
    // Each node answers from what it has committed: wait until it has that block (an
    // observer, which orders nothing, refuses what it has not committed).
    for (int tries = 0; tries < 100 && NodeStatus(node).height() < committed.height(); ++tries) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    for (const v1::Transaction* envelope : std::vector<const v1::Transaction*>{&tx, &bare}) {
      v1::SubmitTransactionResponse resent;
      status = Submit(node, *envelope, false, &resent);
      EXPECT_TRUE(Answered(status, resent, v1::TX_STATUS_COMMITTED)) << "node" << node;
      EXPECT_EQ(resent.tx_id(), Id(tx));
      EXPECT_EQ(resent.height(), committed.height()) << "node" << node;
      EXPECT_EQ(resent.tx_index(), committed.tx_index()) << "node" << node;
      EXPECT_EQ(resent.result().SerializeAsString(), committed.result().SerializeAsString());
    }
  }
}

// Admission checks the signer and the form of the action; the rules of the action against
// the state (here: the organisation exists already) are the block's. Such a transaction
// is admitted, commits with its failure (and changes nothing), and a resend answers it.
TEST_F(ApiContractTest, ARuleOfTheStateFailsInTheBlockAndIsAnsweredWhenResent) {
  v1::TxBody body = Body("miit");
  v1::RegisterOrg* org = body.mutable_register_org();
  org->set_org_id("c-miner");
  org->set_name("Again");
  org->set_kind(v1::ORG_KIND_PRIVATE_ENTERPRISE);
  org->add_roles(v1::ROLE_PROCESSOR);
  org->add_signatory_keys(std::string(crypto::AsBytes(keys_.at("miit").public_key())));
  org->set_quorum(1);
  const v1::Transaction again = Signed(body);
  v1::SubmitTransactionResponse committed;
  ASSERT_TRUE(Answered(Submit(0, again, true, &committed), committed, v1::TX_STATUS_COMMITTED,
                       v1::ORG_EXISTS));
  v1::SubmitTransactionResponse resent;
  ASSERT_TRUE(
      Answered(Submit(0, again, false, &resent), resent, v1::TX_STATUS_COMMITTED, v1::ORG_EXISTS));
  EXPECT_EQ(resent.height(), committed.height());
  EXPECT_EQ(resent.tx_index(), committed.tx_index());
  EXPECT_EQ(resent.result().message(), committed.result().message());
  v1::GetOrgRequest get;
  get.set_org_id("c-miner");
  v1::GetOrgResponse unchanged;
  ASSERT_TRUE(Ok(0, "GetOrg", get, &unchanged));
  EXPECT_EQ(unchanged.org().name(), "Contract Mining");
}

TEST_F(ApiContractTest, RefusedTransactionsAreRejectedAnswersWithTheirCode) {
  auto rejected = [](const v1::Transaction& tx, v1::ErrorCode code) {
    v1::SubmitTransactionResponse response;
    return Answered(Submit(0, tx, false, &response), response, v1::TX_STATUS_REJECTED, code);
  };
  // Issue 14, item 2: a body that is not a TxBody is an answer, MALFORMED.
  v1::Transaction garbage;
  garbage.set_body("not a transaction body");
  AddSignature(&garbage, keys_.at("miit"));
  EXPECT_TRUE(rejected(garbage, v1::MALFORMED));

  v1::TxBody other_chain = Quota(11);
  other_chain.set_chain_id("another-chain");
  EXPECT_TRUE(rejected(Signed(other_chain), v1::WRONG_CHAIN));

  v1::Transaction many = Signed(Quota(12));
  for (size_t i = 0; i < limits::tx_signatures_max; ++i) {
    AddSignature(&many, crypto::KeyPair::Generate());
  }
  EXPECT_TRUE(rejected(many, v1::TOO_MANY_ITEMS));

  v1::Transaction short_key = Signed(Quota(13));
  short_key.mutable_signatures(0)->set_public_key(std::string(31, 'k'));
  EXPECT_TRUE(rejected(short_key, v1::INVALID_PUBLIC_KEY));

  v1::Transaction tampered = Signed(Quota(14));
  std::string sig = tampered.signatures(0).signature();
  sig[0] ^= 0x01;
  tampered.mutable_signatures(0)->set_signature(sig);
  EXPECT_TRUE(rejected(tampered, v1::INVALID_SIGNATURE));

  // Issue 14, item 6: one key's signature given twice is DUPLICATE_ITEM, whatever the quorum.
  v1::Transaction twice = Signed(Quota(15));
  *twice.add_signatures() = twice.signatures(0);
  EXPECT_TRUE(rejected(twice, v1::DUPLICATE_ITEM));

  v1::TxBody expired = Quota(16);
  expired.set_expiry_height(1);
  EXPECT_TRUE(rejected(Signed(expired), v1::EXPIRED_TX));

  v1::TxBody nobody = Quota(17);
  nobody.set_org_id("nobody");
  v1::Transaction by_nobody;
  by_nobody.set_body(nobody.SerializeAsString());
  AddSignature(&by_nobody, keys_.at("miit"));
  EXPECT_TRUE(rejected(by_nobody, v1::SIGNER_NOT_FOUND));

  v1::Transaction wrong_key;
  wrong_key.set_body(Quota(18).SerializeAsString());
  AddSignature(&wrong_key, keys_.at("mofcom"));
  EXPECT_TRUE(rejected(wrong_key, v1::UNKNOWN_SIGNATORY));

  v1::Transaction unsigned_tx;
  unsigned_tx.set_body(Quota(19).SerializeAsString());
  EXPECT_TRUE(rejected(unsigned_tx, v1::INSUFFICIENT_QUORUM));

  v1::TxBody by_mofcom = Quota(20);
  by_mofcom.set_org_id("mofcom");
  EXPECT_TRUE(rejected(Signed(by_mofcom), v1::UNAUTHORIZED_ROLE));

  EXPECT_TRUE(rejected(Signed(Body("miit")), v1::NO_ACTION));

  // Inside a body, enums are the ledger's: an unknown one is a refusal, INVALID_ENUM.
  v1::TxBody unknown_category = Quota(21);
  unknown_category.mutable_set_quota()->set_category(static_cast<v1::QuotaCategory>(kUnknownEnum));
  EXPECT_TRUE(rejected(Signed(unknown_category), v1::INVALID_ENUM));

  // The form of the action (ids, amounts, compositions, list sizes).
  EXPECT_TRUE(rejected(Signed(Quota(-1)), v1::INVALID_AMOUNT));
}

TEST_F(ApiContractTest, AnUnknownFieldInABodyIsSignedAndIgnored) {
  v1::Transaction tx;
  tx.set_body(WithUnknownField(Quota(30).SerializeAsString(), 12345));
  AddSignature(&tx, keys_.at("miit"));
  v1::SubmitTransactionResponse response;
  ASSERT_TRUE(Answered(Submit(0, tx, true, &response), response, v1::TX_STATUS_COMMITTED));
  EXPECT_EQ(response.tx_id(), Id(tx)) << "the id is the digest of the bytes as sent";
  v1::GetTransactionRequest request;
  request.set_tx_id(Id(tx));
  v1::GetTransactionResponse found;
  ASSERT_TRUE(Ok(0, "GetTransaction", request, &found));
  EXPECT_EQ(found.transaction().body(), tx.body()) << "the body is kept as it was signed";
}

TEST_F(ApiContractTest, SubmitRefusesRequestsWithoutATransactionOrOverTheTransactionBound) {
  // An empty Transaction is still a transaction: its empty body is a TxBody of no chain.
  v1::SubmitTransactionResponse response;
  EXPECT_TRUE(Answered(Submit(0, v1::Transaction(), false, &response), response,
                       v1::TX_STATUS_REJECTED, v1::WRONG_CHAIN));
  EXPECT_TRUE(Fails(0, "SubmitTransaction", v1::SubmitTransactionRequest(), Code::INVALID_ARGUMENT,
                    "transaction is required"));
  v1::TxBody big = Quota(31);
  big.mutable_set_quota()->set_org_id(std::string(limits::tx_body_bytes_max, 'o'));
  EXPECT_TRUE(Fails("SubmitTransaction", Submit(0, Signed(big), false, &response),
                    Code::RESOURCE_EXHAUSTED, "TOO_LARGE: the transaction is"));
}

// --- SubmitTransactions ---------------------------------------------------------------------

// Each transaction of a call is answered as SubmitTransaction answers it without waiting,
// in the request's order; the call resent, to any validator, answers the same
// transactions with their outcomes.
TEST_F(ApiContractTest, SubmitTransactionsAnswersEachInOrderAndResendingAnswersTheSame) {
  v1::Transaction tampered = Signed(Quota(70));
  std::string sig = tampered.signatures(0).signature();
  sig[0] ^= 0x01;
  tampered.mutable_signatures(0)->set_signature(sig);
  v1::TxBody other_chain = Quota(71);
  other_chain.set_chain_id("another-chain");
  const v1::Transaction first = Signed(Quota(72));
  const v1::Transaction second = Signed(Quota(73));
  const std::vector<v1::Transaction> txs = {first, tampered, extract_, Signed(other_chain), second};
  v1::SubmitTransactionsResponse response;
  ASSERT_TRUE(AnsweredEach(SubmitBatch(0, txs, &response), txs, response,
                           {{v1::TX_STATUS_PENDING},
                            {v1::TX_STATUS_REJECTED, v1::INVALID_SIGNATURE},
                            {v1::TX_STATUS_COMMITTED},
                            {v1::TX_STATUS_REJECTED, v1::WRONG_CHAIN},
                            {v1::TX_STATUS_PENDING}}));
  EXPECT_EQ(response.results(2).height(), extract_committed_.height());
  EXPECT_EQ(response.results(2).tx_index(), extract_committed_.tx_index());
  EXPECT_EQ(response.results(2).result().SerializeAsString(),
            extract_committed_.result().SerializeAsString());
  // Resent at once: the admitted ones answer PENDING while they wait (COMMITTED if their
  // block came first).
  v1::SubmitTransactionsResponse again;
  ASSERT_OK(SubmitBatch(0, txs, &again));
  ASSERT_EQ(again.results_size(), 5);
  for (int i : {0, 4}) {
    EXPECT_TRUE(again.results(i).status() == v1::TX_STATUS_PENDING ||
                again.results(i).status() == v1::TX_STATUS_COMMITTED)
        << again.results(i).ShortDebugString();
    EXPECT_EQ(again.results(i).tx_id(), response.results(i).tx_id());
  }

  v1::SubmitTransactionResponse first_committed, second_committed;
  ASSERT_TRUE(
      Answered(Submit(0, first, true, &first_committed), first_committed, v1::TX_STATUS_COMMITTED));
  ASSERT_TRUE(Answered(Submit(0, second, true, &second_committed), second_committed,
                       v1::TX_STATUS_COMMITTED));
  ASSERT_EQ(EveryNodeReaches(std::max(first_committed.height(), second_committed.height())), "");
  for (int node = 0; node < kValidators; ++node) {
    v1::SubmitTransactionsResponse resent;
    EXPECT_TRUE(AnsweredEach(SubmitBatch(node, txs, &resent), txs, resent,
                             {{v1::TX_STATUS_COMMITTED},
                              {v1::TX_STATUS_REJECTED, v1::INVALID_SIGNATURE},
                              {v1::TX_STATUS_COMMITTED},
                              {v1::TX_STATUS_REJECTED, v1::WRONG_CHAIN},
                              {v1::TX_STATUS_COMMITTED}}))
        << "node" << node;
    if (resent.results_size() != 5) continue;
    EXPECT_EQ(resent.results(0).height(), first_committed.height()) << "node" << node;
    EXPECT_EQ(resent.results(0).tx_index(), first_committed.tx_index()) << "node" << node;
    EXPECT_EQ(resent.results(2).height(), extract_committed_.height()) << "node" << node;
    EXPECT_EQ(resent.results(4).height(), second_committed.height()) << "node" << node;
    EXPECT_EQ(resent.results(4).tx_index(), second_committed.tx_index()) << "node" << node;
  }
}

TEST_F(ApiContractTest, SubmitTransactionsRefusesNoneOrOverAThousandOrAnOversizedOne) {
  EXPECT_TRUE(Fails(0, "SubmitTransactions", v1::SubmitTransactionsRequest(),
                    Code::INVALID_ARGUMENT, "transactions has 0; give 1 to 1000 per call"));
  v1::SubmitTransactionsRequest many;
  for (size_t i = 0; i <= limits::api_submit_batch_txs_max; ++i) {
    *many.add_transactions() = Signed(Quota(80));
  }
  EXPECT_TRUE(Fails(0, "SubmitTransactions", many, Code::INVALID_ARGUMENT,
                    "transactions has 1001; give 1 to 1000 per call"));
  // One oversized transaction fails the call, and none of the others is admitted.
  v1::TxBody big = Quota(81);
  big.mutable_set_quota()->set_org_id(std::string(limits::tx_body_bytes_max, 'o'));
  const std::vector<v1::Transaction> txs = {Signed(Quota(82)), Signed(Quota(83)), Signed(big),
                                            Signed(Quota(84))};
  v1::SubmitTransactionsResponse response;
  grpc::Status status = SubmitBatch(0, txs, &response);
  EXPECT_TRUE(Fails("SubmitTransactions", status, Code::RESOURCE_EXHAUSTED,
                    "TOO_LARGE: transactions[2] is"));
  EXPECT_TRUE(status.error_message().starts_with("TOO_LARGE: transactions[2] is "))
      << status.error_message();
  for (int i : {0, 1, 3}) {
    v1::GetTransactionRequest request;
    request.set_tx_id(Id(txs[i]));
    EXPECT_TRUE(Fails(0, "GetTransaction", request, Code::NOT_FOUND, "is not committed"))
        << "transactions[" << i << "] was admitted";
  }
}

TEST_F(ApiContractTest, AnObserverOrdersNothingButKnowsWhatCommitted) {
  v1::SubmitTransactionResponse response;
  EXPECT_TRUE(Fails("SubmitTransaction", Submit(kObserver, Signed(Quota(40)), false, &response),
                    Code::FAILED_PRECONDITION, "is an observer"));
  // Even a body that a validator would refuse: the observer does not look at it.
  v1::Transaction garbage;
  garbage.set_body("not a transaction body");
  EXPECT_TRUE(Fails("SubmitTransaction", Submit(kObserver, garbage, false, &response),
                    Code::FAILED_PRECONDITION, "submit to a validator"));
  v1::SubmitTransactionResponse committed;
  EXPECT_TRUE(
      Answered(Submit(kObserver, extract_, false, &committed), committed, v1::TX_STATUS_COMMITTED));
  EXPECT_EQ(committed.height(), extract_committed_.height());
  // A call of committed transactions only is answered; one with any other is refused.
  v1::SubmitTransactionsResponse batch;
  EXPECT_TRUE(AnsweredEach(SubmitBatch(kObserver, {extract_}, &batch), {extract_}, batch,
                           {{v1::TX_STATUS_COMMITTED}}));
  EXPECT_TRUE(Fails("SubmitTransactions",
                    SubmitBatch(kObserver, {extract_, Signed(Quota(41))}, &batch),
                    Code::FAILED_PRECONDITION, "is an observer"));
  v1::GetStatusResponse status;
  ASSERT_TRUE(Ok(kObserver, "GetStatus", v1::GetStatusRequest(), &status));
  EXPECT_EQ(status.self_validator_index(), -1);
  EXPECT_EQ(status.round(), 0u);
}

// --- GetTransaction, GetBlock, GetStatus -----------------------------------------------------

TEST_F(ApiContractTest, GetTransactionProvesACommittedOneAndKnowsPendingOnes) {
  v1::GetTransactionRequest request;
  request.set_tx_id(Id(extract_));
  v1::GetTransactionResponse found;
  ASSERT_TRUE(Ok(0, "GetTransaction", request, &found));
  EXPECT_EQ(found.status(), v1::TX_STATUS_COMMITTED);
  EXPECT_EQ(found.height(), extract_committed_.height());
  EXPECT_EQ(found.tx_index(), extract_committed_.tx_index());
  EXPECT_EQ(found.transaction().body(), extract_.body());
  EXPECT_EQ(found.header().height(), found.height());
  // Checked without trusting the node (proto/README.md step 10): the envelope digest is
  // leaf tx_index of header.tx_root.
  std::vector<crypto::EnvelopeSignature> signatures;
  for (const v1::Signature& s : found.transaction().signatures()) {
    signatures.push_back({s.public_key(), s.signature()});
  }
  const crypto::Hash32 leaf = crypto::EnvelopeDigest(
      kChain, crypto::TransactionId(kChain, found.transaction().body()), signatures);
  std::vector<crypto::Hash32> path;
  for (const std::string& sibling : found.merkle_path()) {
    crypto::Hash32 h{};
    ASSERT_EQ(sibling.size(), h.size());
    std::copy(sibling.begin(), sibling.end(), h.begin());
    path.push_back(h);
  }
  crypto::Hash32 root{};
  ASSERT_EQ(found.header().tx_root().size(), root.size());
  std::copy(found.header().tx_root().begin(), found.header().tx_root().end(), root.begin());
  EXPECT_TRUE(
      crypto::VerifyMerklePath(leaf, found.tx_index(), found.header().tx_count(), path, root));
  EXPECT_TRUE(found.has_commit_proof());

  // Pending: while the chain is halted, at the end. Unknown and malformed ids:
  request.set_tx_id(std::string(32, '\0'));
  EXPECT_TRUE(Fails(0, "GetTransaction", request, Code::NOT_FOUND, "is not committed"));
  request.set_tx_id("short");
  EXPECT_TRUE(
      Fails(0, "GetTransaction", request, Code::INVALID_ARGUMENT, "tx_id must be 32 bytes, got 5"));
}

TEST_F(ApiContractTest, GetBlockByHeightOrIdAndWhatIsNotThere) {
  v1::GetBlockRequest request;
  request.set_height(extract_committed_.height());
  request.set_include_results(true);
  request.set_include_proof(true);
  v1::GetBlockResponse by_height;
  ASSERT_TRUE(Ok(0, "GetBlock", request, &by_height));
  EXPECT_EQ(by_height.block().header().height(), extract_committed_.height());
  EXPECT_EQ(by_height.results_size(), by_height.block().txs_size());
  EXPECT_TRUE(by_height.has_commit_proof());
  request.set_height(0);
  v1::GetBlockResponse genesis;
  ASSERT_TRUE(Ok(0, "GetBlock", request, &genesis));
  EXPECT_EQ(genesis.block().header().height(), 0u);

  v1::GetStatusResponse status = NodeStatus(0);
  v1::GetBlockRequest by_id;
  by_id.set_block_id(status.block_id());
  v1::GetBlockResponse tip;
  ASSERT_TRUE(Ok(0, "GetBlock", by_id, &tip));
  EXPECT_GE(tip.block().header().height(), status.height());

  request.set_height(status.height() + 1'000'000);
  EXPECT_TRUE(Fails(0, "GetBlock", request, Code::NOT_FOUND, "is not committed"));
  by_id.set_block_id(std::string(32, '\x01'));
  EXPECT_TRUE(Fails(0, "GetBlock", by_id, Code::NOT_FOUND, "no committed block has id"));
  by_id.set_block_id(std::string(31, '\x01'));
  EXPECT_TRUE(
      Fails(0, "GetBlock", by_id, Code::INVALID_ARGUMENT, "block_id must be 32 bytes, got 31"));
  EXPECT_TRUE(Fails(0, "GetBlock", v1::GetBlockRequest(), Code::INVALID_ARGUMENT,
                    "set height or block_id"));
}

// No epoch ends on this network: the chain of proofs is empty and complete, on the
// observer too (chains that end epochs: integration.epoch).
TEST_F(ApiContractTest, GetEpochProofsFromGenesisAndAnEpochNotBegun) {
  for (int node : {0, kObserver}) {
    v1::GetEpochProofsResponse proofs;
    ASSERT_TRUE(Ok(node, "GetEpochProofs", v1::GetEpochProofsRequest(), &proofs));
    EXPECT_EQ(proofs.proofs_size(), 0);
    EXPECT_EQ(proofs.current_epoch(), 0u);
    EXPECT_TRUE(proofs.complete());
  }
  v1::GetEpochProofsRequest ahead;
  ahead.set_from_epoch(5);
  EXPECT_TRUE(Fails(0, "GetEpochProofs", ahead, Code::NOT_FOUND, "has not begun"));
}

TEST_F(ApiContractTest, GetStatusDescribesTheNode) {
  v1::GetStatusResponse status;
  ASSERT_TRUE(Ok(0, "GetStatus", v1::GetStatusRequest(), &status));
  EXPECT_EQ(status.chain_id(), kChain);
  EXPECT_EQ(status.validators_size(), kValidators);
  EXPECT_EQ(status.self_validator_index(), 0);
  EXPECT_EQ(status.block_id().size(), 32u);
  EXPECT_FALSE(status.syncing());
}

// --- Streams ----------------------------------------------------------------------------------

TEST_F(ApiContractTest, StreamsSendWhatCommittedInOrderAndCheckTheirFilter) {
  v1::StreamBlocksRequest blocks;
  blocks.set_from_height(2);
  v1::StreamBlocksResponse block;
  ASSERT_TRUE(Ok(0, "StreamBlocks", blocks, &block));
  EXPECT_EQ(block.block().header().height(), 2u);
  blocks.set_from_height(0);  // the next block to commit
  const uint64_t before = NodeStatus(0).height();
  ASSERT_TRUE(Ok(0, "StreamBlocks", blocks, &block));
  EXPECT_GT(block.block().header().height(), before);

  v1::StreamEventsRequest events;
  events.set_from_height(1);
  events.mutable_filter()->add_lot_ids("c-lot-1");
  v1::StreamEventsResponse event;
  ASSERT_TRUE(Ok(0, "StreamEvents", events, &event));
  EXPECT_EQ(event.event().kind(), v1::TX_KIND_EXTRACT);
  EXPECT_EQ(event.event().height(), extract_committed_.height());
  EXPECT_EQ(event.event().tx_id(), Id(extract_));

  v1::StreamEventsRequest bad;
  for (size_t i = 0; i <= limits::api_event_filter_items_max; ++i) {
    bad.mutable_filter()->add_kinds(v1::TX_KIND_EXTRACT);
  }
  EXPECT_TRUE(Fails(0, "StreamEvents", bad, Code::INVALID_ARGUMENT,
                    "filter.kinds has 65 entries; at most 64"));
  bad.Clear();
  bad.mutable_filter()->add_org_ids("");
  EXPECT_TRUE(Fails(0, "StreamEvents", bad, Code::INVALID_ARGUMENT,
                    "filter.org_ids holds an id of 0 bytes"));
  bad.Clear();
  bad.mutable_filter()->add_lot_ids(std::string(limits::lot_id_bytes_max + 1, 'l'));
  EXPECT_TRUE(Fails(0, "StreamEvents", bad, Code::INVALID_ARGUMENT,
                    "filter.lot_ids holds an id of 65 bytes"));
}

TEST_F(ApiContractTest, StreamsBeyondTheNodesBoundAreResourceExhausted) {
  // limits::api_streams_max streams that wait for a height far ahead hold every slot.
  struct Open {
    grpc::ClientContext context;
    std::unique_ptr<grpc::ClientReader<v1::StreamBlocksResponse>> reader;
  };
  std::vector<std::unique_ptr<Open>> open;
  v1::StreamBlocksRequest far;
  far.set_from_height(1'000'000'000);
  for (size_t i = 0; i < limits::api_streams_max; ++i) {
    open.push_back(std::make_unique<Open>());
    open.back()->context.set_deadline(In(60000));
    open.back()->reader = stubs_[2]->StreamBlocks(&open.back()->context, far);
  }
  // The slots are taken by the handlers, which run a moment after the calls arrive: until
  // then a stream from height 1 is still served (and closed again by CallRaw).
  v1::StreamBlocksRequest from_one;
  from_one.set_from_height(1);
  grpc::Status refused = Call(2, "StreamBlocks", from_one);
  for (int tries = 0; tries < 100 && refused.ok(); ++tries) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    refused = Call(2, "StreamBlocks", from_one);
  }
  EXPECT_TRUE(Fails("StreamBlocks", refused, Code::RESOURCE_EXHAUSTED,
                    "serves at most 32 streams at once"));
  v1::StreamEventsRequest events;
  events.set_from_height(1);
  EXPECT_TRUE(Fails(2, "StreamEvents", events, Code::RESOURCE_EXHAUSTED,
                    "serves at most 32 streams at once"));
  for (auto& o : open) o->context.TryCancel();
  for (auto& o : open) (void)o->reader->Finish();  // CANCELLED: we closed them
  // A closed stream frees its slot.
  v1::StreamBlocksResponse block;
  bool served = false;
  for (int tries = 0; tries < 50 && !served; ++tries) {
    served = Call(2, "StreamBlocks", from_one, &block).ok();
    if (!served) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_TRUE(served) << "the slots were not freed";
}

// --- Queries -------------------------------------------------------------------------------------

TEST_F(ApiContractTest, OrganisationsAndSites) {
  v1::GetOrgRequest get;
  get.set_org_id("c-miner");
  v1::GetOrgResponse org;
  ASSERT_TRUE(Ok(0, "GetOrg", get, &org));
  EXPECT_EQ(org.org().kind(), v1::ORG_KIND_STATE_ENTERPRISE);
  get.set_org_id("nobody");
  EXPECT_TRUE(Fails(0, "GetOrg", get, Code::NOT_FOUND, "organisation 'nobody' is not registered"));

  // Paging: a token carries on the same filters, and only those.
  v1::ListOrgsRequest list;
  list.set_page_size(1);
  v1::ListOrgsResponse page;
  ASSERT_TRUE(Ok(0, "ListOrgs", list, &page));
  ASSERT_EQ(page.orgs_size(), 1);
  ASSERT_FALSE(page.next_page_token().empty());
  list.set_page_token(page.next_page_token());
  v1::ListOrgsResponse next;
  ASSERT_TRUE(Ok(0, "ListOrgs", list, &next));
  ASSERT_EQ(next.orgs_size(), 1);
  EXPECT_LT(page.orgs(0).org_id(), next.orgs(0).org_id());
  list.set_role(v1::ROLE_REGULATOR);
  EXPECT_TRUE(Fails(0, "ListOrgs", list, Code::INVALID_ARGUMENT,
                    "page_token does not belong to this request"));
  list.clear_page_token();
  list.set_page_size(100'000);  // clamped, not refused
  ASSERT_TRUE(Ok(0, "ListOrgs", list, &page));
  ASSERT_EQ(page.orgs_size(), 1);
  EXPECT_EQ(page.orgs(0).org_id(), "miit");

  v1::ListSitesRequest sites;
  sites.set_org_id("c-miner");
  v1::ListSitesResponse found;
  ASSERT_TRUE(Ok(0, "ListSites", sites, &found));
  ASSERT_EQ(found.sites_size(), 1);
  EXPECT_EQ(found.sites(0).site_id(), "c-mine");
  sites.set_org_id("nobody");  // a filter that names nothing is an empty list
  ASSERT_TRUE(Ok(0, "ListSites", sites, &found));
  EXPECT_EQ(found.sites_size(), 0);
}

TEST_F(ApiContractTest, Lots) {
  v1::GetLotRequest get;
  get.set_lot_id("c-lot-1");
  v1::GetLotResponse lot;
  ASSERT_TRUE(Ok(0, "GetLot", get, &lot));
  EXPECT_EQ(lot.lot().holder_org_id(), "c-miner");
  EXPECT_EQ(lot.lot().reo_g(), 30'000);
  get.set_lot_id("no-such-lot");
  EXPECT_TRUE(Fails(0, "GetLot", get, Code::NOT_FOUND, "lot 'no-such-lot' does not exist"));

  v1::LotHistoryRequest history;
  history.set_lot_id("c-lot-1");
  v1::LotHistoryResponse events;
  ASSERT_TRUE(Ok(0, "LotHistory", history, &events));
  ASSERT_EQ(events.events_size(), 1);
  EXPECT_EQ(events.events(0).biz_step(), v1::BIZ_STEP_EXTRACTING);
  history.set_lot_id("no-such-lot");
  EXPECT_TRUE(Fails(0, "LotHistory", history, Code::NOT_FOUND, "lot 'no-such-lot' does not exist"));

  v1::TraceLotRequest trace;
  trace.set_lot_id("c-lot-1");
  trace.set_include_dot(true);
  v1::TraceLotResponse graph;
  ASSERT_TRUE(Ok(0, "TraceLot", trace, &graph));
  std::set<std::string> nodes;
  for (const v1::TraceNode& n : graph.nodes()) nodes.insert(n.node_id());
  EXPECT_TRUE(nodes.count("lot:c-lot-1") && nodes.count("site:c-mine")) << graph.ShortDebugString();
  EXPECT_NE(graph.dot().find("c-mine"), std::string::npos);
  trace.set_lot_id("no-such-lot");
  EXPECT_TRUE(Fails(0, "TraceLot", trace, Code::NOT_FOUND, "lot 'no-such-lot' does not exist"));
  // A page past the server's bound on a trace's nodes. No test can build a trace of
  // 100,000 nodes, so the token of such a page is made here as the node makes it (a
  // version byte, a fingerprint of the filters, the offset): a client must never do so.
  v1::TraceLotRequest far;
  far.set_lot_id("c-lot-1");
  std::string token(1, '\x02');
  token += std::string(crypto::AsBytes(crypto::Blake2b256(far.SerializeAsString())).substr(0, 8));
  AppendU64BE(token, limits::query_trace_nodes_max);
  far.set_page_token(token);
  EXPECT_TRUE(Fails(0, "TraceLot", far, Code::RESOURCE_EXHAUSTED, "a trace lists at most 100000"));

  v1::HoldingsRequest holdings;
  holdings.set_org_id("c-miner");
  v1::HoldingsResponse held;
  ASSERT_TRUE(Ok(0, "Holdings", holdings, &held));
  ASSERT_EQ(held.lots_size(), 1);
  EXPECT_EQ(held.lots(0).lot_id(), "c-lot-1");
  holdings.set_org_id("nobody");
  EXPECT_TRUE(
      Fails(0, "Holdings", holdings, Code::NOT_FOUND, "organisation 'nobody' is not registered"));

  v1::ListTransferOffersResponse offers;
  ASSERT_TRUE(Ok(0, "ListTransferOffers", v1::ListTransferOffersRequest(), &offers));
  EXPECT_EQ(offers.offers_size(), 0);
}

TEST_F(ApiContractTest, Quotas) {
  v1::QuotaUseRequest request;
  request.set_org_id("c-miner");  // year 0: the year of the last block, in UTC+8
  v1::QuotaUseResponse use;
  ASSERT_TRUE(Ok(0, "QuotaUse", request, &use));
  ASSERT_EQ(use.rows_size(), 1) << use.ShortDebugString();
  EXPECT_EQ(use.rows(0).year(), year_);
  EXPECT_EQ(use.rows(0).used_g(), 30'000);
  request.set_org_id("nobody");
  ASSERT_TRUE(Ok(0, "QuotaUse", request, &use));
  EXPECT_EQ(use.rows_size(), 0);
}

TEST_F(ApiContractTest, ValidatorChanges) {
  v1::ListValidatorChangesRequest list;
  list.set_status(v1::VALIDATOR_CHANGE_STATUS_PENDING);
  v1::ListValidatorChangesResponse changes;
  ASSERT_TRUE(Ok(0, "ListValidatorChanges", list, &changes));
  ASSERT_EQ(changes.changes_size(), 1) << changes.ShortDebugString();
  EXPECT_EQ(changes.changes(0).change_id(), "c-timings");
  EXPECT_EQ(changes.governance().approvals_required(), 2u);  // MIIT and MOFCOM
  EXPECT_EQ(changes.current().epoch(), 0u);
  EXPECT_EQ(changes.current().validators_size(), 4);

  v1::GetValidatorChangeRequest get;
  get.set_change_id("c-timings");
  v1::GetValidatorChangeResponse change;
  ASSERT_TRUE(Ok(kObserver, "GetValidatorChange", get, &change));
  EXPECT_EQ(change.change().status(), v1::VALIDATOR_CHANGE_STATUS_PENDING);
  EXPECT_EQ(change.change().proposer_org_id(), "miit");
  get.set_change_id("no-such-change");
  EXPECT_TRUE(Fails(0, "GetValidatorChange", get, Code::NOT_FOUND,
                    "validator change 'no-such-change' does not exist"));
}

// Issue 14, item 8: an application that a DENY and a REVIEW restriction both match is
// denied at once, and cites both, as LicenceVerdict does.
TEST_F(ApiContractTest, LicencesAndRestrictions) {
  v1::GetLicenceRequest get;
  get.set_licence_id("c-lic-denied");
  v1::GetLicenceResponse licence;
  ASSERT_TRUE(Ok(0, "GetLicence", get, &licence));
  EXPECT_EQ(licence.licence().status(), v1::LICENCE_STATUS_DENIED);
  EXPECT_EQ(licence.licence().denied_by_restriction_id(), "c-deny");
  ASSERT_EQ(licence.licence().review_restriction_ids_size(), 1);
  EXPECT_EQ(licence.licence().review_restriction_ids(0), "c-review");
  get.set_licence_id("no-such-licence");
  EXPECT_TRUE(
      Fails(0, "GetLicence", get, Code::NOT_FOUND, "licence 'no-such-licence' does not exist"));

  v1::ListLicencesRequest list;
  list.set_applicant_org_id("c-exporter");
  v1::ListLicencesResponse licences;
  ASSERT_TRUE(Ok(0, "ListLicences", list, &licences));
  EXPECT_EQ(licences.licences_size(), 2);

  v1::MatchingRestrictionsRequest matching;
  matching.set_licence_id("c-lic-denied");
  v1::MatchingRestrictionsResponse matched;
  ASSERT_TRUE(Ok(0, "MatchingRestrictions", matching, &matched));
  ASSERT_EQ(matched.restrictions_size(), 2);
  EXPECT_EQ(matched.restrictions(0).restriction_id(), "c-deny");
  EXPECT_EQ(matched.restrictions(1).restriction_id(), "c-review");
  matching.set_licence_id("no-such-licence");
  EXPECT_TRUE(Fails(0, "MatchingRestrictions", matching, Code::NOT_FOUND,
                    "licence 'no-such-licence' does not exist"));

  v1::RestrictionImpactRequest impact;
  impact.mutable_match()->add_end_users("good turbines gmbh");
  impact.set_effect(v1::RESTRICTION_EFFECT_DENY);
  v1::RestrictionImpactResponse hit;
  ASSERT_TRUE(Ok(0, "RestrictionImpact", impact, &hit));
  ASSERT_EQ(hit.licences_size(), 1);
  EXPECT_EQ(hit.licences(0).licence().licence_id(), "c-lic-pending");
  EXPECT_TRUE(hit.licences(0).would_affect_decision());
  impact.set_effect(v1::RESTRICTION_EFFECT_UNSPECIFIED);
  EXPECT_TRUE(Fails(0, "RestrictionImpact", impact, Code::INVALID_ARGUMENT,
                    "effect must be DENY or REVIEW"));
  impact.set_effect(v1::RESTRICTION_EFFECT_REVIEW);
  impact.mutable_match()->add_countries("XX");
  EXPECT_TRUE(Fails(0, "RestrictionImpact", impact, Code::INVALID_ARGUMENT,
                    "is not an upper-case ISO 3166-1 alpha-2 country code"));

  std::unique_ptr<pb::Message> verdict_request = ValidRequest("LicenceVerdict");
  v1::LicenceVerdictResponse verdict;
  ASSERT_TRUE(Ok(0, "LicenceVerdict", *verdict_request, &verdict));
  EXPECT_EQ(verdict.code(), v1::OK);
  EXPECT_EQ(verdict.status(), v1::LICENCE_STATUS_DENIED);
  ASSERT_EQ(verdict.deny_restriction_ids_size(), 1);
  EXPECT_EQ(verdict.deny_restriction_ids(0), "c-deny");
  ASSERT_EQ(verdict.review_restriction_ids_size(), 1);
  EXPECT_EQ(verdict.review_restriction_ids(0), "c-review");
  // A rule the application would break is an answer too, with its code.
  auto* by_nobody = dynamic_cast<v1::LicenceVerdictRequest*>(verdict_request.get());
  by_nobody->set_applicant_org_id("nobody");
  ASSERT_TRUE(Ok(0, "LicenceVerdict", *by_nobody, &verdict));
  EXPECT_EQ(verdict.code(), v1::SIGNER_NOT_FOUND) << verdict.message();
  EXPECT_EQ(verdict.status(), v1::LICENCE_STATUS_UNSPECIFIED);

  v1::ListRestrictionsRequest restrictions;
  restrictions.set_effect(v1::RESTRICTION_EFFECT_REVIEW);
  v1::ListRestrictionsResponse listed;
  ASSERT_TRUE(Ok(0, "ListRestrictions", restrictions, &listed));
  ASSERT_EQ(listed.restrictions_size(), 1);
  EXPECT_EQ(listed.restrictions(0).restriction_id(), "c-review");

  // The application's own result cites both too, DENY first (TxResult.restriction_ids).
  v1::GetBlockRequest block_request;
  block_request.set_include_results(true);
  v1::StreamEventsRequest events;
  events.set_from_height(1);
  events.mutable_filter()->add_licence_ids("c-lic-denied");
  v1::StreamEventsResponse event;
  ASSERT_TRUE(Ok(0, "StreamEvents", events, &event));
  block_request.set_height(event.event().height());
  v1::GetBlockResponse block;
  ASSERT_TRUE(Ok(0, "GetBlock", block_request, &block));
  const v1::TxResult& result = block.results(static_cast<int>(event.event().tx_index()));
  ASSERT_EQ(result.restriction_ids_size(), 2) << result.ShortDebugString();
  EXPECT_EQ(result.restriction_ids(0), "c-deny");
  EXPECT_EQ(result.restriction_ids(1), "c-review");
}

TEST_F(ApiContractTest, ExportsAndReports) {
  v1::ExportStatsRequest stats;
  stats.set_group_by(v1::EXPORT_GROUP_BY_COUNTRY);
  v1::ExportStatsResponse rows;
  ASSERT_TRUE(Ok(0, "ExportStats", stats, &rows));
  EXPECT_EQ(rows.rows_size(), 0);
  stats.set_group_by(v1::EXPORT_GROUP_BY_UNSPECIFIED);
  EXPECT_TRUE(Fails(0, "ExportStats", stats, Code::INVALID_ARGUMENT, "group_by is required"));

  v1::ListExportsResponse exports;
  ASSERT_TRUE(Ok(0, "ListExports", v1::ListExportsRequest(), &exports));
  EXPECT_EQ(exports.exports_size(), 0);

  v1::MassBalanceRequest balance;
  balance.set_org_id("c-miner");
  v1::MassBalanceResponse flows;
  ASSERT_TRUE(Ok(0, "MassBalance", balance, &flows));
  EXPECT_EQ(flows.extracted_reo_g(), 30'000);
  balance.set_org_id("nobody");
  EXPECT_TRUE(
      Fails(0, "MassBalance", balance, Code::NOT_FOUND, "organisation 'nobody' is not registered"));

  v1::MonthlyFlowReportRequest month;
  month.set_org_id("c-miner");
  month.set_year(year_);
  month.set_month(month_);
  v1::MonthlyFlowReportResponse report;
  ASSERT_TRUE(Ok(0, "MonthlyFlowReport", month, &report));
  EXPECT_EQ(report.extracted().lot_count(), 1u);
  month.set_month(13);
  EXPECT_TRUE(Fails(0, "MonthlyFlowReport", month, Code::INVALID_ARGUMENT, "month must be 1..12"));
  month.set_month(month_);
  month.set_year(1999);
  EXPECT_TRUE(Fails(0, "MonthlyFlowReport", month, Code::INVALID_ARGUMENT, "year out of range"));
  month.set_year(year_);
  month.set_org_id("nobody");
  EXPECT_TRUE(Fails(0, "MonthlyFlowReport", month, Code::NOT_FOUND,
                    "organisation 'nobody' is not registered"));

  v1::ListViolationsResponse violations;
  ASSERT_TRUE(Ok(0, "ListViolations", v1::ListViolationsRequest(), &violations));
  EXPECT_EQ(violations.violations_size(), 0);
}

// Issue 14, item 7: Process.site_id is optional. Empty, the outputs carry no site; set, it
// must be the signer's site, a rule of the state that fails in the block.
TEST_F(ApiContractTest, ProcessWithoutASiteMakesLotsWithoutOne) {
  v1::TxBody first;
  ASSERT_TRUE(first.ParseFromString(extract_.body()));
  v1::TxBody extract = Body("c-miner");
  *extract.mutable_extract() = first.extract();
  extract.mutable_extract()->set_lot_id("c-lot-2");
  ASSERT_EQ(Commit(0, Signed(extract)), "");

  auto process = [](const std::string& site_id) {
    v1::TxBody body = Body("c-miner");
    v1::Process* p = body.mutable_process();
    p->add_input_lot_ids("c-lot-2");
    p->set_site_id(site_id);
    v1::LotOutput* out = p->add_outputs();
    out->set_lot_id("c-con-2");
    out->set_product(v1::PRODUCT_FORM_CONCENTRATE);
    out->set_mass_g(100'000);
    v1::ElementAmount* la = out->mutable_composition()->add_amounts();
    la->set_element(v1::ELEMENT_LA);
    la->set_reo_g(9'000);
    v1::ElementAmount* ce = out->mutable_composition()->add_amounts();
    ce->set_element(v1::ELEMENT_CE);
    ce->set_reo_g(18'000);
    return Signed(body);
  };
  v1::SubmitTransactionResponse response;
  EXPECT_TRUE(Answered(Submit(0, process("c-nowhere"), true, &response), response,
                       v1::TX_STATUS_COMMITTED, v1::SITE_NOT_FOUND));
  ASSERT_TRUE(Answered(Submit(0, process(""), true, &response), response, v1::TX_STATUS_COMMITTED));
  v1::GetLotRequest get;
  get.set_lot_id("c-con-2");
  v1::GetLotResponse lot;
  ASSERT_TRUE(Ok(0, "GetLot", get, &lot));
  EXPECT_EQ(lot.lot().site_id(), "");
  EXPECT_EQ(lot.lot().product(), v1::PRODUCT_FORM_CONCENTRATE);
}

// --- A halted chain, then a validator far behind ----------------------------------------------

// With two of four validators stopped no block commits: a waiting submission meets its
// deadline, what was admitted stays PENDING, and a mempool fills up.
TEST_F(ApiContractTest, WhileNothingCommitsSubmissionsWaitAndTheMempoolFills) {
  StopNode(kLagging);
  StopNode(2);
  const uint64_t height = NodeStatus(0).height();
  std::this_thread::sleep_for(std::chrono::seconds(2));
  ASSERT_LE(NodeStatus(0).height(), height + 3) << "the chain did not halt";

  const v1::Transaction tx = Signed(Quota(50));
  v1::SubmitTransactionResponse response;
  // The node answers PENDING a little before the call's deadline, so that the answer
  // arrives before the deadline ends the call.
  const auto start = std::chrono::steady_clock::now();
  grpc::Status status = Submit(0, tx, /*wait=*/true, &response, /*deadline_ms=*/2000);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  EXPECT_TRUE(Answered(status, response, v1::TX_STATUS_PENDING));
  v1::GetTransactionRequest request;
  request.set_tx_id(Id(tx));
  v1::GetTransactionResponse pending;
  ASSERT_TRUE(Ok(0, "GetTransaction", request, &pending));
  EXPECT_EQ(pending.status(), v1::TX_STATUS_PENDING);
  EXPECT_TRUE(Answered(Submit(0, tx, false, &response), response, v1::TX_STATUS_PENDING));
  // Any envelope of the waiting body, one that admission would refuse included.
  v1::Transaction bare = tx;
  bare.clear_signatures();
  EXPECT_TRUE(Answered(Submit(0, bare, false, &response), response, v1::TX_STATUS_PENDING));
  EXPECT_EQ(response.tx_id(), Id(tx));

  // node1 holds at most limits::block_txs_max transactions.
  std::atomic<size_t> next{0}, admitted{0};
  std::mutex mu;
  std::optional<grpc::Status> full;
  auto client = [&] {
    for (;;) {
      const size_t k = next.fetch_add(1);
      if (k > limits::block_txs_max + 10) return;
      {
        std::lock_guard<std::mutex> lock(mu);
        if (full.has_value()) return;
      }
      v1::SubmitTransactionResponse answer;
      grpc::Status s =
          Submit(kSmallPool, Signed(Quota(100 + static_cast<int64_t>(k))), false, &answer);
      if (s.ok() && answer.status() == v1::TX_STATUS_PENDING) {
        ++admitted;
      } else {
        std::lock_guard<std::mutex> lock(mu);
        if (!full.has_value()) full = s;
        return;
      }
    }
  };
  std::vector<std::thread> clients;
  for (int i = 0; i < 4; ++i) clients.emplace_back(client);
  for (std::thread& t : clients) t.join();
  ASSERT_TRUE(full.has_value()) << admitted << " admitted and no refusal";
  EXPECT_LE(admitted.load(), limits::block_txs_max);
  EXPECT_TRUE(Fails("SubmitTransaction", *full, Code::RESOURCE_EXHAUSTED, "mempool full"));
  // A call of several into the full mempool: refused as a whole.
  v1::SubmitTransactionsResponse batch;
  EXPECT_TRUE(Fails("SubmitTransactions",
                    SubmitBatch(kSmallPool, {Signed(Quota(90)), Signed(Quota(91))}, &batch),
                    Code::RESOURCE_EXHAUSTED, "mempool full"));

  // Back to three: the chain commits again, what waited included.
  StartNode(2);
  v1::SubmitTransactionResponse committed;
  status = Submit(0, tx, /*wait=*/true, &committed, /*deadline_ms=*/90000);
  EXPECT_TRUE(Answered(status, committed, v1::TX_STATUS_COMMITTED));
}

// A validator more than 128 blocks behind its peers syncs by ranges, and refuses
// submissions meanwhile with UNAVAILABLE (GetStatus says syncing). It catches up fast
// (hundreds of light blocks a second) and the node refreshes what GetStatus and the API
// see every half second, so it takes a gap of some 900 blocks to show it for a second or
// so; an attempt that misses it is made again with node3 stopped anew.
TEST_F(ApiContractTest, AValidatorFarBehindIsUnavailableForSubmissionsWhileItSyncs) {
  // Load makes blocks come every 50 to 100 ms, rather than every 500 ms.
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> sent{0};
  auto load = [&](int node) {
    while (!stop.load()) {
      v1::SubmitTransactionResponse answer;
      if (Submit(node, Signed(Quota(7)), /*wait=*/false, &answer).ok()) ++sent;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  };
  const v1::Transaction tx = Signed(Quota(60));
  const std::vector<v1::Transaction> txs = {Signed(Quota(61)), Signed(Quota(62))};
  std::string timeline;
  // Seen for SubmitTransaction, and for SubmitTransactions (asked right after it).
  bool unavailable = false, batch_unavailable = false;
  for (int attempt = 1; attempt <= 3 && !(unavailable && batch_unavailable); ++attempt) {
    StopNode(kLagging);  // already stopped on the first attempt (the test before)
    const uint64_t behind = NodeStatus(0).height();
    stop = false;
    std::vector<std::thread> loaders;
    for (int node : {0, 1, 2}) loaders.emplace_back(load, node);
    const uint64_t target = behind + limits::sync_validator_lag_blocks_min + 800;
    const auto growing = std::chrono::steady_clock::now();
    for (int tries = 0; tries < 1200 && NodeStatus(0).height() < target; ++tries) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    stop = true;
    for (std::thread& t : loaders) t.join();
    ASSERT_GE(NodeStatus(0).height(), target) << "the chain did not grow";

    StartNode(kLagging);
    timeline += "attempt " + std::to_string(attempt) + ": node3 from about " +
                std::to_string(behind) + " to " + std::to_string(NodeStatus(0).height()) +
                " (the chain grew in " +
                std::to_string(std::chrono::duration_cast<std::chrono::seconds>(
                                   std::chrono::steady_clock::now() - growing)
                                   .count()) +
                " s, " + std::to_string(sent.load()) + " transactions)\n";
    std::string last;
    const auto started = std::chrono::steady_clock::now();
    for (int tries = 0; tries < 3000; ++tries) {
      v1::GetStatusResponse status = NodeStatus(kLagging);
      v1::SubmitTransactionResponse answer;
      grpc::Status s = Submit(kLagging, tx, false, &answer, 2000);
      v1::SubmitTransactionsResponse answers;
      grpc::Status b =
          batch_unavailable ? grpc::Status::OK : SubmitBatch(kLagging, txs, &answers, 2000);
      const std::string now = std::to_string(status.height()) +
                              (status.syncing() ? " syncing " : " ") + CodeName(s.error_code()) +
                              " " + v1::TxStatus_Name(answer.status()) + ", batch " +
                              CodeName(b.error_code());
      if (now != last) {
        timeline += "  " +
                    std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(
                                       std::chrono::steady_clock::now() - started)
                                       .count()) +
                    " ms: " + now + "\n";
        last = now;
      }
      if (!unavailable && s.error_code() == Code::UNAVAILABLE &&
          s.error_message().find("catching up") != std::string::npos) {
        unavailable = true;
        EXPECT_TRUE(
            Fails("SubmitTransaction", s, Code::UNAVAILABLE,
                  "is catching up with its peers; retry shortly or submit to another node"));
      }
      if (!batch_unavailable && b.error_code() == Code::UNAVAILABLE &&
          b.error_message().find("catching up") != std::string::npos) {
        batch_unavailable = true;
        EXPECT_TRUE(
            Fails("SubmitTransactions", b, Code::UNAVAILABLE,
                  "is catching up with its peers; retry shortly or submit to another node"));
      }
      if (unavailable && batch_unavailable) break;
      if (s.ok() && status.height() >= target) break;  // caught up before we saw it
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
  EXPECT_TRUE(unavailable) << "node3 never refused a submission while it caught up:\n"
                           << timeline.substr(0, 20000);
  EXPECT_TRUE(batch_unavailable) << "node3 never refused a SubmitTransactions call while it "
                                    "caught up:\n"
                                 << timeline.substr(0, 20000);
  StopNode(kLagging);  // spared the catching up
}

// --- The page and the node agree -----------------------------------------------------------

struct Row {
  std::string method;  // "" for the rows of every method, "*query" for every query's
  Code code;
  std::string words;  // the first `...` of the second column
  int line;
};

std::optional<Code> CodeByName(const std::string& name) {
  for (int c = 0; c <= 16; ++c) {
    if (CodeName(static_cast<Code>(c)) == name) return static_cast<Code>(c);
  }
  return std::nullopt;
}

// The rows of the tables of proto/CONTRACT.md: under "### Method", and under the
// sections "Every method" and "Every query".
std::vector<Row> ContractRows(std::string* error) {
  std::ifstream in(std::string(REEL_SOURCE_DIR) + "/proto/CONTRACT.md");
  if (!in.good()) {
    *error = "cannot read proto/CONTRACT.md";
    return {};
  }
  std::vector<Row> rows;
  std::string line, section;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (line.starts_with("## Every method")) section = "";
    if (line.starts_with("## Every query")) section = "*query";
    if (line.starts_with("### ")) section = line.substr(4);
    if (!line.starts_with("| `")) continue;
    std::vector<std::string> cells;
    std::stringstream split(line.substr(1));
    std::string cell;
    while (std::getline(split, cell, '|')) cells.push_back(cell);
    if (cells.size() < 3) continue;
    auto ticked = [](const std::string& text) {
      const size_t a = text.find('`');
      const size_t b = a == std::string::npos ? a : text.find('`', a + 1);
      return b == std::string::npos ? std::string() : text.substr(a + 1, b - a - 1);
    };
    std::optional<Code> code = CodeByName(ticked(cells[0]));
    if (!code.has_value()) {
      *error = "proto/CONTRACT.md:" + std::to_string(number) + ": no gRPC code in '" + line + "'";
      return {};
    }
    rows.push_back({section, *code, ticked(cells[1]), number});
  }
  return rows;
}

TEST_F(ApiContractTest, TheContractPageListsExactlyWhatTheNodeDid) {
  const ::testing::TestSuite* suite = ::testing::UnitTest::GetInstance()->current_test_suite();
  if (suite->test_to_run_count() != suite->total_test_count()) {
    GTEST_SKIP() << "only meaningful after every test of the suite ran";
  }
  std::string error;
  const std::vector<Row> rows = ContractRows(&error);
  ASSERT_EQ(error, "");
  // Rows the node keeps that no test here can bring about on a healthy node; tests/api
  // (a store that fails on demand) covers the store's; integration.epoch_membership a
  // node whose key the validator set does not name (this network never changes its set);
  // none fills the signature check queue (20,000 transactions of gossip and
  // SubmitTransactions calls waiting at once); and none commits records large enough
  // that a SubmitTransactions call of them would exceed its answer bound.
  const std::set<std::string> not_walked = {
      "could not read its store",        "the node failed",
      "the trace has more than",         "client's own",
      "is not in the validator set",     "signature check queue full",
      "send fewer transactions per call"};
  std::lock_guard<std::mutex> lock(seen_mu);
  std::set<std::string> methods;
  for (int i = 0; i < ApiService().method_count(); ++i) {
    methods.insert(ApiService().method(i)->name());
  }
  for (const Row& row : rows) {
    if (!row.method.empty() && row.method != "*query") {
      EXPECT_TRUE(methods.count(row.method))
          << "CONTRACT.md:" << row.line << ": no method " << row.method;
    }
    if (not_walked.count(row.words)) continue;
    bool walked = false;
    for (const Seen& s : seen) {
      const bool applies = row.method.empty() || row.method == s.method ||
                           (row.method == "*query" && IsQuery(s.method));
      if (applies && s.code == row.code && s.text.find(row.words) != std::string::npos) {
        walked = true;
        break;
      }
    }
    EXPECT_TRUE(walked) << "CONTRACT.md:" << row.line << ": no call gave " << CodeName(row.code)
                        << " with '" << row.words << "' for "
                        << (row.method.empty() ? "any method" : row.method);
  }
  // Each method has its section, and every code the node gave is in a row that applies.
  for (const std::string& method : methods) {
    bool has_section = false;
    for (const Row& row : rows) has_section = has_section || row.method == method;
    EXPECT_TRUE(has_section) << "CONTRACT.md has no table for " << method;
  }
  for (const Seen& s : seen) {
    bool listed = false;
    for (const Row& row : rows) {
      const bool applies = row.method.empty() || row.method == s.method ||
                           (row.method == "*query" && IsQuery(s.method));
      listed = listed || (applies && row.code == s.code);
    }
    EXPECT_TRUE(listed) << s.method << " gave " << CodeName(s.code) << " ('" << s.text
                        << "'), which no row of CONTRACT.md lists";
  }
}

}  // namespace
}  // namespace reel
