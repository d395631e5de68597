// genesis.json: loading and checking the chain's genesis (reel.v1.Genesis).
//
// What it promises
//   - The file is the proto3 JSON mapping of reel.v1.Genesis (proto/README.md, "Genesis
//     file"), parsed strictly: an unknown field is an error, not a silently missing
//     setting. The file is bounded by limits::daemon_genesis_file_bytes_max.
//   - ValidateGenesis checks what every node must agree on before block 1 and what the
//     daemon needs to run: chain id 1..64 bytes, 1..validators_max validators with
//     unique names and 32-byte keys, a host:port address and a TLS certificate each; at
//     least one organisation, one of them with ROLE_REGULATOR; a PEM tls_ca_pem if set;
//     well-formed org, site and quota entries; a governance, if given, naming distinct
//     genesis orgs and at most as many approvals as it names; consensus parameters within
//     base/limits.h. Each message names the file and the field path, e.g.
//       /home/n1/config/genesis.json: validators[2].public_key: expected 32 bytes, got 31
//   - It does not apply the custody rules to orgs, sites and quotas (the ledger does,
//     when it applies genesis); it checks what would make that impossible.
//
// Errors are InvalidArgument (NotFound/IoError for the file itself); nothing throws.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "base/status.h"
#include "crypto/keys.h"
#include "reel/v1/genesis.pb.h"

namespace reel::config {

// Parses proto3 JSON text; `source` names the file in messages. Does not validate.
Result<reel::v1::Genesis> ParseGenesisJson(std::string_view json, std::string_view source);
// Checks the meaning of a parsed genesis (see above).
Status ValidateGenesis(const reel::v1::Genesis& genesis, std::string_view source);
// The same checks of a genesis still being assembled (`reel genesis new`, `add-validator`,
// `add-org`): it may have no validators, no organisations and no regulator yet, but every
// entry it has must already be right, so that a mistake is named when it is made.
Status ValidateGenesisDraft(const reel::v1::Genesis& genesis, std::string_view source);
// Reads, parses and validates the file at `path`.
Result<reel::v1::Genesis> LoadGenesis(const std::string& path);

// The position of `key` in genesis.validators, if it is a validator of epoch 0.
std::optional<size_t> FindValidator(const reel::v1::Genesis& genesis, const crypto::PublicKey& key);

}  // namespace reel::config
