// PeerSet: who the validators of one epoch are, as the transport needs to know them:
// each validator's name, peer address and TLS certificate fingerprint, in the epoch's
// order (a peer's index is its validator index in the epoch), and the chain's CA.
//
// It is how the transport decides membership: a TLS connection proves only that a
// certificate was signed by the CA; IndexOfCert says which validator, if any, the epoch
// names for that certificate. Immutable once built, so every method is safe to call from
// any thread at once (gRPC handler threads read it concurrently).
//
// Membership holds the current epoch's PeerSet: the node replaces it at each epoch
// (docs/DECISIONS.md, "Epochs"), and the peer server and clients read it per call.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/limits.h"
#include "base/mutex.h"
#include "base/status.h"
#include "reel/v1/genesis.pb.h"
#include "reel/v1/types.pb.h"

namespace reel::net {

struct PeerInfo {
  uint32_t index = 0;       // position in the epoch's validators
  std::string name;         // also the TLS name its certificate is checked against
  std::string address;      // host:port of its peer service
  std::string cert_sha256;  // 32 raw bytes: SHA-256 of its certificate's DER
  // False for a validator the transport cannot reach or authenticate (a name that is no
  // TLS name, a certificate that does not parse or that another validator has): it keeps
  // its index, so that indexes stay the epoch's, but it has no client and no call
  // authenticates as it.
  bool reachable = true;

  // The same peer to talk to: same name, address and certificate.
  bool SameEndpoint(const PeerInfo& other) const {
    return reachable && other.reachable && name == other.name && address == other.address &&
           cert_sha256 == other.cert_sha256;
  }
};

// Every observer (a CA-signed certificate that is no validator's) is counted under this
// one index, above any validator's; per-peer tables have kPeerSlots entries.
inline constexpr uint32_t kObserverIndex = static_cast<uint32_t>(limits::validators_max);
inline constexpr size_t kPeerSlots = limits::validators_max + 1;

class PeerSet {
 public:
  // Checks what the transport relies on: 1..validators_max validators, each with a
  // unique name that is a valid TLS name, a certificate by PEM or SHA-256 (both must
  // agree when both are given), no certificate named twice, and a CA that parses.
  static Result<PeerSet> FromGenesis(const reel::v1::Genesis& genesis);
  // An epoch's set (ValidatorSet from the committed state). The ledger admitted it, so
  // only the CA and the count can refuse it; a validator that fails the checks above is
  // kept unreachable (PeerInfo::reachable) and named in `unreachable`, if given, for logs.
  static Result<PeerSet> FromValidatorSet(const reel::v1::ValidatorSet& set, std::string ca_pem,
                                          std::vector<std::string>* unreachable = nullptr);

  size_t size() const { return peers_.size(); }
  const PeerInfo& peer(uint32_t index) const;  // index < size()
  const std::vector<PeerInfo>& peers() const { return peers_; }
  const std::string& ca_pem() const { return ca_pem_; }

  // The reachable validator whose certificate is `cert_pem` (compared by SHA-256 of DER),
  // or nullopt for any other certificate, and for text that is not a certificate.
  std::optional<uint32_t> IndexOfCert(std::string_view cert_pem) const;
  std::optional<uint32_t> IndexOfCertSha256(std::string_view sha256) const;

 private:
  std::vector<PeerInfo> peers_;
  std::string ca_pem_;
};

// The current epoch's PeerSet, replaced as a whole at each epoch. Readers take the
// snapshot they work with (one call, one stream message) and never see half a change;
// generation() grows with every Set, so that a long-lived stream knows when to look again.
// Thread-safe.
class Membership {
 public:
  explicit Membership(std::shared_ptr<const PeerSet> initial);
  void Set(std::shared_ptr<const PeerSet> next);
  std::shared_ptr<const PeerSet> current() const;
  uint64_t generation() const { return generation_.load(std::memory_order_acquire); }

 private:
  mutable Mutex mu_;
  std::shared_ptr<const PeerSet> current_ REEL_GUARDED_BY(mu_);
  std::atomic<uint64_t> generation_{0};
};

}  // namespace reel::net
