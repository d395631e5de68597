#include "node/net/peer_set.h"

#include <set>

#include "base/limits.h"
#include "node/net/tls.h"

namespace reel::net {
namespace {

Result<std::string> ValidatorCertSha256(const reel::v1::Validator& validator) {
  const std::string& named = validator.tls_cert_sha256();
  if (!named.empty() && named.size() != 32) {
    return Status::InvalidArgument("validator " + validator.name() +
                                   ": tls_cert_sha256 must be 32 bytes");
  }
  if (validator.tls_cert_pem().empty()) {
    if (named.empty()) {
      return Status::InvalidArgument("validator " + validator.name() +
                                     ": needs tls_cert_pem or tls_cert_sha256");
    }
    return named;
  }
  auto computed = CertSha256(validator.tls_cert_pem());
  if (!computed.ok()) {
    return Status::InvalidArgument("validator " + validator.name() +
                                   ": tls_cert_pem: " + computed.status().message());
  }
  if (!named.empty() && named != *computed) {
    return Status::InvalidArgument("validator " + validator.name() +
                                   ": tls_cert_sha256 does not match tls_cert_pem");
  }
  return computed;
}

// Validator `index`, checked as the transport needs it; `names` and `fingerprints` hold
// those of the validators before it.
Result<PeerInfo> CheckedPeer(uint32_t index, const reel::v1::Validator& validator,
                             std::set<std::string>& names, std::set<std::string>& fingerprints) {
  if (!IsDnsName(validator.name(), 64)) {
    return Status::InvalidArgument("validator " + std::to_string(index) +
                                   ": name must be 1..64 bytes of [A-Za-z0-9.-]");
  }
  if (!names.insert(validator.name()).second) {
    return Status::InvalidArgument("validator name twice: " + validator.name());
  }
  auto sha256 = ValidatorCertSha256(validator);
  if (!sha256.ok()) return sha256.status();
  if (!fingerprints.insert(*sha256).second) {
    return Status::InvalidArgument("validator " + validator.name() +
                                   ": certificate already named by another validator");
  }
  return PeerInfo{index, validator.name(), validator.address(), *std::move(sha256), true};
}

}  // namespace

Result<PeerSet> PeerSet::FromGenesis(const reel::v1::Genesis& genesis) {
  const int count = genesis.validators_size();
  if (count == 0 || static_cast<size_t>(count) > limits::validators_max) {
    return Status::InvalidArgument("genesis must name 1.." +
                                   std::to_string(limits::validators_max) + " validators");
  }
  if (genesis.tls_ca_pem().empty() || !CertSha256(genesis.tls_ca_pem()).ok()) {
    return Status::InvalidArgument("genesis tls_ca_pem is missing or not a PEM certificate");
  }
  PeerSet set;
  set.ca_pem_ = genesis.tls_ca_pem();
  std::set<std::string> names;
  std::set<std::string> fingerprints;
  for (int i = 0; i < count; ++i) {
    Result<PeerInfo> peer =
        CheckedPeer(static_cast<uint32_t>(i), genesis.validators(i), names, fingerprints);
    if (!peer.ok()) return peer.status();
    set.peers_.push_back(std::move(peer).value());
  }
  return set;
}

Result<PeerSet> PeerSet::FromValidatorSet(const reel::v1::ValidatorSet& validators,
                                          std::string ca_pem,
                                          std::vector<std::string>* unreachable) {
  const int count = validators.validators_size();
  if (count == 0 || static_cast<size_t>(count) > limits::validators_max) {
    return Status::InvalidArgument("a validator set has 1.." +
                                   std::to_string(limits::validators_max) + " validators");
  }
  if (ca_pem.empty() || !CertSha256(ca_pem).ok()) {
    return Status::InvalidArgument("the chain's tls_ca_pem is missing or not a PEM certificate");
  }
  PeerSet set;
  set.ca_pem_ = std::move(ca_pem);
  std::set<std::string> names;
  std::set<std::string> fingerprints;
  for (int i = 0; i < count; ++i) {
    const reel::v1::Validator& validator = validators.validators(i);
    Result<PeerInfo> peer = CheckedPeer(static_cast<uint32_t>(i), validator, names, fingerprints);
    if (peer.ok()) {
      set.peers_.push_back(std::move(peer).value());
      continue;
    }
    if (unreachable != nullptr) unreachable->push_back(peer.status().message());
    PeerInfo kept;
    kept.index = static_cast<uint32_t>(i);
    kept.name = validator.name();
    kept.address = validator.address();
    kept.reachable = false;
    set.peers_.push_back(std::move(kept));
  }
  return set;
}

const PeerInfo& PeerSet::peer(uint32_t index) const {
  REEL_ASSERT(index < peers_.size());
  return peers_[index];
}

std::optional<uint32_t> PeerSet::IndexOfCert(std::string_view cert_pem) const {
  auto sha256 = CertSha256(cert_pem);
  if (!sha256.ok()) return std::nullopt;
  return IndexOfCertSha256(*sha256);
}

std::optional<uint32_t> PeerSet::IndexOfCertSha256(std::string_view sha256) const {
  // A linear scan: at most validators_max entries of 32 bytes, once per call or stream.
  for (const PeerInfo& peer : peers_) {
    if (peer.reachable && peer.cert_sha256 == sha256) return peer.index;
  }
  return std::nullopt;
}

Membership::Membership(std::shared_ptr<const PeerSet> initial) : current_(std::move(initial)) {
  REEL_ASSERT(current_ != nullptr);
}

void Membership::Set(std::shared_ptr<const PeerSet> next) {
  REEL_ASSERT(next != nullptr);
  MutexLock lock(&mu_);
  current_ = std::move(next);
  generation_.fetch_add(1, std::memory_order_release);
}

std::shared_ptr<const PeerSet> Membership::current() const {
  MutexLock lock(&mu_);
  return current_;
}

}  // namespace reel::net
