#include "node/net/peer_client.h"

#include <algorithm>

#include "node/net/credentials.h"
#include "node/net/push_protocol.h"

namespace reel::net {
namespace {

// Whether the server on `context`'s call presented the certificate the epoch names for
// the peer we dialled (TLS has checked the CA and the name already).
Status CheckServerIdentity(const grpc::ClientContext& context, const std::string& cert_sha256,
                           const std::string& name) {
  const std::optional<std::string> cert = PeerCertPem(context);
  if (!cert.has_value()) return Status::Unauthenticated("no server certificate");
  auto sha256 = CertSha256(*cert);
  if (!sha256.ok() || *sha256 != cert_sha256) {
    return Status::Unauthenticated(
        "server certificate is not the one genesis or a later epoch names for " + name);
  }
  return Status::Ok();
}

// Whether the server accepted the stream on `context` (push_protocol.h), after its
// initial metadata arrived.
bool StreamAccepted(const grpc::ClientContext& context) {
  const auto& metadata = context.GetServerInitialMetadata();
  const auto accepted = metadata.find(kPushAcceptedKey);
  return accepted != metadata.end() && accepted->second == kPushAcceptedValue;
}

}  // namespace

TxStream::TxStream(std::shared_ptr<grpc::Channel> channel, std::string remote_cert_sha256,
                   std::string remote_name)
    : channel_(std::move(channel)),
      remote_cert_sha256_(std::move(remote_cert_sha256)),
      remote_name_(std::move(remote_name)),
      stub_(reel::v1::Peer::NewStub(channel_)) {}

TxStream::~TxStream() {
  if (writer_ != nullptr && !finished_.has_value()) {
    context_.TryCancel();
    (void)Finish();
  }
}

Status TxStream::Open() {
  REEL_ASSERT(writer_ == nullptr);  // one Open per stream
  writer_ = stub_->GossipTxsStream(&context_, &summary_);
  // Returns once the server accepted the stream, or the call failed (or was cancelled).
  writer_->WaitForInitialMetadata();
  Status status = StreamAccepted(context_)
                      ? CheckServerIdentity(context_, remote_cert_sha256_, remote_name_)
                      : Status::Unauthenticated("stream not accepted");
  if (!status.ok()) {
    context_.TryCancel();
    const grpc::Status why = writer_->Finish();
    // The server's refusal says more than "not accepted", when it gave one.
    const bool refused_by_us = why.ok() || why.error_code() == grpc::StatusCode::CANCELLED;
    finished_ = refused_by_us ? status : FromGrpcStatus(why);
    return *finished_;
  }
  return Status::Ok();
}

bool TxStream::Write(const reel::v1::GossipTxsRequest& batch) {
  if (writer_ == nullptr || finished_.has_value()) return false;
  return writer_->Write(batch);
}

void TxStream::Cancel() {
  context_.TryCancel();
}

Status TxStream::Finish() {
  if (finished_.has_value()) return *finished_;
  if (writer_ == nullptr) return Status::FailedPrecondition("gossip stream never opened");
  finished_ = FromGrpcStatus(writer_->Finish());
  return *finished_;
}

struct PeerClient::Stream {
  grpc::ClientContext context;
  reel::v1::PushSummary summary;
  std::unique_ptr<grpc::ClientWriter<reel::v1::ConsensusMessage>> writer;
};

PeerClient::PeerClient(PeerInfo remote, const std::string& ca_pem, const CertAndKey& own,
                       PeerClientOptions options)
    : remote_(std::move(remote)), options_(options) {
  REEL_ASSERT(options_.queue_messages_max > 0);
  REEL_ASSERT(options_.backoff_ms_min > 0 && options_.backoff_ms_min <= options_.backoff_ms_max);
  ChannelOptions channel_options;
  channel_options.reconnect_backoff_ms_min = options_.backoff_ms_min;
  channel_options.reconnect_backoff_ms_max = options_.backoff_ms_max;
  channel_ = MakePeerChannel(remote_.address, remote_.name, ca_pem, own, channel_options);
  stub_ = reel::v1::Peer::NewStub(channel_);
  sender_ = std::thread([this] { SenderLoop(); });
}

PeerClient::~PeerClient() {
  {
    MutexLock lock(&mutex_);
    stopping_ = true;
    // A write can block on flow control while the peer does not read; cancel it.
    if (stream_context_ != nullptr) stream_context_->TryCancel();
  }
  wake_.SignalAll();
  sender_.join();
}

void PeerClient::Send(std::shared_ptr<const reel::v1::ConsensusMessage> message) {
  REEL_ASSERT(message != nullptr);
  const size_t bytes = message->ByteSizeLong();
  {
    MutexLock lock(&mutex_);
    if (bytes > limits::net_message_bytes_max || bytes > options_.queue_bytes_max) {
      // Every server would refuse it and break the stream; it can never be delivered.
      ++stats_.dropped;
      return;
    }
    while (!queue_.empty() && (queue_.size() >= options_.queue_messages_max ||
                               queue_bytes_ + bytes > options_.queue_bytes_max)) {
      queue_bytes_ -= queue_.front().bytes;
      queue_.pop_front();
      ++stats_.dropped;
    }
    queue_.push_back(Queued{std::move(message), bytes});
    queue_bytes_ += bytes;
    ++stats_.queued;
  }
  wake_.Signal();
}

void PeerClient::SenderLoop() {
  std::unique_ptr<Stream> stream;
  uint64_t backoff_ms = options_.backoff_ms_min;
  auto back_off = [&] {
    {
      MutexLock lock(&mutex_);
      ++stats_.reconnects;
    }
    const bool go_on = WaitBackoff(backoff_ms);
    backoff_ms = std::min(backoff_ms * 2, options_.backoff_ms_max);
    return go_on;
  };
  for (;;) {
    {
      MutexLock lock(&mutex_);
      while (!stopping_ && queue_.empty()) wake_.Wait(&mutex_);
      if (stopping_) break;
    }
    if (stream == nullptr) {
      stream = OpenStream();
      if (stream == nullptr) {
        if (!back_off()) break;
        continue;
      }
      backoff_ms = options_.backoff_ms_min;
    }
    Queued next;
    {
      MutexLock lock(&mutex_);
      if (queue_.empty()) continue;
      next = std::move(queue_.front());
      queue_.pop_front();
      queue_bytes_ -= next.bytes;
    }
    const bool written = stream->writer->Write(*next.message);
    {
      MutexLock lock(&mutex_);
      ++(written ? stats_.sent : stats_.lost);
    }
    if (!written) {
      CloseStream(std::move(stream), /*cancel=*/false);  // the call has failed already
      if (!back_off()) break;
    }
  }
  if (stream != nullptr) CloseStream(std::move(stream), /*cancel=*/true);
}

std::unique_ptr<PeerClient::Stream> PeerClient::OpenStream() {
  auto stream = std::make_unique<Stream>();
  {
    MutexLock lock(&mutex_);
    if (stopping_) return nullptr;
    stream_context_ = &stream->context;
  }
  stream->writer = stub_->Push(&stream->context, &stream->summary);
  // Returns once the server accepted the stream, or the call failed (push_protocol.h).
  stream->writer->WaitForInitialMetadata();
  const Status status =
      StreamAccepted(stream->context)
          ? CheckServerIdentity(stream->context, remote_.cert_sha256, remote_.name)
          : Status::Unauthenticated("stream not accepted");
  if (!status.ok()) {
    CloseStream(std::move(stream), /*cancel=*/true, status);
    return nullptr;
  }
  MutexLock lock(&mutex_);
  ++stats_.streams_opened;
  stats_.connected = true;
  return stream;
}

void PeerClient::CloseStream(std::unique_ptr<Stream> stream, bool cancel, const Status& why) {
  // Finish waits for the server's status: a stream that is still open (we are stopping,
  // or it is not the peer we wanted) is cancelled first, so that it returns.
  if (cancel) stream->context.TryCancel();
  const grpc::Status status = stream->writer->Finish();
  MutexLock lock(&mutex_);
  stream_context_ = nullptr;
  stats_.connected = false;
  // The server's status says why, unless we ended the stream ourselves for a reason.
  const bool refused_by_us = !why.ok() && status.error_code() == grpc::StatusCode::CANCELLED;
  last_stream_error_ = (refused_by_us ? why : FromGrpcStatus(status)).ToString();
}

bool PeerClient::WaitBackoff(uint64_t ms) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
  MutexLock lock(&mutex_);
  while (!stopping_) {
    if (!wake_.WaitUntil(&mutex_, deadline)) break;
  }
  return !stopping_;
}

template <typename Response, typename Invoke>
Result<Response> PeerClient::Call(Invoke invoke) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + options_.call_deadline);
  Response response;
  const grpc::Status status = invoke(&context, &response);
  if (!status.ok()) return FromGrpcStatus(status);
  REEL_RETURN_IF_ERROR(CheckServerIdentity(context, remote_.cert_sha256, remote_.name));
  return response;
}

std::unique_ptr<TxStream> PeerClient::NewTxStream() const {
  return std::make_unique<TxStream>(channel_, remote_.cert_sha256, remote_.name);
}

Result<reel::v1::GossipTxsResponse> PeerClient::GossipTxs(
    const reel::v1::GossipTxsRequest& request) {
  auto result = Call<reel::v1::GossipTxsResponse>(
      [&](auto* context, auto* response) { return stub_->GossipTxs(context, request, response); });
  if (result.ok() && result->codes_size() != request.txs_size()) {
    return Status::InvalidArgument(remote_.name + " answered GossipTxs for the wrong count");
  }
  return result;
}

Result<reel::v1::GetBlocksResponse> PeerClient::GetBlocks(
    const reel::v1::GetBlocksRequest& request) {
  return Call<reel::v1::GetBlocksResponse>(
      [&](auto* context, auto* response) { return stub_->GetBlocks(context, request, response); });
}

Result<reel::v1::GetBlockByIdResponse> PeerClient::GetBlock(
    const reel::v1::GetBlockByIdRequest& request) {
  return Call<reel::v1::GetBlockByIdResponse>(
      [&](auto* context, auto* response) { return stub_->GetBlock(context, request, response); });
}

Result<reel::v1::SyncInfo> PeerClient::GetSyncInfo() {
  return Call<reel::v1::SyncInfo>([&](auto* context, auto* response) {
    return stub_->GetSyncInfo(context, reel::v1::GetSyncInfoRequest(), response);
  });
}

PeerClientStats PeerClient::stats() const {
  MutexLock lock(&mutex_);
  PeerClientStats out = stats_;
  out.queue_length = queue_.size();
  return out;
}

std::string PeerClient::last_stream_error() const {
  MutexLock lock(&mutex_);
  return last_stream_error_;
}

}  // namespace reel::net
