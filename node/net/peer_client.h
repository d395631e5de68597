// PeerClient: this validator's side of the connection to one other validator.
//
// Consensus messages go through a bounded outbound queue, drained by one sender thread
// over a long-lived Push stream. Send never blocks: when the queue is full (by count or
// bytes) the oldest message is dropped and counted, because consensus tolerates loss and
// a stale message is the least useful. When the stream cannot be opened or breaks, the
// sender waits with exponential backoff (min/max from the options) and opens a new one;
// a message is taken off the queue only once a stream is open and accepted, so only the
// message being written when a stream breaks is lost (counted; not resent, as peer.proto
// says).
//
// Gossip goes over a TxStream (a GossipTxsStream call) that the caller opens, writes
// and ends on its own thread. Block sync, and a one-off GossipTxs, are request/response
// calls made on the caller's thread, each with a deadline. Every call, and every Push stream,
// checks that the server presented the certificate its epoch's set names for this validator (TLS
// has already checked the CA and the name); an answer from anyone else is discarded as
// UNAUTHENTICATED.
//
// Thread-safe: any thread may call any method at once. The destructor stops the sender
// (cancelling a write in progress) and drops what is queued.
#pragma once

#include <grpcpp/channel.h>

#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "base/limits.h"
#include "base/mutex.h"
#include "base/status.h"
#include "node/net/peer_set.h"
#include "node/net/tls.h"
#include "reel/v1/peer.grpc.pb.h"

namespace reel::net {

struct PeerClientOptions {
  size_t queue_messages_max = limits::net_outbound_queue_messages_max;
  size_t queue_bytes_max = limits::net_outbound_queue_bytes_max;
  uint64_t backoff_ms_min = limits::net_reconnect_backoff_ms_min;
  uint64_t backoff_ms_max = limits::net_reconnect_backoff_ms_max;
  std::chrono::milliseconds call_deadline{limits::net_call_deadline_ms};
};

// Counters for metrics and tests; all but the last two are monotonic.
struct PeerClientStats {
  uint64_t queued = 0;          // accepted by Send
  uint64_t sent = 0;            // written to an open stream
  uint64_t dropped = 0;         // pushed out of a full queue, or too large to ever send
  uint64_t lost = 0;            // being written when the stream broke
  uint64_t reconnects = 0;      // backoff waits: failed opens and broken streams
  uint64_t streams_opened = 0;  // Push streams the peer accepted
  size_t queue_length = 0;      // messages waiting now
  bool connected = false;       // a Push stream is open now
};

// One GossipTxsStream to a peer (peer.proto), used by one thread: Open, then Write
// batches until a write fails, then make another. Cancel may be called from any thread
// at any time, before Open too: what is blocked or called after returns at once as
// failed. Independent of the PeerClient that made it, which may go first.
class TxStream {
 public:
  TxStream(std::shared_ptr<grpc::Channel> channel, std::string remote_cert_sha256,
           std::string remote_name);
  ~TxStream();  // cancels the stream if it is open, and waits for its end
  TxStream(const TxStream&) = delete;
  TxStream& operator=(const TxStream&) = delete;

  // Starts the stream and waits until the peer accepted it (its certificate checked as
  // for a Push stream); the error says why not.
  Status Open();
  // False once the stream is broken (or cancelled, or never opened); blocks while the
  // peer's flow control holds the batch back.
  bool Write(const reel::v1::GossipTxsRequest& batch);
  void Cancel();

 private:
  // Why the stream ended: the peer's status, or the reason it was not accepted.
  Status Finish();

  const std::shared_ptr<grpc::Channel> channel_;
  const std::string remote_cert_sha256_;
  const std::string remote_name_;
  std::unique_ptr<reel::v1::Peer::Stub> stub_;
  grpc::ClientContext context_;
  reel::v1::GossipTxsSummary summary_;
  std::unique_ptr<grpc::ClientWriter<reel::v1::GossipTxsRequest>> writer_;  // once opened
  std::optional<Status> finished_;  // once ended, or refused at Open
};

class PeerClient {
 public:
  // `remote` says where and who the peer is; `own` is this validator's TLS identity.
  PeerClient(PeerInfo remote, const std::string& ca_pem, const CertAndKey& own,
             PeerClientOptions options = {});
  ~PeerClient();
  PeerClient(const PeerClient&) = delete;
  PeerClient& operator=(const PeerClient&) = delete;

  const PeerInfo& remote() const { return remote_; }

  // Queues `message` for the Push stream and returns at once. Shared so that a broadcast
  // holds one copy for all peers.
  void Send(std::shared_ptr<const reel::v1::ConsensusMessage> message);

  // A gossip stream to this peer, not opened yet.
  std::unique_ptr<TxStream> NewTxStream() const;
  Result<reel::v1::GossipTxsResponse> GossipTxs(const reel::v1::GossipTxsRequest& request);
  Result<reel::v1::GetBlocksResponse> GetBlocks(const reel::v1::GetBlocksRequest& request);
  Result<reel::v1::GetBlockByIdResponse> GetBlock(const reel::v1::GetBlockByIdRequest& request);
  Result<reel::v1::SyncInfo> GetSyncInfo();

  PeerClientStats stats() const;
  // Why the last stream failed or ended, for logs ("" if none has).
  std::string last_stream_error() const;

 private:
  struct Queued {
    std::shared_ptr<const reel::v1::ConsensusMessage> message;
    size_t bytes;
  };
  struct Stream;

  void SenderLoop();
  std::unique_ptr<Stream> OpenStream();
  // Ends `stream`, cancelling it first if `cancel`; `why` is our reason, if we have one.
  void CloseStream(std::unique_ptr<Stream> stream, bool cancel, const Status& why = Status());
  // Sleeps up to `ms` unless stopped; false if stopped.
  bool WaitBackoff(uint64_t ms);
  template <typename Response, typename Invoke>
  Result<Response> Call(Invoke invoke);

  const PeerInfo remote_;
  const PeerClientOptions options_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<reel::v1::Peer::Stub> stub_;

  mutable Mutex mutex_;
  CondVar wake_;  // queue gained a message, or stopping
  std::deque<Queued> queue_ REEL_GUARDED_BY(mutex_);
  size_t queue_bytes_ REEL_GUARDED_BY(mutex_) = 0;
  bool stopping_ REEL_GUARDED_BY(mutex_) = false;
  // The open stream's context, so the destructor can cancel a blocked write.
  grpc::ClientContext* stream_context_ REEL_GUARDED_BY(mutex_) = nullptr;
  PeerClientStats stats_ REEL_GUARDED_BY(mutex_);
  std::string last_stream_error_ REEL_GUARDED_BY(mutex_);

  std::thread sender_;  // last: starts after everything above exists
};

}  // namespace reel::net
