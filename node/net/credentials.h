// gRPC credentials and channel settings of the peer transport: mutual TLS against the
// chain's CA, and the bounds of base/limits.h applied to every connection.
//
// The server requires a client certificate and verifies its chain against the CA
// (GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY); which validator it is,
// if any, is decided per call by the PeerServer from the current epoch's set. A client
// verifies the server's chain against the CA and its name against the validator name it
// dialled (the SSL target name override), whatever host:port it used to get there.
#pragma once

#include <grpcpp/channel.h>
#include <grpcpp/client_context.h>
#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server_context.h>

#include <memory>
#include <optional>
#include <string>

#include "base/status.h"
#include "node/net/tls.h"

namespace reel::net {

// Connection settings of a client channel; the defaults are base/limits.h's.
struct ChannelOptions {
  uint64_t reconnect_backoff_ms_min = 0;  // 0: limits::net_reconnect_backoff_ms_min
  uint64_t reconnect_backoff_ms_max = 0;  // 0: limits::net_reconnect_backoff_ms_max
};

std::shared_ptr<grpc::ServerCredentials> MakeServerCredentials(const std::string& ca_pem,
                                                               const CertAndKey& own);

// A channel to `address` that expects the server to hold a CA-signed certificate for
// `server_name`. `own` is this node's certificate and key; an empty one connects
// without a client certificate (only tests want that: every server refuses it). The
// channel has its own connection (no subchannel sharing) and connects lazily.
std::shared_ptr<grpc::Channel> MakePeerChannel(const std::string& address,
                                               const std::string& server_name,
                                               const std::string& ca_pem, const CertAndKey& own,
                                               const ChannelOptions& options = {});

// The PEM certificate the other side presented on a call: the client's on a server, the
// server's on a client (once the call has its initial metadata or has finished).
std::optional<std::string> PeerCertPem(const grpc::ServerContext& context);
std::optional<std::string> PeerCertPem(const grpc::ClientContext& context);

// Status <-> grpc::Status. Codes without a REEL equivalent (UNAVAILABLE,
// DEADLINE_EXCEEDED, CANCELLED, ...) become kIoError with the gRPC code's name in the
// message: to the node they all mean "this peer did not answer; try another".
grpc::Status ToGrpcStatus(const Status& status);
Status FromGrpcStatus(const grpc::Status& status);

}  // namespace reel::net
