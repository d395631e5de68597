// reel tx: sign a transaction with one or more key files (the organisation's quorum),
// submit it to a node, wait for its commit and print the result.
//
// `reel tx ACTION --flags` has one subcommand per transaction kind, with its help from the
// ledger's table of kinds (node/ledger/tx_kinds.h) and flags made from the action's fields
// (proto_flags.h);
// `reel tx --body JSON|@file` takes the whole body as proto3 JSON of reel.v1.TxBody.
// Either way the chain id is asked from the node unless given, and the nonce is random.
#include <iostream>
#include <set>
#include <sstream>

#include "base/assert.h"
#include "base/bytes.h"
#include "node/ledger/tx_kinds.h"
#include "reel/v1/api.grpc.pb.h"
#include "tools/reel/cli.h"
#include "tools/reel/proto_flags.h"
#include "tools/reel/proto_print.h"
#include "tools/reel/rpc.h"
#include "tools/reel/tx_submit.h"

namespace reel::cli {
namespace {

namespace pb = google::protobuf;

// `reel tx --help` line of a kind: its summary, after its role when it needs one.
std::string HelpLine(const ledger::TxKindEntry& kind) {
  const std::string summary(kind.cli.summary);
  if (kind.signer.rule != ledger::SignerRole::Rule::kRole) return summary;
  return EnumShortName(v1::Role_descriptor()->FindValueByNumber(kind.signer.role)) + ": " + summary;
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
  Result<std::optional<v1::SubmitTransactionResponse>> response = SignAndSubmit(o, std::move(body));
  if (!response.ok()) return response.status();
  if (!response->has_value()) return Status::Ok();  // --dry-run printed the body
  PrintResult(globals, **response);
  return RefusalOf(**response);
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
