// PeerSet: who the validators are, as the transport needs to know them, taken from
// genesis: each validator's name, peer address and TLS certificate fingerprint, and the
// chain's CA.
//
// It is how the transport decides membership: a TLS connection proves only that a
// certificate was signed by the CA; IndexOfCert says which validator, if any, genesis
// names for that certificate. Immutable once built, so every method is safe to call from
// any thread at once (gRPC handler threads read it concurrently).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "reel/v1/genesis.pb.h"

namespace reel::net {

struct PeerInfo {
  uint32_t index = 0;       // position in Genesis.validators
  std::string name;         // also the TLS name its certificate is checked against
  std::string address;      // host:port of its peer service
  std::string cert_sha256;  // 32 raw bytes: SHA-256 of its certificate's DER
};

class PeerSet {
 public:
  // Checks what the transport relies on: 1..validators_max validators, each with a
  // unique name that is a valid TLS name, a certificate by PEM or SHA-256 (both must
  // agree when both are given), no certificate named twice, and a CA that parses.
  static Result<PeerSet> FromGenesis(const reel::v1::Genesis& genesis);

  size_t size() const { return peers_.size(); }
  const PeerInfo& peer(uint32_t index) const;  // index < size()
  const std::vector<PeerInfo>& peers() const { return peers_; }
  const std::string& ca_pem() const { return ca_pem_; }

  // The validator whose genesis certificate is `cert_pem` (compared by SHA-256 of DER),
  // or nullopt for any other certificate, and for text that is not a certificate.
  std::optional<uint32_t> IndexOfCert(std::string_view cert_pem) const;
  std::optional<uint32_t> IndexOfCertSha256(std::string_view sha256) const;

 private:
  std::vector<PeerInfo> peers_;
  std::string ca_pem_;
};

}  // namespace reel::net
