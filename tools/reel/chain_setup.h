// What the commands that make a chain's files share: `reel testnet init`, which makes all
// of them on one machine, and the operator commands, with which each member makes its
// own (`reel ca`, `reel node request`, `reel genesis new|add-validator|add-org`).
//
// Modes: private keys 0600 in folders made 0700; certificates, requests, public keys
// and genesis 0644, whatever the umask. Errors name the file; nothing throws.
#pragma once

#include <cstdint>
#include <string>

#include "base/status.h"
#include "crypto/keys.h"
#include "node/net/tls.h"
#include "reel/v1/genesis.pb.h"

namespace reel::cli {

uint64_t NowMs();

// The 32 bytes of a public key, as a bytes field of reel.v1 holds them.
std::string RawKey(const crypto::PublicKey& key);

// A public key given on the command line (32 raw bytes): 64 hex digits; base64 (as
// proto3 JSON and `reel keys show` print it); the path of a reel key file (its public
// key, readable without the passphrase); or the path of a public key file, which holds
// the hex on one line (what `reel keys new` and `reel node request` write as *.pub).
Result<std::string> ReadPublicKey(const std::string& text);

// `status` with "<prefix>: " before its message, its code kept.
Status Prefixed(const std::string& prefix, const Status& status);

// A validator's name: `name`, or when empty the subject CN of its certificate; it must be
// one of the certificate's DNS names, since peers check a validator's certificate by its
// name (the TLS target name). `cert_file` names the certificate's file and `at` the
// field in errors (`genesis.json: validators[4]`, `--tls-cert`).
Result<std::string> ValidatorNameOf(const std::string& cert_pem, const std::string& name,
                                    const std::string& cert_file, const std::string& at);

// `<path>`: the hex of `key` and a newline, mode 0644.
Status WritePublicKeyFile(const std::string& path, const crypto::PublicKey& key);

// Makes `dir` and its parents; `dir` itself gets mode 0700 (it will hold secrets).
Status MakePrivateDir(const std::string& dir);

// A new CA in `dir`/ca.crt (0644) and `dir`/ca.key (0600); never replaces a ca.key.
Result<net::CertAndKey> MakeCaFiles(const std::string& dir, const std::string& name,
                                    uint32_t valid_days);

// A genesis with its chain id, time and CA and nothing else yet.
v1::Genesis NewGenesis(const std::string& chain_id, uint64_t time_ms, const std::string& ca_pem);

// Reads and parses a genesis.json (strict proto3 JSON) without judging its meaning.
Result<v1::Genesis> ReadGenesisFile(const std::string& path);
// Writes `genesis` as proto3 JSON with the proto field names, mode 0644, replacing
// the file at once (never half written).
Status WriteGenesisFile(const std::string& path, const v1::Genesis& genesis);

}  // namespace reel::cli
