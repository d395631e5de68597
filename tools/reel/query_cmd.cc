// reel query: the queries of reel.v1.Api.
//
// `reel query NAME --flags` has one subcommand per unary query, with flags made from
// the request message (proto_flags.h) and the answer printed as a record and tables
// (proto_print.h), or as JSON with --json. `reel query trace` also draws the graph
// (--dot, --svg FILE). `reel query transaction --genesis FILE` checks the answer's proof
// with the keys of its block's epoch, proved from genesis by the node's epoch-change
// proofs; `reel query epochs --genesis FILE` prints the sets they prove.
// `reel query METHOD --request JSON` calls any unary method by
// its proto name, through the service descriptor.
#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>

#include "base/bytes.h"
#include "node/config/genesis.h"
#include "node/replica/commit_proof.h"
#include "node/replica/epoch_proof.h"
#include "reel/v1/api.grpc.pb.h"
#include "tools/reel/cli.h"
#include "tools/reel/proto_flags.h"
#include "tools/reel/proto_print.h"
#include "tools/reel/rpc.h"

namespace reel::cli {
namespace {

namespace pb = google::protobuf;

constexpr int kTracePagesMax = 1000;  // a trace bigger than this is cut, not loaded whole

struct QueryDoc {
  const char* command;
  const char* help;
  const char* required;  // space-separated request fields
};
// Every unary query of reel.v1.Api but GetStatus (`reel status`) and SubmitTransaction.
const std::map<std::string, QueryDoc>& QueryDocs() {
  static const std::map<std::string, QueryDoc> docs = {
      {"GetTransaction", {"transaction", "A transaction by id (hex) with its result", "tx_id"}},
      {"GetBlock", {"block", "A committed block by --height or --block-id", ""}},
      {"GetEpochProofs",
       {"epochs", "The epoch-change proofs; with --genesis, the validator sets they prove", ""}},
      {"GetOrg", {"org", "An organisation: kind, roles, keys, quorum, status", "org_id"}},
      {"ListOrgs", {"list-orgs", "Organisations, by role, kind or status", ""}},
      {"ListSites", {"list-sites", "Mines and plants, by owner, kind, deposit or province", ""}},
      {"GetLot", {"lot", "A lot: form, mass, composition, holder, status, parents", "lot_id"}},
      {"LotHistory",
       {"lot-history", "Every transaction that touched a lot, EPCIS-style", "lot_id"}},
      {"TraceLot",
       {"trace", "A lot's trace: upstream to mines and imports, downstream to exports", "lot_id"}},
      {"Holdings", {"holdings", "What an organisation holds, by status and product", "org_id"}},
      {"ListTransferOffers",
       {"list-transfer-offers", "Transfer offers, by sender, recipient, status", ""}},
      {"QuotaUse",
       {"quota-use", "Quota granted, cut, used and left per organisation and year", ""}},
      {"GetLicence", {"licence", "An export licence", "licence_id"}},
      {"ListLicences",
       {"list-licences", "Licences by applicant, status, country, end user, industry", ""}},
      {"MatchingRestrictions",
       {"matching-restrictions", "The restrictions that match a licence", "licence_id"}},
      {"RestrictionImpact",
       {"restriction-impact", "What a restriction would hit if set now (dry run)", "effect"}},
      {"LicenceVerdict",
       {"licence-verdict",
        "What the restrictions in force say to an application "
        "(dry run)",
        "applicant_org_id"}},
      {"ListRestrictions", {"list-restrictions", "Export restrictions", ""}},
      {"ExportStats",
       {"export-stats", "Exports summed by country, end user, industry or element", "group_by"}},
      {"ListExports", {"list-exports", "Export records", ""}},
      {"MassBalance",
       {"mass-balance", "REO in, out and lost by an organisation, with outliers", "org_id"}},
      {"MonthlyFlowReport",
       {"monthly-flow-report", "An enterprise's flows in a month (UTC+8)", "org_id year month"}},
      {"ListViolations", {"list-violations", "Recorded violations", ""}},
      {"ListValidatorChanges",
       {"list-validator-changes",
        "Validator-set changes by status, with the governance and the current set "
        "(reel validators list reads it for people)",
        ""}},
      {"GetValidatorChange",
       {"validator-change", "A validator-set change with its approvals", "change_id"}},
  };
  return docs;
}

// The method name as a command: GetLot -> get-lot.
std::string KebabOfCamel(const std::string& camel) {
  std::string kebab;
  for (char c : camel) {
    if (std::isupper(static_cast<unsigned char>(c)) && !kebab.empty()) kebab += '-';
    kebab += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return kebab;
}

// The one required id of a request (GetLot.lot_id) also answers to --id.
std::map<std::string, std::string> IdAlias(const std::set<std::string>& required) {
  if (required.size() != 1) return {};
  const std::string& name = *required.begin();
  if (name.size() < 3 || name.substr(name.size() - 3) != "_id") return {};
  return {{name, "id"}};
}

struct Query {
  const pb::MethodDescriptor* method = nullptr;
  NodeOptions node;
  std::unique_ptr<MessageFlags> flags;
};

std::unique_ptr<pb::Message> New(const pb::Descriptor* type) {
  return std::unique_ptr<pb::Message>(
      pb::MessageFactory::generated_factory()->GetPrototype(type)->New());
}

Result<std::unique_ptr<pb::Message>> Call(const Query& q, const pb::Message& request) {
  std::unique_ptr<pb::Message> response = New(q.method->output_type());
  REEL_RETURN_IF_ERROR(CallUnary(q.node, q.method, request, response.get()));
  return response;
}

void Print(const Globals& globals, const pb::Message& response) {
  if (globals.json) {
    std::cout << ToJson(response) << "\n";
  } else {
    PrintReadable(response);
  }
}

CLI::App* AddQuery(CLI::App* query, const pb::MethodDescriptor* method, const QueryDoc& doc,
                   Globals& globals, Query& q, std::set<std::string> skip) {
  CLI::App* command = query->add_subcommand(doc.command, doc.help);
  const std::string kebab = KebabOfCamel(method->name());
  if (kebab != doc.command) command->alias(kebab);
  q.method = method;
  AddNodeFlag(command, q.node);
  command->add_flag("--json", globals.json, "Print the answer as JSON");
  const std::set<std::string> required = FieldNames(doc.required);
  std::map<std::string, std::string> aliases = IdAlias(required);
  aliases["group_by"] = "by";  // reel query export-stats --by country
  q.flags = std::make_unique<MessageFlags>(command, method->input_type(),
                                           FlagSpec{required, std::move(skip), aliases});
  return command;
}

// --- reel query trace ------------------------------------------------------------

struct TraceOptions {
  bool upstream = false;
  bool downstream = false;
  bool dot = false;
  std::string svg;
};

// The union of a trace's pages as one graph: the node draws each page's nodes and
// edges (with stable node ids), so the pages' bodies go under one header.
std::string JoinDot(const std::vector<std::string>& pages) {
  std::string dot;
  for (const std::string& page : pages) {
    const size_t close = page.rfind('}');
    if (close == std::string::npos) continue;
    // The first page keeps its header line ("digraph trace {"), the others give their body.
    const size_t body = dot.empty() ? 0 : page.find('\n') + 1;
    dot += page.substr(body, close - body);
  }
  return dot.empty() ? "" : dot + "}\n";
}

bool OnPath(const std::string& program) {
  const char* path = std::getenv("PATH");
  std::istringstream dirs(path == nullptr ? "" : path);
  for (std::string dir; std::getline(dirs, dir, ':');) {
    if (!dir.empty() && access((dir + "/" + program).c_str(), X_OK) == 0) return true;
  }
  return false;
}

Status WriteSvg(const std::string& dot, const std::string& file) {
  std::string quoted = "'";
  for (char c : file) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
  FILE* pipe = popen(("dot -Tsvg -o " + quoted + "'").c_str(), "w");
  if (pipe == nullptr) return Status::IoError("cannot run dot");
  fwrite(dot.data(), 1, dot.size(), pipe);
  if (pclose(pipe) != 0) return Status::IoError("dot -Tsvg could not write " + file);
  std::cerr << "wrote " << file << "\n";
  return Status::Ok();
}

Status RunTrace(const Globals& globals, const Query& q, const TraceOptions& t) {
  if (t.upstream && t.downstream) {
    return Status::InvalidArgument(
        "give --upstream or --downstream, not both (neither = both ways)");
  }
  if (!t.svg.empty() && !OnPath("dot")) {  // said before the trace is fetched for nothing
    return Status::FailedPrecondition(
        "--svg needs Graphviz, which is not installed (no `dot` on PATH): apt-get install "
        "graphviz, or print the graph with --dot");
  }
  v1::TraceLotRequest request;
  REEL_RETURN_IF_ERROR(q.flags->Apply(&request));
  request.set_direction(t.upstream     ? v1::TRACE_DIRECTION_UPSTREAM
                        : t.downstream ? v1::TRACE_DIRECTION_DOWNSTREAM
                                       : v1::TRACE_DIRECTION_BOTH);
  request.set_include_dot(t.dot || !t.svg.empty());
  v1::TraceLotResponse trace;  // every page: the graph is drawn whole
  std::vector<std::string> dots;
  for (int page = 0; page < kTracePagesMax; ++page) {
    Result<std::unique_ptr<pb::Message>> response = Call(q, request);
    if (!response.ok()) return response.status();
    const auto& page_answer = static_cast<const v1::TraceLotResponse&>(**response);
    dots.push_back(page_answer.dot());
    trace.MergeFrom(page_answer);
    // MergeFrom keeps the last non-empty token: the end is the page's own empty one.
    request.set_page_token(page_answer.next_page_token());
    if (page_answer.next_page_token().empty()) break;
  }
  trace.clear_dot();
  trace.clear_next_page_token();
  if (!t.dot && t.svg.empty()) {
    if (!globals.json) {  // in a table cell a label's DOT line break is a space
      for (v1::TraceNode& node : *trace.mutable_nodes()) {
        for (size_t at; (at = node.label().find("\\n")) != std::string::npos;) {
          node.mutable_label()->replace(at, 2, " ");
        }
      }
    }
    Print(globals, trace);
    return Status::Ok();
  }
  const std::string dot = JoinDot(dots);
  if (t.dot) std::cout << dot;
  return t.svg.empty() ? Status::Ok() : WriteSvg(dot, t.svg);
}

void RegisterTrace(CLI::App* query, const pb::MethodDescriptor* method, Globals& globals,
                   Runner* selected) {
  auto q = std::make_shared<Query>();
  auto t = std::make_shared<TraceOptions>();
  CLI::App* command = AddQuery(query, method, QueryDocs().at(method->name()), globals, *q,
                               {"direction", "include_dot", "page_token"});
  command->add_flag("--upstream", t->upstream, "Only towards mines and imports");
  command->add_flag("--downstream", t->downstream, "Only towards products, holders and exports");
  command->add_flag("--dot", t->dot, "Print the graph as Graphviz DOT");
  command->add_option("--svg", t->svg, "Draw the graph into this SVG file (needs Graphviz `dot`)");
  OnRun(command, selected, [&globals, q, t] { return RunTrace(globals, *q, *t); });
}

// --- The chain of epochs, from genesis (proto/README.md "Epoch-change proofs") ------

// The node's epoch-change proofs from epoch 0 on, page after page, until it has given
// `wanted` of them or has no more; and the node's current epoch.
struct NodeProofs {
  std::vector<v1::EpochChangeProof> proofs;
  uint64_t current_epoch = 0;
};

Result<NodeProofs> FetchEpochProofs(const NodeOptions& node, uint64_t wanted) {
  const pb::MethodDescriptor* method = ApiService()->FindMethodByName("GetEpochProofs");
  REEL_ASSERT(method != nullptr);
  NodeProofs out;
  while (out.proofs.size() < wanted) {
    v1::GetEpochProofsRequest request;
    request.set_from_epoch(out.proofs.size());
    v1::GetEpochProofsResponse page;
    REEL_RETURN_IF_ERROR(CallUnary(node, method, request, &page));
    out.current_epoch = page.current_epoch();
    for (const v1::EpochChangeProof& proof : page.proofs()) out.proofs.push_back(proof);
    if (page.proofs_size() == 0 || page.complete()) break;
  }
  return out;
}

// Epoch `epoch` as genesis and the node's proofs prove it: its keys and root, and the
// height of its last block when it has ended (its proof names it). FailedPrecondition
// when the node does not give the proofs up to it, or they do not verify from genesis.
struct ProvedEpoch {
  replica::EpochState state;
  std::optional<uint64_t> end_height;
};

Result<ProvedEpoch> ProveEpoch(const NodeOptions& node, const v1::Genesis& genesis,
                               uint64_t epoch) {
  Result<NodeProofs> fetched = FetchEpochProofs(node, epoch + 1);
  if (!fetched.ok()) return fetched.status();
  std::vector<v1::EpochChangeProof>& proofs = fetched->proofs;
  if (proofs.size() < epoch) {
    return Status::FailedPrecondition(
        "cannot prove the validators of epoch " + std::to_string(epoch) +
        ": the node gave the epoch-change proofs of " + std::to_string(proofs.size()) +
        " epoch(s) from genesis (it may not hold the next one yet: ask again, or another node)");
  }
  ProvedEpoch out;
  if (proofs.size() > epoch) out.end_height = proofs[epoch].header().height();
  std::vector<v1::EpochChangeProof> before(proofs.begin(), proofs.begin() + epoch);
  Result<replica::EpochState> state = replica::VerifyEpochChain(genesis, before);
  if (!state.ok()) {
    return Status::FailedPrecondition(
        "the node's chain of epoch-change proofs does not verify "
        "from genesis: " +
        state.status().message());
  }
  out.state = std::move(state).value();
  if (out.end_height) {
    // Its end too, so that a block above it (which the old set may have certified, but
    // no honest node committed) is not taken for one of the epoch.
    Result<v1::ValidatorSet> next =
        replica::VerifyEpochChangeProof(out.state.Context(genesis.chain_id()), proofs[epoch]);
    if (!next.ok()) {
      return Status::FailedPrecondition("the node's proof of the end of epoch " +
                                        std::to_string(epoch) +
                                        " does not verify: " + next.status().message());
    }
  }
  return out;
}

// --- reel query transaction: the answer, and its proof checked from genesis --------

// Checks the answer's proof (proto/README.md step 10) with the keys of the epoch of its
// block, which genesis and the node's epoch-change proofs prove, and says who signed, or
// why the proof does not hold.
Result<replica::ProvedTransaction> CheckProof(const NodeOptions& node,
                                              const v1::GetTransactionResponse& answer,
                                              const std::string& genesis_file) {
  Result<v1::Genesis> genesis = config::LoadGenesis(genesis_file);
  if (!genesis.ok()) return genesis.status();
  const uint64_t epoch = answer.header().epoch();
  const uint64_t height = answer.header().height();
  Result<ProvedEpoch> proved = ProveEpoch(node, *genesis, epoch);
  if (!proved.ok()) return proved.status();
  if (height <= proved->state.root_height || (proved->end_height && height > *proved->end_height)) {
    return Status::FailedPrecondition("block " + std::to_string(height) +
                                      " is not in the heights of epoch " + std::to_string(epoch));
  }
  return replica::VerifyTransactionProof(answer, proved->state.Context(genesis->chain_id()));
}

nlohmann::json ProofJson(const Result<replica::ProvedTransaction>& proved) {
  nlohmann::json j;
  j["verified"] = proved.ok();
  if (!proved.ok()) {
    j["error"] = proved.status().message();
    return j;
  }
  j["block_id"] = crypto::HashToHex(proved->block_id);
  j["height"] = proved->height;
  j["tx_index"] = proved->tx_index;
  j["signers"] = nlohmann::json::array();
  for (const crypto::PublicKey& key : proved->signers) {
    j["signers"].push_back(ToHex(crypto::AsBytes(key)));
  }
  return j;
}

void RegisterTransaction(CLI::App* query, const pb::MethodDescriptor* method, Globals& globals,
                         Runner* selected) {
  auto q = std::make_shared<Query>();
  auto genesis_file = std::make_shared<std::string>();
  CLI::App* command = AddQuery(query, method, QueryDocs().at(method->name()), globals, *q, {});
  command->add_option("--genesis", *genesis_file,
                      "Check the answer's proof (signatures, Merkle path, commit proof) with "
                      "the validator keys of this genesis.json, trusting the node for nothing");
  OnRun(command, selected, [&globals, q, genesis_file]() -> Status {
    v1::GetTransactionRequest request;
    REEL_RETURN_IF_ERROR(q->flags->Apply(&request));
    Result<std::unique_ptr<pb::Message>> response = Call(*q, request);
    if (!response.ok()) return response.status();
    const auto& answer = static_cast<const v1::GetTransactionResponse&>(**response);
    if (genesis_file->empty()) {
      Print(globals, answer);
      return Status::Ok();
    }
    const Result<replica::ProvedTransaction> proved = CheckProof(q->node, answer, *genesis_file);
    if (globals.json) {
      nlohmann::json out;
      out["answer"] = nlohmann::json::parse(ToJson(answer));
      out["proof"] = ProofJson(proved);
      std::cout << out.dump(2) << "\n";
    } else {
      PrintReadable(answer);
      if (proved.ok()) {
        std::cout << "\nproof: verified from " << *genesis_file << " through epoch "
                  << answer.header().epoch() << ": committed at height " << proved->height
                  << " (block " << crypto::HashToHex(proved->block_id) << "), index "
                  << proved->tx_index << ", signed by";
        for (const crypto::PublicKey& key : proved->signers) {
          std::cout << " " << ToHex(crypto::AsBytes(key));
        }
        std::cout << "\n";
      }
    }
    if (!proved.ok()) {
      // A proof that does not hold is not an answer: the node is faulty or lying.
      return Status::FailedPrecondition("the node's proof does not hold: " +
                                        proved.status().message());
    }
    return Status::Ok();
  });
}

// --- reel query epochs: the proofs, or with --genesis the sets they prove ----------

void PrintEpoch(uint64_t epoch, const v1::ValidatorSet& set) {
  std::cout << "epoch " << epoch << ": from height " << set.start_height() << ", "
            << set.validators_size() << " validators:";
  for (const v1::Validator& v : set.validators()) std::cout << " " << v.name();
  std::cout << "\n";
}

Status RunEpochs(const Globals& globals, const Query& q, const std::string& genesis_file) {
  Result<v1::Genesis> genesis = config::LoadGenesis(genesis_file);
  if (!genesis.ok()) return genesis.status();
  Result<NodeProofs> fetched = FetchEpochProofs(q.node, std::numeric_limits<uint64_t>::max());
  if (!fetched.ok()) return fetched.status();
  const std::vector<v1::EpochChangeProof>& proofs = fetched->proofs;
  Result<replica::EpochState> reached = replica::VerifyEpochChain(*genesis, proofs);
  if (!reached.ok()) {
    return Status::FailedPrecondition(
        "the node's chain of epoch-change proofs does not verify "
        "from genesis: " +
        reached.status().message());
  }
  const bool current = reached->epoch == fetched->current_epoch;
  Result<replica::EpochState> first = replica::VerifyEpochChain(*genesis, {});
  if (!first.ok()) return first.status();
  if (globals.json) {
    nlohmann::json out;
    out["verified_from_genesis"] = true;
    out["current_epoch"] = fetched->current_epoch;
    out["reached_epoch"] = reached->epoch;
    out["epochs"] = nlohmann::json::array();
    for (uint64_t e = 0; e <= reached->epoch; ++e) {
      const v1::ValidatorSet& set = e == 0 ? first->set : proofs[e - 1].next();
      nlohmann::json j;
      j["epoch"] = e;
      j["start_height"] = set.start_height();
      j["validators"] = nlohmann::json::array();
      for (const v1::Validator& v : set.validators()) j["validators"].push_back(v.name());
      out["epochs"].push_back(j);
    }
    std::cout << out.dump(2) << "\n";
  } else {
    PrintEpoch(0, first->set);
    for (const v1::EpochChangeProof& proof : proofs) PrintEpoch(proof.epoch() + 1, proof.next());
    std::cout << "verified from genesis: " << proofs.size() << " epoch-change proof(s), epoch "
              << reached->epoch << (current ? " is the node's current epoch" : "") << "\n";
  }
  if (!current) {
    return Status::FailedPrecondition(
        "the node is in epoch " + std::to_string(fetched->current_epoch) +
        " but gave the proofs up to epoch " + std::to_string(reached->epoch) +
        " only (it may not hold the next one yet: ask again, or another node)");
  }
  return Status::Ok();
}

void RegisterEpochs(CLI::App* query, const pb::MethodDescriptor* method, Globals& globals,
                    Runner* selected) {
  auto q = std::make_shared<Query>();
  auto genesis_file = std::make_shared<std::string>();
  CLI::App* command = AddQuery(query, method, QueryDocs().at(method->name()), globals, *q, {});
  command->add_option("--genesis", *genesis_file,
                      "Walk every proof from this genesis.json and print each epoch's "
                      "validators, trusting the node for nothing");
  OnRun(command, selected, [&globals, q, genesis_file]() -> Status {
    if (!genesis_file->empty()) return RunEpochs(globals, *q, *genesis_file);
    v1::GetEpochProofsRequest request;
    REEL_RETURN_IF_ERROR(q->flags->Apply(&request));
    Result<std::unique_ptr<pb::Message>> response = Call(*q, request);
    if (!response.ok()) return response.status();
    Print(globals, **response);
    return Status::Ok();
  });
}

// --- every other query, and the generic one ------------------------------------

void RegisterNamed(CLI::App* query, const pb::MethodDescriptor* method, Globals& globals,
                   Runner* selected) {
  auto q = std::make_shared<Query>();
  CLI::App* command = AddQuery(query, method, QueryDocs().at(method->name()), globals, *q, {});
  OnRun(command, selected, [&globals, q] {
    std::unique_ptr<pb::Message> request = New(q->method->input_type());
    REEL_RETURN_IF_ERROR(q->flags->Apply(request.get()));
    Result<std::unique_ptr<pb::Message>> response = Call(*q, *request);
    if (!response.ok()) return response.status();
    Print(globals, **response);
    return Status::Ok();
  });
}

struct GenericOptions {
  NodeOptions node;
  std::string method;
  std::string request = "{}";
};

Status RunGeneric(const GenericOptions& o) {
  const pb::ServiceDescriptor* service = ApiService();
  const pb::MethodDescriptor* method = service->FindMethodByName(o.method);
  if (method == nullptr || method->server_streaming() || method->client_streaming()) {
    std::string names;
    for (int i = 0; i < service->method_count(); ++i) {
      if (!service->method(i)->server_streaming()) names += " " + service->method(i)->name();
    }
    return Status::InvalidArgument("no query '" + o.method + "'; the queries are:" + names +
                                   " (or see reel query --help for the named commands)");
  }
  std::unique_ptr<pb::Message> request = New(method->input_type());
  Result<std::string> json = Inline(o.request);
  if (!json.ok()) return json.status();
  REEL_RETURN_IF_ERROR(ParseJson(*json, request.get(), "--request"));
  std::unique_ptr<pb::Message> response = New(method->output_type());
  REEL_RETURN_IF_ERROR(CallUnary(o.node, method, *request, response.get()));
  // A trace with DOT attached prints the graph itself, for `| dot -Tsvg`.
  const auto* trace = dynamic_cast<const v1::TraceLotResponse*>(response.get());
  if (trace != nullptr && !trace->dot().empty()) {
    std::cout << trace->dot();
    return Status::Ok();
  }
  std::cout << ToJson(*response) << "\n";
  return Status::Ok();
}

}  // namespace

void RegisterQuery(CLI::App& app, Globals& globals, Runner* selected) {
  CLI::App* query =
      app.add_subcommand("query",
                         "Ask a node: reel query NAME --flags (tables, or --json), or "
                         "reel query METHOD --request JSON for any reel.v1.Api method");
  auto generic = std::make_shared<GenericOptions>();
  query->add_option("method", generic->method,
                    "Method name of reel.v1.Api (GetLot, TraceLot, ...)");
  query->add_option("--request", generic->request, "Request as JSON, or @file")
      ->capture_default_str();
  AddNodeFlag(query, generic->node);
  const pb::ServiceDescriptor* service = ApiService();
  for (int i = 0; i < service->method_count(); ++i) {
    const pb::MethodDescriptor* method = service->method(i);
    if (QueryDocs().count(method->name()) == 0) continue;  // status, submit, streams
    if (method->name() == "TraceLot") {
      RegisterTrace(query, method, globals, selected);
    } else if (method->name() == "GetEpochProofs") {
      RegisterEpochs(query, method, globals, selected);
    } else if (method->name() == "GetTransaction") {
      RegisterTransaction(query, method, globals, selected);
    } else {
      RegisterNamed(query, method, globals, selected);
    }
  }
  OnRunAlone(query, selected, [generic] {
    if (generic->method.empty()) {
      return Status::InvalidArgument(
          "name a query: reel query lot --id LOT, ... (see reel query --help)");
    }
    return RunGeneric(*generic);
  });
}

}  // namespace reel::cli
