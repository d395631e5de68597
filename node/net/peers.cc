#include "node/net/peers.h"

namespace reel::net {
namespace {

Status NoSuchPeer(uint32_t index) {
  return Status::FailedPrecondition("no validator " + std::to_string(index) +
                                    " to call in this node's epoch");
}

}  // namespace

Result<std::unique_ptr<Peers>> Peers::CreateValidator(std::shared_ptr<const PeerSet> peers,
                                                      const CertAndKey& own,
                                                      PeerClientOptions options) {
  REEL_ASSERT(peers != nullptr);
  REEL_RETURN_IF_ERROR(CheckCertAndKey(own));
  std::unique_ptr<Peers> out(new Peers(own, /*observer=*/false, options));
  out->SetPeerSet(std::move(peers));
  return out;
}

Result<std::unique_ptr<Peers>> Peers::Create(std::shared_ptr<const PeerSet> peers,
                                             uint32_t self_index, const CertAndKey& own,
                                             PeerClientOptions options) {
  REEL_ASSERT(peers != nullptr);
  REEL_RETURN_IF_ERROR(CheckCertAndKey(own));
  if (self_index >= peers->size() || peers->IndexOfCert(own.cert_pem) != self_index) {
    return Status::FailedPrecondition(
        "this node's TLS certificate is not the one the validator set names "
        "for validator " +
        std::to_string(self_index));
  }
  return CreateValidator(std::move(peers), own, options);
}

Result<std::unique_ptr<Peers>> Peers::CreateObserver(std::shared_ptr<const PeerSet> peers,
                                                     const CertAndKey& own,
                                                     PeerClientOptions options) {
  REEL_ASSERT(peers != nullptr);
  REEL_RETURN_IF_ERROR(CheckCertAndKey(own));
  if (const std::optional<uint32_t> index = peers->IndexOfCert(own.cert_pem)) {
    return Status::FailedPrecondition(
        "this node's TLS certificate is validator " + std::to_string(*index) +
        "'s in the validator set: an observer needs a certificate of its own");
  }
  std::unique_ptr<Peers> out(new Peers(own, /*observer=*/true, options));
  out->SetPeerSet(std::move(peers));
  return out;
}

Peers::Peers(const CertAndKey& own, bool observer, PeerClientOptions options)
    : own_(own), observer_(observer), options_(options) {}

Peers::~Peers() = default;

std::shared_ptr<const Peers::View> Peers::MakeView(std::shared_ptr<const PeerSet> set,
                                                   const View* previous) const {
  auto view = std::make_shared<View>();
  const std::optional<uint32_t> self = observer_ ? std::nullopt : set->IndexOfCert(own_.cert_pem);
  view->self_index = self.value_or(static_cast<uint32_t>(set->size()));
  view->clients.resize(set->size());
  for (const PeerInfo& peer : set->peers()) {
    if (peer.index == view->self_index || !peer.reachable) continue;
    if (previous != nullptr) {
      for (const std::shared_ptr<PeerClient>& kept : previous->clients) {
        if (kept != nullptr && kept->remote().SameEndpoint(peer)) {
          view->clients[peer.index] = kept;
          break;
        }
      }
    }
    if (view->clients[peer.index] == nullptr) {
      view->clients[peer.index] = std::make_shared<PeerClient>(peer, set->ca_pem(), own_, options_);
    }
  }
  view->set = std::move(set);
  return view;
}

void Peers::SetPeerSet(std::shared_ptr<const PeerSet> peers) {
  REEL_ASSERT(peers != nullptr);
  std::shared_ptr<const View> previous = view();
  std::shared_ptr<const View> next = MakeView(std::move(peers), previous.get());
  {
    MutexLock lock(&mu_);
    view_ = std::move(next);
  }
  // `previous` goes out of scope here, outside the lock: the clients of peers that left
  // stop (and join their senders) once no call in flight holds them.
}

std::shared_ptr<const Peers::View> Peers::view() const {
  MutexLock lock(&mu_);
  return view_;
}

std::shared_ptr<PeerClient> Peers::client(uint32_t index) const {
  std::shared_ptr<const View> v = view();
  if (v == nullptr || index >= v->clients.size()) return nullptr;
  return v->clients[index];
}

uint32_t Peers::self_index() const {
  return view()->self_index;
}

bool Peers::observer() const {
  std::shared_ptr<const View> v = view();
  return v->self_index >= v->set->size();
}

size_t Peers::size() const {
  return view()->set->size();
}

std::shared_ptr<const PeerSet> Peers::peer_set() const {
  return view()->set;
}

void Peers::Send(uint32_t to_index, reel::v1::ConsensusMessage message) {
  std::shared_ptr<const View> v = view();
  if (v->self_index >= v->set->size() || to_index >= v->clients.size() ||
      v->clients[to_index] == nullptr) {
    return;  // no such peer in this epoch (the transport counts what it could not send)
  }
  message.set_sender_index(v->self_index);
  v->clients[to_index]->Send(
      std::make_shared<const reel::v1::ConsensusMessage>(std::move(message)));
}

void Peers::Broadcast(reel::v1::ConsensusMessage message) {
  std::shared_ptr<const View> v = view();
  if (v->self_index >= v->set->size()) return;  // not a validator of this epoch
  message.set_sender_index(v->self_index);
  auto shared = std::make_shared<const reel::v1::ConsensusMessage>(std::move(message));
  for (const auto& peer_client : v->clients) {
    if (peer_client != nullptr) peer_client->Send(shared);
  }
}

Result<std::unique_ptr<TxStream>> Peers::NewTxStream(uint32_t to_index) const {
  std::shared_ptr<PeerClient> c = client(to_index);
  if (c == nullptr) return NoSuchPeer(to_index);
  return c->NewTxStream();
}

Result<reel::v1::GossipTxsResponse> Peers::GossipTxs(uint32_t to_index,
                                                     const reel::v1::GossipTxsRequest& request) {
  std::shared_ptr<PeerClient> c = client(to_index);
  if (c == nullptr) return NoSuchPeer(to_index);
  return c->GossipTxs(request);
}

Result<reel::v1::GetBlocksResponse> Peers::GetBlocks(uint32_t from_index,
                                                     const reel::v1::GetBlocksRequest& request) {
  std::shared_ptr<PeerClient> c = client(from_index);
  if (c == nullptr) return NoSuchPeer(from_index);
  return c->GetBlocks(request);
}

Result<reel::v1::GetBlockByIdResponse> Peers::GetBlock(
    uint32_t from_index, const reel::v1::GetBlockByIdRequest& request) {
  std::shared_ptr<PeerClient> c = client(from_index);
  if (c == nullptr) return NoSuchPeer(from_index);
  return c->GetBlock(request);
}

Result<reel::v1::SyncInfo> Peers::GetSyncInfo(uint32_t from_index) {
  std::shared_ptr<PeerClient> c = client(from_index);
  if (c == nullptr) return NoSuchPeer(from_index);
  return c->GetSyncInfo();
}

PeerClientStats Peers::stats(uint32_t index) const {
  std::shared_ptr<PeerClient> c = client(index);
  return c == nullptr ? PeerClientStats{} : c->stats();
}

std::string Peers::last_stream_error(uint32_t index) const {
  std::shared_ptr<PeerClient> c = client(index);
  return c == nullptr ? std::string() : c->last_stream_error();
}

}  // namespace reel::net
