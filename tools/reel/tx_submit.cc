#include "tools/reel/tx_submit.h"

#include <sodium.h>

#include <filesystem>
#include <iostream>

#include "crypto/keyfile.h"
#include "crypto/signing.h"
#include "reel/v1/api.grpc.pb.h"

namespace reel::cli {
namespace {

constexpr auto kSubmitDeadline = std::chrono::seconds(60);

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

}  // namespace

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

Result<std::optional<v1::SubmitTransactionResponse>> SignAndSubmit(const SignOptions& o,
                                                                   v1::TxBody body) {
  if (body.action_case() == v1::TxBody::ACTION_NOT_SET) {
    return Status::InvalidArgument("--body names no action (register_org, extract, ...)");
  }
  if (o.keys.empty()) return Status::InvalidArgument("give at least one --key to sign with");
  REEL_RETURN_IF_ERROR(FillEnvelope(o, body));
  if (o.dry_run) {
    std::cout << ToJson(body) << "\n";
    return std::optional<v1::SubmitTransactionResponse>();
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
  return std::optional<v1::SubmitTransactionResponse>(std::move(response));
}

Status RefusalOf(const v1::SubmitTransactionResponse& response) {
  if (response.status() != v1::TX_STATUS_REJECTED &&
      (response.status() != v1::TX_STATUS_COMMITTED || response.result().code() == v1::OK)) {
    return Status::Ok();
  }
  // Rule messages may already start with their code; say it once.
  const std::string code = v1::ErrorCode_Name(response.result().code());
  const std::string& message = response.result().message();
  return Status::FailedPrecondition(
      "transaction refused: " + (message.rfind(code, 0) == 0 ? message : code + ": " + message));
}

}  // namespace reel::cli
