// TLS material for the peer transport: a chain's certificate authority and the
// validators' certificates, made with the OpenSSL library (not the CLI), as PEM.
//
// A chain has one CA (self-signed, EC P-256). Each node gets a certificate signed by it, with the
// validator's name as subject CN and as a DNS subjectAltName, so that a client can check a server
// by name (gRPC's target name override); extra hosts become DNS or IP subjectAltNames. Genesis
// names each validator's certificate by PEM or by CertSha256, and the CA by its PEM
// (Genesis.tls_ca_pem).
//
// On one machine (`reel testnet init`) MakeCa and MakeNodeCert make everything. Across
// members the node's key never leaves it: the node makes a key and a certificate request
// (NewKeyPem, MakeCertRequest), and the CA holder signs the request (SignCertRequest)
// into the same kind of certificate MakeNodeCert makes.
//
// All functions are thread-safe (they share no state) and report failures as Status;
// none throws. Private keys are PKCS#8 PEM, unencrypted: they are protected by file mode
// (0600), and ReadKeyPemFile refuses a key that others can read (TESTING.md, row 11).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/bytes.h"
#include "base/status.h"

namespace reel::net {

struct CertAndKey {
  std::string cert_pem;  // one X.509 certificate
  std::string key_pem;   // its private key, PKCS#8
};

// When a certificate is valid, relative to now. The default starts an hour in the past
// so that a peer whose clock is a little behind still accepts a fresh certificate.
struct Validity {
  std::chrono::seconds not_before_from_now = std::chrono::hours(-1);
  std::chrono::seconds not_after_from_now = std::chrono::hours(24 * 365);
};
Validity ValidForDays(uint32_t days);

// A self-signed CA certificate (CN = name, basicConstraints CA:TRUE, keyCertSign).
Result<CertAndKey> MakeCa(std::string_view name, uint32_t valid_days);
Result<CertAndKey> MakeCa(std::string_view name, const Validity& validity);

// A certificate for `name` signed by `ca`, usable as TLS server and client. Subject CN
// and the first DNS subjectAltName are `name`; each of `hosts` is added as an IP
// subjectAltName if it parses as an IPv4/IPv6 address, else as a DNS one. `name` must be
// 1..64 bytes of [A-Za-z0-9.-] so that it is a valid DNS name for the TLS name check.
Result<CertAndKey> MakeNodeCert(const CertAndKey& ca, std::string_view name,
                                const std::vector<std::string>& hosts, uint32_t valid_days);
Result<CertAndKey> MakeNodeCert(const CertAndKey& ca, std::string_view name,
                                const std::vector<std::string>& hosts, const Validity& validity);

// A new private key (EC P-256, PKCS#8 PEM) for a node's TLS certificate.
Result<std::string> NewKeyPem();

// A certificate signing request (PKCS#10, PEM) for `name`, signed with `key_pem`: subject
// CN `name` and a requested DNS subjectAltName `name`. `name` as in MakeNodeCert.
Result<std::string> MakeCertRequest(std::string_view name, std::string_view key_pem);

// The name a request asks for (its subject CN), once its signature is checked and the
// name is one a node certificate may carry.
Result<std::string> CertRequestName(std::string_view request_pem);

// A certificate for the request's name and public key, signed by `ca`, with the
// extensions of MakeNodeCert (TLS server and client, DNS subjectAltName = the name). The
// request's own extensions are not copied: the CA decides what a certificate says.
Result<std::string> SignCertRequest(const CertAndKey& ca, std::string_view request_pem,
                                    const Validity& validity);

// OK if `ca_pem` is a CA certificate (basicConstraints CA:TRUE).
Status CheckCaCert(std::string_view ca_pem);
// OK if `cert_pem` is signed by the CA of `ca_pem` and valid now; else InvalidArgument
// saying why ("does not chain to the CA: certificate signature failure").
Status CheckIssuedBy(std::string_view cert_pem, std::string_view ca_pem);
// The DNS subjectAltNames of a certificate, in order (empty if it has none).
Result<std::vector<std::string>> CertDnsNames(std::string_view cert_pem);

// SHA-256 of the DER bytes of the (first) certificate in `cert_pem`: 32 raw bytes, the
// form of Validator.tls_cert_sha256. Re-encoding the PEM (line breaks, headers) does not
// change it.
Result<std::string> CertSha256(std::string_view cert_pem);

// OK if `material` holds a parseable certificate and the private key that matches it.
// Checked at startup: gRPC would only fail later, in every handshake.
Status CheckCertAndKey(const CertAndKey& material);

// What a certificate host may be, and (at most 64 bytes) a validator name (base/bytes.h).
using ::reel::IsDnsName;

// Subject CN of the certificate in `cert_pem`.
Result<std::string> CertCommonName(std::string_view cert_pem);

// Files. A certificate is written 0644, a private key 0600 (created with that mode, and
// chmod-ed if it existed). Reads are bounded by limits::tls_pem_file_bytes_max.
Status WriteCertPemFile(const std::string& path, std::string_view cert_pem);
Status WriteKeyPemFile(const std::string& path, std::string_view key_pem);
Result<std::string> ReadCertPemFile(const std::string& path);
// Refuses (PermissionDenied) a key file that its group or others may read or write.
Result<std::string> ReadKeyPemFile(const std::string& path);
// `<directory>/<base>.crt` and `<directory>/<base>.key`.
Status WriteCertAndKey(const std::string& directory, std::string_view base,
                       const CertAndKey& material);
Result<CertAndKey> ReadCertAndKey(const std::string& directory, std::string_view base);

}  // namespace reel::net
