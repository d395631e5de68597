// reel tx: sign a transaction with one or more key files (the organisation's quorum),
// submit it to a node, wait for its commit and print the result.
//
// `reel tx ACTION --flags` has one subcommand per transaction kind, with its help from the
// ledger's table of kinds (node/ledger/tx_kinds.h) and flags made from the action's fields
// (proto_flags.h);
// `reel tx --body JSON|@file` takes the whole body as proto3 JSON of reel.v1.TxBody.
// Either way the chain id is asked from the node unless given, and the nonce is random.
#include <sodium.h>

#include <filesystem>
#include <iostream>
#include <set>
#include <sstream>

#include "base/assert.h"
#include "base/bytes.h"
#include "crypto/keyfile.h"
#include "crypto/signing.h"
#include "node/ledger/tx_kinds.h"
#include "reel/v1/api.grpc.pb.h"
#include "tools/reel/cli.h"
#include "tools/reel/proto_flags.h"
#include "tools/reel/proto_print.h"
#include "tools/reel/rpc.h"

namespace reel::cli {
namespace {

namespace pb = google::protobuf;

constexpr auto kSubmitDeadline = std::chrono::seconds(60);

// `reel tx --help` line of a kind: its summary, after its role when it needs one.
std::string HelpLine(const ledger::TxKindEntry& kind) {
  const std::string summary(kind.cli.summary);
  if (kind.signer.rule != ledger::SignerRole::Rule::kRole) return summary;
  return EnumShortName(v1::Role_descriptor()->FindValueByNumber(kind.signer.role)) + ": " + summary;
}

struct SignOptions {
  NodeOptions node;
  std::vector<std::string> keys;
  std::string signer;
  std::string chain_id;
  uint64_t expiry_height = 0;
  std::string passphrase_file;
  std::string passphrase_env;
  bool wait = true;
  bool dry_run = false;
};

void AddSignFlags(CLI::App* command, SignOptions& o, Globals& globals, bool keys_required) {
  AddNodeFlag(command, o.node);
  CLI::Option* key =
      command->add_option("--key", o.keys, "Key file to sign with (repeat for a quorum)");
  if (keys_required) key->required();
  command->add_option("--signer", o.signer,
                      "Signing organisation (default: the first --key file's name without .key)");
  command->add_option("--chain-id", o.chain_id, "Chain id (default: asked from the node)");
  command->add_option("--expiry-height", o.expiry_height,
                      "Not valid above this height (0 = never)");
  command->add_option("--passphrase-file", o.passphrase_file, "Passphrase of encrypted key files");
  command->add_option("--passphrase-env", o.passphrase_env, "Environment variable holding it");
  command->add_flag("!--no-wait", o.wait, "Return once admitted instead of when committed");
  command->add_flag("--json", globals.json, "Print the node's answer as JSON");
  command->add_flag("--dry-run", o.dry_run, "Print the body as JSON; sign and submit nothing");
}

Status FillEnvelope(const SignOptions& o, v1::TxBody& body) {
  if (body.org_id().empty()) body.set_org_id(o.signer);
  if (body.org_id().empty() && !o.keys.empty()) {
    body.set_org_id(std::filesystem::path(o.keys.front()).stem().string());
  }
  if (body.org_id().empty())
    return Status::InvalidArgument("give --signer: the signing organisation");
  if (o.expiry_height != 0) body.set_expiry_height(o.expiry_height);
  if (body.chain_id().empty()) body.set_chain_id(o.chain_id);
  if (body.chain_id().empty()) {
    Result<v1::GetStatusResponse> status = FetchStatus(o.node);
    if (!status.ok()) return status.status();
    body.set_chain_id(status->chain_id());
  }
  if (!crypto::IsValidChainId(body.chain_id())) return Status::InvalidArgument("bad chain id");
  if (body.nonce() == 0)
    body.set_nonce(randombytes_random() | (uint64_t{randombytes_random()} << 32));
  return Status::Ok();
}

Result<v1::Transaction> Sign(const SignOptions& o, const v1::TxBody& body) {
  Result<std::optional<std::string>> passphrase =
      ReadPassphrase(o.passphrase_file, o.passphrase_env);
  if (!passphrase.ok()) return passphrase.status();
  v1::Transaction tx;
  tx.set_body(body.SerializeAsString());
  const crypto::Hash32 id = crypto::TransactionId(body.chain_id(), tx.body());
  for (const std::string& path : o.keys) {
    Result<crypto::KeyPair> key = crypto::ReadKeyFile(path, *passphrase);
    if (!key.ok()) return key.status();
    v1::Signature* s = tx.add_signatures();
    s->set_public_key(std::string(crypto::AsBytes(key->public_key())));
    s->set_signature(std::string(crypto::AsBytes(key->SignDigest(id))));
  }
  return tx;
}

void PrintResult(const Globals& globals, const v1::SubmitTransactionResponse& response) {
  if (globals.json) {
    std::cout << ToJson(response) << "\n";
    return;
  }
  std::vector<std::pair<std::string, std::string>> fields = {
      {"tx_id", ToHex(response.tx_id())},
      {"status", v1::TxStatus_Name(response.status())},
      {"height", std::to_string(response.height())},
      {"code", v1::ErrorCode_Name(response.result().code())},
      {"message", response.result().message()}};
  // What the ledger says besides the code: loss, restrictions, revocations, quota.
  const pb::Message& result = response.result();
  std::vector<const pb::FieldDescriptor*> set;
  result.GetReflection()->ListFields(result, &set);
  for (const pb::FieldDescriptor* field : set) {
    if (field->number() > 2) fields.emplace_back(field->name(), FormatField(result, field));
  }
  PrintRecord(globals, fields);
}

Status Submit(const Globals& globals, const SignOptions& o, v1::TxBody body) {
  if (body.action_case() == v1::TxBody::ACTION_NOT_SET) {
    return Status::InvalidArgument("--body names no action (register_org, extract, ...)");
  }
  if (o.keys.empty()) return Status::InvalidArgument("give at least one --key to sign with");
  REEL_RETURN_IF_ERROR(FillEnvelope(o, body));
  if (o.dry_run) {
    std::cout << ToJson(body) << "\n";
    return Status::Ok();
  }
  Result<v1::Transaction> tx = Sign(o, body);
  if (!tx.ok()) return tx.status();

  auto stub = v1::Api::NewStub(Channel(o.node));
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + kSubmitDeadline);
  v1::SubmitTransactionRequest request;
  *request.mutable_transaction() = *tx;
  request.set_wait_for_commit(o.wait);
  v1::SubmitTransactionResponse response;
  REEL_RETURN_IF_ERROR(
      FromGrpc(stub->SubmitTransaction(&context, request, &response), o.node.node));
  PrintResult(globals, response);

  const std::string code = v1::ErrorCode_Name(response.result().code());
  if (response.status() == v1::TX_STATUS_REJECTED ||
      (response.status() == v1::TX_STATUS_COMMITTED && response.result().code() != v1::OK)) {
    // Rule messages may already start with their code; say it once.
    const std::string& message = response.result().message();
    return Status::FailedPrecondition(
        "transaction refused: " + (message.rfind(code, 0) == 0 ? message : code + ": " + message));
  }
  return Status::Ok();
}

Status SubmitJson(const Globals& globals, const SignOptions& o, const std::string& body_text) {
  if (body_text.empty()) {
    return Status::InvalidArgument(
        "give an action (reel tx extract ...; see reel tx --help) or --body");
  }
  Result<std::string> json = Inline(body_text);
  if (!json.ok()) return json.status();
  v1::TxBody body;
  REEL_RETURN_IF_ERROR(ParseJson(*json, &body, "--body"));
  return Submit(globals, o, std::move(body));
}

// `reel tx ACTION`: flags from the action message, the envelope from SignOptions.
void RegisterAction(CLI::App* tx, const ledger::TxKindEntry& kind, Globals& globals,
                    Runner* selected) {
  const pb::FieldDescriptor* action = v1::TxBody::descriptor()->FindFieldByNumber(kind.action);
  REEL_ASSERT(action != nullptr);  // the table's cases are TxBody's (tx_kinds_test)
  CLI::App* command = tx->add_subcommand(Kebab(action->name()), HelpLine(kind));
  if (!kind.cli.alias.empty()) command->alias(std::string(kind.cli.alias));
  auto sign = std::make_shared<SignOptions>();
  AddSignFlags(command, *sign, globals, true);
  auto flags =
      std::make_shared<MessageFlags>(command, action->message_type(),
                                     FlagSpec{FieldNames(std::string(kind.cli.required)), {}, {}});
  OnRun(command, selected, [&globals, sign, flags, action] {
    v1::TxBody body;
    REEL_RETURN_IF_ERROR(flags->Apply(body.GetReflection()->MutableMessage(&body, action)));
    return Submit(globals, *sign, std::move(body));
  });
}

}  // namespace

void RegisterTx(CLI::App& app, Globals& globals, Runner* selected) {
  CLI::App* tx = app.add_subcommand(
      "tx",
      "Sign a transaction with --key files and submit it: reel tx ACTION --flags, or "
      "reel tx --body JSON (reel.v1.TxBody)");
  auto sign = std::make_shared<SignOptions>();
  auto body = std::make_shared<std::string>();
  AddSignFlags(tx, *sign, globals, false);
  tx->add_option("--body", *body, "The whole TxBody as proto3 JSON, or @file");
  for (const ledger::TxKindEntry& kind : ledger::TxKinds()) {
    RegisterAction(tx, kind, globals, selected);
  }
  OnRunAlone(tx, selected, [&globals, sign, body] { return SubmitJson(globals, *sign, *body); });
}

}  // namespace reel::cli
