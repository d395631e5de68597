// Signing and submitting a transaction: what `reel tx` and `reel validators` share. The
// envelope (signer, chain id, nonce, expiry) comes from SignOptions, the body from the
// command; the keys are key files, repeated to reach the signer's quorum.
//
// Errors: a Status naming the flag or file at fault; a node that cannot be reached or
// refuses the request is FromGrpc's (rpc.h). A transaction the ledger refuses is an
// answer (SubmitTransactionResponse), which RefusalOf turns into a Status.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "reel/v1/api.pb.h"
#include "tools/reel/cli.h"
#include "tools/reel/rpc.h"

namespace reel::cli {

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

// --node, --key, --signer, --chain-id, --expiry-height, --passphrase-file|env, --no-wait,
// --json and --dry-run.
void AddSignFlags(CLI::App* command, SignOptions& o, Globals& globals, bool keys_required);

// Fills the envelope, signs `body` with the key files and submits it, waiting for the
// commit unless --no-wait. With --dry-run prints the body as JSON and returns nullopt.
Result<std::optional<v1::SubmitTransactionResponse>> SignAndSubmit(const SignOptions& o,
                                                                   v1::TxBody body);

// FailedPrecondition "transaction refused: CODE: message" for an answer that is REJECTED
// or committed with a failure code; Ok otherwise.
Status RefusalOf(const v1::SubmitTransactionResponse& response);

}  // namespace reel::cli
