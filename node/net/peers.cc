#include "node/net/peers.h"

namespace reel::net {

Result<std::unique_ptr<Peers>> Peers::Create(std::shared_ptr<const PeerSet> peers,
                                             uint32_t self_index, const CertAndKey& own,
                                             PeerClientOptions options) {
  REEL_ASSERT(peers != nullptr);
  REEL_RETURN_IF_ERROR(CheckCertAndKey(own));
  if (self_index >= peers->size() || peers->IndexOfCert(own.cert_pem) != self_index) {
    return Status::FailedPrecondition(
        "this node's TLS certificate is not the one genesis names "
        "for validator " +
        std::to_string(self_index));
  }
  return std::unique_ptr<Peers>(new Peers(std::move(peers), self_index, own, options));
}

Result<std::unique_ptr<Peers>> Peers::CreateObserver(std::shared_ptr<const PeerSet> peers,
                                                     const CertAndKey& own,
                                                     PeerClientOptions options) {
  REEL_ASSERT(peers != nullptr);
  REEL_RETURN_IF_ERROR(CheckCertAndKey(own));
  if (const std::optional<uint32_t> index = peers->IndexOfCert(own.cert_pem)) {
    return Status::FailedPrecondition("this node's TLS certificate is validator " +
                                      std::to_string(*index) +
                                      "'s in genesis: an observer needs a certificate of its own");
  }
  const auto none = static_cast<uint32_t>(peers->size());
  return std::unique_ptr<Peers>(new Peers(std::move(peers), none, own, options));
}

Peers::Peers(std::shared_ptr<const PeerSet> peers, uint32_t self_index, const CertAndKey& own,
             PeerClientOptions options)
    : peers_(std::move(peers)), self_index_(self_index) {
  REEL_ASSERT(peers_ != nullptr && self_index_ <= peers_->size());
  clients_.resize(peers_->size());
  for (const PeerInfo& peer : peers_->peers()) {
    if (peer.index == self_index_) continue;
    clients_[peer.index] = std::make_unique<PeerClient>(peer, peers_->ca_pem(), own, options);
  }
}

Peers::~Peers() = default;

PeerClient& Peers::client(uint32_t index) const {
  REEL_ASSERT(index < clients_.size() && clients_[index] != nullptr);
  return *clients_[index];
}

void Peers::Send(uint32_t to_index, reel::v1::ConsensusMessage message) {
  REEL_ASSERT(!observer());
  message.set_sender_index(self_index_);
  client(to_index).Send(std::make_shared<const reel::v1::ConsensusMessage>(std::move(message)));
}

void Peers::Broadcast(reel::v1::ConsensusMessage message) {
  REEL_ASSERT(!observer());
  message.set_sender_index(self_index_);
  auto shared = std::make_shared<const reel::v1::ConsensusMessage>(std::move(message));
  for (const auto& peer_client : clients_) {
    if (peer_client != nullptr) peer_client->Send(shared);
  }
}

Result<reel::v1::GossipTxsResponse> Peers::GossipTxs(uint32_t to_index,
                                                     const reel::v1::GossipTxsRequest& request) {
  return client(to_index).GossipTxs(request);
}

Result<reel::v1::GetBlocksResponse> Peers::GetBlocks(uint32_t from_index,
                                                     const reel::v1::GetBlocksRequest& request) {
  return client(from_index).GetBlocks(request);
}

Result<reel::v1::GetBlockByIdResponse> Peers::GetBlock(
    uint32_t from_index, const reel::v1::GetBlockByIdRequest& request) {
  return client(from_index).GetBlock(request);
}

Result<reel::v1::SyncInfo> Peers::GetSyncInfo(uint32_t from_index) {
  return client(from_index).GetSyncInfo();
}

PeerClientStats Peers::stats(uint32_t index) const {
  return client(index).stats();
}

std::string Peers::last_stream_error(uint32_t index) const {
  return client(index).last_stream_error();
}

}  // namespace reel::net
