#include "node/net/peer_server.h"

#include <grpcpp/resource_quota.h>
#include <grpcpp/server_builder.h>

#include <algorithm>
#include <chrono>

#include "base/limits.h"
#include "node/net/credentials.h"
#include "node/net/push_protocol.h"
#include "reel/v1/peer.grpc.pb.h"

namespace reel::net {
namespace {

// Holds one of `max` places counted by `counter` for as long as it lives, if one was
// free when it was made.
class Slot {
 public:
  Slot(std::atomic<size_t>& counter, size_t max) : counter_(counter) {
    held_ = counter_.fetch_add(1) < max;
    if (!held_) counter_.fetch_sub(1);
  }
  ~Slot() {
    if (held_) counter_.fetch_sub(1);
  }
  Slot(const Slot&) = delete;
  Slot& operator=(const Slot&) = delete;
  bool held() const { return held_; }

 private:
  std::atomic<size_t>& counter_;
  bool held_ = false;
};

void Bump(std::atomic<uint64_t>& counter) {
  counter.fetch_add(1, std::memory_order_relaxed);
}

}  // namespace

class PeerServer::Service final : public reel::v1::Peer::Service {
 public:
  Service(std::shared_ptr<Membership> membership, std::string own_cert_pem, PeerHandler* handler)
      : membership_(std::move(membership)),
        own_cert_pem_(std::move(own_cert_pem)),
        handler_(handler),
        push_streams_(new std::atomic<size_t>[kPeerSlots]()),
        gossip_streams_(new std::atomic<size_t>[kPeerSlots]()),
        calls_(new std::atomic<size_t>[kPeerSlots]()),
        refused_streams_(new std::atomic<uint64_t>[kPeerSlots]()),
        refused_gossip_streams_(new std::atomic<uint64_t>[kPeerSlots]()),
        refused_calls_(new std::atomic<uint64_t>[kPeerSlots]()) {}

  grpc::Status Push(grpc::ServerContext* context,
                    grpc::ServerReader<reel::v1::ConsensusMessage>* reader,
                    reel::v1::PushSummary* summary) override {
    return ServeStream(
        context, reader, push_streams_, refused_streams_, limits::net_push_streams_per_peer_max,
        "Push streams", [&](uint32_t from, reel::v1::ConsensusMessage& message) {
          summary->set_received(summary->received() + 1);
          if (message.sender_index() != from) {
            Bump(stats_.refused_impersonation);
            return grpc::Status(grpc::StatusCode::PERMISSION_DENIED,
                                "sender_index " + std::to_string(message.sender_index()) +
                                    " on the stream of validator " + std::to_string(from));
          }
          Bump(stats_.push_received);
          if (!handler_->OnConsensusMessage(from, std::move(message))) {
            Bump(stats_.push_dropped);
            summary->set_dropped(summary->dropped() + 1);
          }
          return grpc::Status::OK;
        });
  }

  grpc::Status GossipTxs(grpc::ServerContext* context, const reel::v1::GossipTxsRequest* request,
                         reel::v1::GossipTxsResponse* response) override {
    auto from = Authenticate(*context);
    if (!from.ok()) return ToGrpcStatus(from.status());
    Slot slot(calls_[*from], limits::net_calls_per_peer_max);
    if (!slot.held()) return Busy("calls", refused_calls_[*from]);
    if (static_cast<size_t>(request->txs_size()) > limits::net_gossip_txs_max) {
      Bump(stats_.refused_invalid);
      return TooManyGossipTxs();
    }
    if (Status handled = handler_->OnGossipTxs(*from, *request, response); !handled.ok()) {
      response->Clear();
      return ToGrpcStatus(handled);
    }
    if (response->codes_size() != request->txs_size()) {
      response->Clear();
      return grpc::Status(grpc::StatusCode::INTERNAL, "handler answered for the wrong count");
    }
    return grpc::Status::OK;
  }

  grpc::Status GossipTxsStream(grpc::ServerContext* context,
                               grpc::ServerReader<reel::v1::GossipTxsRequest>* reader,
                               reel::v1::GossipTxsSummary* summary) override {
    reel::v1::GossipTxsResponse codes;
    return ServeStream(context, reader, gossip_streams_, refused_gossip_streams_,
                       limits::net_gossip_streams_per_peer_max, "gossip streams",
                       [&](uint32_t from, const reel::v1::GossipTxsRequest& batch) {
                         summary->set_batches(summary->batches() + 1);
                         if (static_cast<size_t>(batch.txs_size()) > limits::net_gossip_txs_max) {
                           Bump(stats_.refused_invalid);
                           return TooManyGossipTxs();
                         }
                         Bump(stats_.gossip_batches);
                         codes.Clear();
                         // No answer per batch: what was not admitted reaches this node in
                         // a block. A handler that fails (no room) admitted a prefix at most.
                         (void)handler_->OnGossipTxs(from, batch, &codes);
                         uint64_t admitted = 0;
                         for (const int code : codes.codes()) admitted += code == reel::v1::OK;
                         admitted = std::min<uint64_t>(admitted, batch.txs_size());
                         summary->set_admitted(summary->admitted() + admitted);
                         summary->set_refused(summary->refused() + (batch.txs_size() - admitted));
                         return grpc::Status::OK;
                       });
  }

  grpc::Status GetBlocks(grpc::ServerContext* context, const reel::v1::GetBlocksRequest* request,
                         reel::v1::GetBlocksResponse* response) override {
    auto from = Authenticate(*context, /*observers_too=*/true);
    if (!from.ok()) return ToGrpcStatus(from.status());
    Slot slot(calls_[*from], limits::net_calls_per_peer_max);
    if (!slot.held()) return Busy("calls", refused_calls_[*from]);
    if (request->from_height() < 1 || request->to_height() < request->from_height()) {
      Bump(stats_.refused_invalid);
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                          "GetBlocks needs 1 <= from_height <= to_height");
    }
    reel::v1::GetBlocksRequest bounded = *request;
    const uint64_t span = limits::net_sync_blocks_per_request_max - 1;
    if (bounded.to_height() - bounded.from_height() > span) {
      bounded.set_to_height(bounded.from_height() + span);
    }
    grpc::Status status = ToGrpcStatus(handler_->GetBlocks(*from, bounded, response));
    if (status.ok() && response->ByteSizeLong() > limits::net_message_bytes_max) {
      response->Clear();
      return grpc::Status(grpc::StatusCode::INTERNAL, "GetBlocks answer exceeds the size bound");
    }
    return status;
  }

  grpc::Status GetBlock(grpc::ServerContext* context, const reel::v1::GetBlockByIdRequest* request,
                        reel::v1::GetBlockByIdResponse* response) override {
    auto from = Authenticate(*context);
    if (!from.ok()) return ToGrpcStatus(from.status());
    Slot slot(calls_[*from], limits::net_calls_per_peer_max);
    if (!slot.held()) return Busy("calls", refused_calls_[*from]);
    if (request->block_id().size() != 32) {
      Bump(stats_.refused_invalid);
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "block_id must be 32 bytes");
    }
    return ToGrpcStatus(handler_->GetBlock(*from, *request, response));
  }

  grpc::Status GetSyncInfo(grpc::ServerContext* context, const reel::v1::GetSyncInfoRequest*,
                           reel::v1::SyncInfo* response) override {
    auto from = Authenticate(*context, /*observers_too=*/true);
    if (!from.ok()) return ToGrpcStatus(from.status());
    Slot slot(calls_[*from], limits::net_calls_per_peer_max);
    if (!slot.held()) return Busy("calls", refused_calls_[*from]);
    return ToGrpcStatus(handler_->GetSyncInfo(*from, response));
  }

  PeerServerStats stats() const {
    PeerServerStats out;
    out.refused_unauthenticated = stats_.refused_unauthenticated.load();
    out.refused_impersonation = stats_.refused_impersonation.load();
    out.refused_busy = stats_.refused_busy.load();
    out.refused_invalid = stats_.refused_invalid.load();
    out.push_received = stats_.push_received.load();
    out.push_dropped = stats_.push_dropped.load();
    out.gossip_batches = stats_.gossip_batches.load();
    return out;
  }

  PeerRefusals refusals(uint32_t peer) const {
    REEL_ASSERT(peer < kPeerSlots);
    return {refused_streams_[peer].load(), refused_gossip_streams_[peer].load(),
            refused_calls_[peer].load()};
  }

 private:
  // The validator of the current epoch whose certificate the caller presented. TLS has
  // already checked the chain against the CA; this decides membership. With
  // `observers_too` (the read-only sync calls), any other CA-signed certificate is an
  // observer, and all observers share one budget, at index kObserverIndex.
  Result<uint32_t> Authenticate(const grpc::ServerContext& context, bool observers_too = false) {
    const std::optional<std::string> cert = PeerCertPem(context);
    if (!cert.has_value()) {
      Bump(stats_.refused_unauthenticated);
      return Status::Unauthenticated("no client certificate");
    }
    const std::shared_ptr<const PeerSet> peers = membership_->current();
    const std::optional<uint32_t> index = peers->IndexOfCert(*cert);
    if (!index.has_value() && observers_too) return kObserverIndex;
    if (!index.has_value()) {
      Bump(stats_.refused_unauthenticated);
      return Status::Unauthenticated(
          "client certificate is not a validator's in this node's epoch");
    }
    if (index == peers->IndexOfCert(own_cert_pem_)) {
      Bump(stats_.refused_unauthenticated);
      return Status::PermissionDenied("a call from this validator's own certificate");
    }
    return *index;
  }

  // Serves one client stream: authenticates the caller, holds one of its `max` places
  // in `open` (refused with RESOURCE_EXHAUSTED, counted in `refused`, when none is
  // free), tells the client that the stream is accepted (push_protocol.h), then hands
  // each message to `on_message` with the caller's index. When the epoch changes, the
  // caller is authenticated again at its next message: it may have left the set, or
  // moved to another index (a validator before it was removed). A status that is not
  // OK from `on_message` ends the stream with it.
  template <typename Message, typename OnMessage>
  grpc::Status ServeStream(grpc::ServerContext* context, grpc::ServerReader<Message>* reader,
                           const std::unique_ptr<std::atomic<size_t>[]>& open,
                           const std::unique_ptr<std::atomic<uint64_t>[]>& refused, size_t max,
                           const char* what, OnMessage on_message) {
    uint64_t generation = membership_->generation();
    auto from = Authenticate(*context);
    if (!from.ok()) return ToGrpcStatus(from.status());
    Slot slot(open[*from], max);
    if (!slot.held()) return Busy(what, refused[*from]);
    context->AddInitialMetadata(kPushAcceptedKey, kPushAcceptedValue);
    reader->SendInitialMetadata();
    Message message;
    while (reader->Read(&message)) {
      if (membership_->generation() != generation) {
        generation = membership_->generation();
        from = Authenticate(*context);
        if (!from.ok()) return ToGrpcStatus(from.status());
      }
      if (grpc::Status handled = on_message(*from, message); !handled.ok()) return handled;
      message.Clear();
    }
    return grpc::Status::OK;
  }

  static grpc::Status TooManyGossipTxs() {
    return grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                        "more than " + std::to_string(limits::net_gossip_txs_max) +
                            " transactions in one gossip batch");
  }

  grpc::Status Busy(const char* what, std::atomic<uint64_t>& of_peer) {
    Bump(stats_.refused_busy);
    Bump(of_peer);
    return grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                        std::string("too many ") + what + " from this peer");
  }

  struct Counters {
    std::atomic<uint64_t> refused_unauthenticated{0};
    std::atomic<uint64_t> refused_impersonation{0};
    std::atomic<uint64_t> refused_busy{0};
    std::atomic<uint64_t> refused_invalid{0};
    std::atomic<uint64_t> push_received{0};
    std::atomic<uint64_t> push_dropped{0};
    std::atomic<uint64_t> gossip_batches{0};
  };

  const std::shared_ptr<Membership> membership_;
  const std::string own_cert_pem_;
  PeerHandler* const handler_;
  // Per validator index (observers at kObserverIndex): open Push and gossip streams, and
  // calls in flight. An index is a validator's of the epoch when the stream or call began.
  std::unique_ptr<std::atomic<size_t>[]> push_streams_;
  std::unique_ptr<std::atomic<size_t>[]> gossip_streams_;
  std::unique_ptr<std::atomic<size_t>[]> calls_;
  // Per validator index (observers at kObserverIndex): refusals at the three bounds above.
  std::unique_ptr<std::atomic<uint64_t>[]> refused_streams_;
  std::unique_ptr<std::atomic<uint64_t>[]> refused_gossip_streams_;
  std::unique_ptr<std::atomic<uint64_t>[]> refused_calls_;
  Counters stats_;
};

Result<std::unique_ptr<PeerServer>> PeerServer::Start(std::shared_ptr<const PeerSet> peers,
                                                      const CertAndKey& own,
                                                      const std::string& listen_address,
                                                      PeerHandler* handler) {
  REEL_ASSERT(peers != nullptr);
  return Start(std::make_shared<Membership>(std::move(peers)), own, listen_address, handler);
}

Result<std::unique_ptr<PeerServer>> PeerServer::Start(std::shared_ptr<Membership> membership,
                                                      const CertAndKey& own,
                                                      const std::string& listen_address,
                                                      PeerHandler* handler) {
  REEL_ASSERT(membership != nullptr && handler != nullptr);
  REEL_RETURN_IF_ERROR(CheckCertAndKey(own));
  // The CA is the chain's, the same in every epoch.
  const std::string ca_pem = membership->current()->ca_pem();
  std::unique_ptr<PeerServer> server(new PeerServer());
  server->service_ = std::make_unique<Service>(std::move(membership), own.cert_pem, handler);

  grpc::ServerBuilder builder;
  builder.AddListeningPort(listen_address, MakeServerCredentials(ca_pem, own), &server->port_);
  builder.RegisterService(server->service_.get());
  builder.SetMaxReceiveMessageSize(static_cast<int>(limits::net_message_bytes_max));
  builder.SetMaxSendMessageSize(static_cast<int>(limits::net_message_bytes_max));
  grpc::ResourceQuota quota("reel-peer-server");
  quota.SetMaxThreads(static_cast<int>(limits::net_server_threads_max));
  builder.SetResourceQuota(quota);
  builder.AddChannelArgument(GRPC_ARG_MAX_CONCURRENT_STREAMS,
                             static_cast<int>(limits::net_connection_streams_max));
  builder.AddChannelArgument(GRPC_ARG_SERVER_HANDSHAKE_TIMEOUT_MS,
                             static_cast<int>(limits::net_handshake_timeout_ms));
  builder.AddChannelArgument(GRPC_ARG_MAX_CONNECTION_IDLE_MS,
                             static_cast<int>(limits::net_connection_idle_ms_max));
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIME_MS,
                             static_cast<int>(limits::net_keepalive_interval_ms));
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIMEOUT_MS,
                             static_cast<int>(limits::net_keepalive_timeout_ms));
  // Clients ping every keepalive interval while a Push stream is quiet; accept that
  // rather than closing the connection for "too many pings".
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS,
                             static_cast<int>(limits::net_keepalive_interval_ms / 2));
  server->server_ = builder.BuildAndStart();
  if (server->server_ == nullptr || server->port_ == 0) {
    return Status::IoError("peer server cannot listen on " + listen_address +
                           " (address in use, or bad TLS material)");
  }
  return server;
}

PeerServer::~PeerServer() {
  Shutdown();
}

void PeerServer::Shutdown() {
  if (shut_down_.exchange(true) || server_ == nullptr) return;
  // A deadline of now cancels open Push streams at once instead of waiting for peers to
  // close them.
  server_->Shutdown(std::chrono::system_clock::now());
  server_->Wait();
}

PeerServerStats PeerServer::stats() const {
  return service_->stats();
}

PeerRefusals PeerServer::refusals(uint32_t peer) const {
  return service_->refusals(peer);
}

}  // namespace reel::net
