#include "node/net/credentials.h"

#include <grpc/grpc_security_constants.h>
#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/support/channel_arguments.h>

#include "base/limits.h"

namespace reel::net {
namespace {

int AsInt(uint64_t value) {
  return static_cast<int>(value);
}

std::optional<std::string> CertFromAuthContext(
    const std::shared_ptr<const grpc::AuthContext>& auth) {
  if (auth == nullptr) return std::nullopt;
  const auto values = auth->FindPropertyValues(GRPC_X509_PEM_CERT_PROPERTY_NAME);
  if (values.empty()) return std::nullopt;
  return std::string(values.front().data(), values.front().size());
}

}  // namespace

std::shared_ptr<grpc::ServerCredentials> MakeServerCredentials(const std::string& ca_pem,
                                                               const CertAndKey& own) {
  grpc::SslServerCredentialsOptions options(
      GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
  options.pem_root_certs = ca_pem;
  options.pem_key_cert_pairs.push_back({own.key_pem, own.cert_pem});
  return grpc::SslServerCredentials(options);
}

std::shared_ptr<grpc::Channel> MakePeerChannel(const std::string& address,
                                               const std::string& server_name,
                                               const std::string& ca_pem, const CertAndKey& own,
                                               const ChannelOptions& options) {
  grpc::SslCredentialsOptions tls;
  tls.pem_root_certs = ca_pem;
  tls.pem_private_key = own.key_pem;
  tls.pem_cert_chain = own.cert_pem;

  const uint64_t backoff_min = options.reconnect_backoff_ms_min != 0
                                   ? options.reconnect_backoff_ms_min
                                   : limits::net_reconnect_backoff_ms_min;
  const uint64_t backoff_max = options.reconnect_backoff_ms_max != 0
                                   ? options.reconnect_backoff_ms_max
                                   : limits::net_reconnect_backoff_ms_max;
  grpc::ChannelArguments args;
  args.SetSslTargetNameOverride(server_name);
  // Receives are bounded; sends are not, here: the server is the one that must refuse
  // an oversized message, and PeerClient drops one before it is queued.
  args.SetMaxReceiveMessageSize(AsInt(limits::net_message_bytes_max));
  // One connection per peer, not shared with other channels that happen to look alike
  // (two channels to one address with different client certificates must not mix).
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  // gRPC's own reconnect backoff defaults to 1 s growing to 120 s; a validator that
  // restarts must be heard again within our bound.
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, AsInt(backoff_min));
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, AsInt(backoff_min));
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, AsInt(backoff_max));
  args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, AsInt(limits::net_keepalive_interval_ms));
  args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, AsInt(limits::net_keepalive_timeout_ms));
  args.SetInt(GRPC_ARG_HTTP2_MAX_PINGS_WITHOUT_DATA, 0);  // a quiet stream is still alive
  return grpc::CreateCustomChannel(address, grpc::SslCredentials(tls), args);
}

std::optional<std::string> PeerCertPem(const grpc::ServerContext& context) {
  return CertFromAuthContext(context.auth_context());
}

std::optional<std::string> PeerCertPem(const grpc::ClientContext& context) {
  return CertFromAuthContext(context.auth_context());
}

grpc::Status ToGrpcStatus(const Status& status) {
  using grpc::StatusCode;
  StatusCode code = StatusCode::INTERNAL;
  switch (status.code()) {
    case Code::kOk:
      return grpc::Status::OK;
    case Code::kInvalidArgument:
      code = StatusCode::INVALID_ARGUMENT;
      break;
    case Code::kNotFound:
      code = StatusCode::NOT_FOUND;
      break;
    case Code::kAlreadyExists:
      code = StatusCode::ALREADY_EXISTS;
      break;
    case Code::kPermissionDenied:
      code = StatusCode::PERMISSION_DENIED;
      break;
    case Code::kFailedPrecondition:
      code = StatusCode::FAILED_PRECONDITION;
      break;
    case Code::kResourceExhausted:
      code = StatusCode::RESOURCE_EXHAUSTED;
      break;
    case Code::kUnauthenticated:
      code = StatusCode::UNAUTHENTICATED;
      break;
    case Code::kIoError:
      code = StatusCode::UNAVAILABLE;
      break;
    case Code::kCorruption:
    case Code::kInternal:
      code = StatusCode::INTERNAL;
      break;
  }
  return grpc::Status(code, status.message());
}

Status FromGrpcStatus(const grpc::Status& status) {
  using grpc::StatusCode;
  const std::string& message = status.error_message();
  switch (status.error_code()) {
    case StatusCode::OK:
      return Status::Ok();
    case StatusCode::INVALID_ARGUMENT:
      return Status::InvalidArgument(message);
    case StatusCode::NOT_FOUND:
      return Status::NotFound(message);
    case StatusCode::ALREADY_EXISTS:
      return Status::AlreadyExists(message);
    case StatusCode::PERMISSION_DENIED:
      return Status::PermissionDenied(message);
    case StatusCode::FAILED_PRECONDITION:
      return Status::FailedPrecondition(message);
    case StatusCode::RESOURCE_EXHAUSTED:
      return Status::ResourceExhausted(message);
    case StatusCode::UNAUTHENTICATED:
      return Status::Unauthenticated(message);
    case StatusCode::INTERNAL:
      return Status::Internal(message);
    case StatusCode::UNAVAILABLE:
      return Status::IoError("UNAVAILABLE: " + message);
    case StatusCode::DEADLINE_EXCEEDED:
      return Status::IoError("DEADLINE_EXCEEDED: " + message);
    case StatusCode::CANCELLED:
      return Status::IoError("CANCELLED: " + message);
    default:
      return Status::IoError("gRPC code " + std::to_string(static_cast<int>(status.error_code())) +
                             ": " + message);
  }
}

}  // namespace reel::net
