#include "node/net/tls.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <map>
#include <memory>
#include <optional>

#include "base/file.h"
#include "base/limits.h"
#include "base/mutex.h"

namespace reel::net {
namespace {

struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
struct PkeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct ExtFree {
  void operator()(X509_EXTENSION* e) const { X509_EXTENSION_free(e); }
};
struct BnFree {
  void operator()(BIGNUM* b) const { BN_free(b); }
};
using BioPtr = std::unique_ptr<BIO, BioFree>;
using X509Ptr = std::unique_ptr<X509, X509Free>;
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;
using ExtPtr = std::unique_ptr<X509_EXTENSION, ExtFree>;
using BnPtr = std::unique_ptr<BIGNUM, BnFree>;

// OpenSSL keeps errors in a thread-local queue; take them all, so that a later call on
// this thread (possibly gRPC's own TLS code) does not see stale ones.
Status OpensslError(std::string_view what) {
  std::string message(what);
  char buffer[256];
  while (unsigned long code = ERR_get_error()) {
    ERR_error_string_n(code, buffer, sizeof(buffer));
    message += ": ";
    message += buffer;
  }
  return Status::Internal(message);
}

Result<X509Ptr> ParseCert(std::string_view pem) {
  if (pem.size() > limits::tls_pem_file_bytes_max) {
    return Status::InvalidArgument("certificate PEM too large");
  }
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) return OpensslError("BIO_new_mem_buf");
  X509Ptr cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  if (!cert) {
    ERR_clear_error();
    return Status::InvalidArgument("not a PEM certificate");
  }
  return cert;
}

Result<PkeyPtr> ParseKey(std::string_view pem) {
  if (pem.size() > limits::tls_pem_file_bytes_max) {
    return Status::InvalidArgument("private key PEM too large");
  }
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) return OpensslError("BIO_new_mem_buf");
  PkeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  if (!key) {
    ERR_clear_error();
    return Status::InvalidArgument("not a PEM private key");
  }
  return key;
}

Result<std::string> BioContents(BIO* bio) {
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio, &data);
  if (size <= 0 || data == nullptr) return OpensslError("empty PEM output");
  return std::string(data, static_cast<size_t>(size));
}

Result<std::string> CertToPem(X509* cert) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_X509(bio.get(), cert) != 1) return OpensslError("PEM_write_bio_X509");
  return BioContents(bio.get());
}

Result<std::string> KeyToPem(EVP_PKEY* key) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio ||
      PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    return OpensslError("PEM_write_bio_PrivateKey");
  }
  return BioContents(bio.get());
}

bool IsIpAddress(const std::string& host) {
  unsigned char buffer[sizeof(struct in6_addr)];
  return inet_pton(AF_INET, host.c_str(), buffer) == 1 ||
         inet_pton(AF_INET6, host.c_str(), buffer) == 1;
}

Status AddExtension(X509* cert, X509V3_CTX* context, int nid, const std::string& value) {
  ExtPtr extension(X509V3_EXT_conf_nid(nullptr, context, nid, value.c_str()));
  if (!extension || X509_add_ext(cert, extension.get(), -1) != 1) {
    return OpensslError("X509 extension " + value);
  }
  return Status::Ok();
}

Result<PkeyPtr> NewP256Key() {
  PkeyPtr key(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
  if (!key) return OpensslError("EC P-256 key generation");
  return key;
}

// A certificate with a random 128-bit serial, the subject CN, the validity and the public
// key; the caller adds extensions and signs.
Result<X509Ptr> NewCert(std::string_view common_name, const Validity& validity, EVP_PKEY* key) {
  if (validity.not_after_from_now <= validity.not_before_from_now) {
    return Status::InvalidArgument("certificate validity ends before it starts");
  }
  X509Ptr cert(X509_new());
  if (!cert || X509_set_version(cert.get(), X509_VERSION_3) != 1) return OpensslError("X509_new");
  BnPtr serial(BN_new());
  if (!serial || BN_rand(serial.get(), 127, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) != 1 ||
      BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(cert.get())) == nullptr) {
    return OpensslError("certificate serial");
  }
  if (X509_gmtime_adj(X509_getm_notBefore(cert.get()), validity.not_before_from_now.count()) ==
          nullptr ||
      X509_gmtime_adj(X509_getm_notAfter(cert.get()), validity.not_after_from_now.count()) ==
          nullptr) {
    return OpensslError("certificate validity");
  }
  X509_NAME* subject = X509_get_subject_name(cert.get());
  if (X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_UTF8,
                                 reinterpret_cast<const unsigned char*>(common_name.data()),
                                 static_cast<int>(common_name.size()), -1, 0) != 1 ||
      X509_set_pubkey(cert.get(), key) != 1) {
    return OpensslError("certificate subject");
  }
  return cert;
}

Result<std::string> ReadBoundedFile(const std::string& path, bool private_key) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Status::IoError("open " + path + ": " + std::strerror(errno));
  struct stat info;
  Status status;
  if (::fstat(fd, &info) != 0) {
    status = Status::IoError("stat " + path + ": " + std::strerror(errno));
  } else if (!S_ISREG(info.st_mode)) {
    status = Status::InvalidArgument(path + " is not a regular file");
  } else if (static_cast<size_t>(info.st_size) > limits::tls_pem_file_bytes_max) {
    status = Status::InvalidArgument(path + " is larger than a PEM file may be");
  } else if (private_key && (info.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
    status = Status::PermissionDenied(path + " is accessible by group or others; chmod 600 it");
  }
  std::string contents;
  while (status.ok()) {
    char buffer[4096];
    const ssize_t n = ::read(fd, buffer, sizeof(buffer));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) status = Status::IoError("read " + path + ": " + std::strerror(errno));
    if (n <= 0) break;
    contents.append(buffer, static_cast<size_t>(n));
    if (contents.size() > limits::tls_pem_file_bytes_max) {
      status = Status::InvalidArgument(path + " is larger than a PEM file may be");
    }
  }
  ::close(fd);
  if (!status.ok()) return status;
  return contents;
}

}  // namespace

Validity ValidForDays(uint32_t days) {
  Validity validity;
  validity.not_after_from_now = std::chrono::hours(24) * days;
  return validity;
}

Result<CertAndKey> MakeCa(std::string_view name, uint32_t valid_days) {
  return MakeCa(name, ValidForDays(valid_days));
}

Result<CertAndKey> MakeCa(std::string_view name, const Validity& validity) {
  if (name.empty() || name.size() > 64)
    return Status::InvalidArgument("CA name must be 1..64 bytes");
  auto key = NewP256Key();
  if (!key.ok()) return key.status();
  auto cert = NewCert(name, validity, key->get());
  if (!cert.ok()) return cert.status();
  X509* x = cert->get();
  if (X509_set_issuer_name(x, X509_get_subject_name(x)) != 1) return OpensslError("issuer");
  X509V3_CTX context;
  X509V3_set_ctx(&context, x, x, nullptr, nullptr, 0);
  REEL_RETURN_IF_ERROR(AddExtension(x, &context, NID_basic_constraints, "critical,CA:TRUE"));
  REEL_RETURN_IF_ERROR(AddExtension(x, &context, NID_key_usage, "critical,keyCertSign,cRLSign"));
  REEL_RETURN_IF_ERROR(AddExtension(x, &context, NID_subject_key_identifier, "hash"));
  if (X509_sign(x, key->get(), EVP_sha256()) == 0) return OpensslError("X509_sign");
  auto cert_pem = CertToPem(x);
  if (!cert_pem.ok()) return cert_pem.status();
  auto key_pem = KeyToPem(key->get());
  if (!key_pem.ok()) return key_pem.status();
  return CertAndKey{std::move(cert_pem).value(), std::move(key_pem).value()};
}

namespace {

struct ReqFree {
  void operator()(X509_REQ* r) const { X509_REQ_free(r); }
};
struct StoreFree {
  void operator()(X509_STORE* s) const { X509_STORE_free(s); }
};
struct StoreContextFree {
  void operator()(X509_STORE_CTX* c) const { X509_STORE_CTX_free(c); }
};
struct NamesFree {
  void operator()(GENERAL_NAMES* n) const { GENERAL_NAMES_free(n); }
};
using ReqPtr = std::unique_ptr<X509_REQ, ReqFree>;
using StorePtr = std::unique_ptr<X509_STORE, StoreFree>;
using StoreContextPtr = std::unique_ptr<X509_STORE_CTX, StoreContextFree>;
using NamesPtr = std::unique_ptr<GENERAL_NAMES, NamesFree>;

Status CheckNodeName(std::string_view name) {
  if (name.size() > 64 || !IsDnsName(name)) {
    return Status::InvalidArgument("node name must be 1..64 bytes of [A-Za-z0-9.-]: " +
                                   std::string(name));
  }
  return Status::Ok();
}

// The CA's certificate and key, parsed, once they are known to belong together.
struct ParsedCa {
  X509Ptr cert;
  PkeyPtr key;
};
Result<ParsedCa> ParseCa(const CertAndKey& ca) {
  REEL_RETURN_IF_ERROR(CheckCertAndKey(ca));
  auto cert = ParseCert(ca.cert_pem);
  if (!cert.ok()) return cert.status();
  auto key = ParseKey(ca.key_pem);
  if (!key.ok()) return key.status();
  return ParsedCa{std::move(cert).value(), std::move(key).value()};
}

// A node certificate for `name` and `subject_key`, signed by the CA: what MakeNodeCert
// and SignCertRequest both issue, so that a certificate from a request is the same kind
// as one from `reel testnet init`.
Result<std::string> IssueNodeCert(const ParsedCa& ca, std::string_view name,
                                  const std::string& alt_names, EVP_PKEY* subject_key,
                                  const Validity& validity) {
  auto cert = NewCert(name, validity, subject_key);
  if (!cert.ok()) return cert.status();
  X509* x = cert->get();
  if (X509_set_issuer_name(x, X509_get_subject_name(ca.cert.get())) != 1) {
    return OpensslError("issuer");
  }
  X509V3_CTX context;
  X509V3_set_ctx(&context, ca.cert.get(), x, nullptr, nullptr, 0);
  REEL_RETURN_IF_ERROR(AddExtension(x, &context, NID_basic_constraints, "critical,CA:FALSE"));
  REEL_RETURN_IF_ERROR(
      AddExtension(x, &context, NID_key_usage, "critical,digitalSignature,keyAgreement"));
  REEL_RETURN_IF_ERROR(AddExtension(x, &context, NID_ext_key_usage, "serverAuth,clientAuth"));
  REEL_RETURN_IF_ERROR(AddExtension(x, &context, NID_subject_alt_name, alt_names));
  REEL_RETURN_IF_ERROR(AddExtension(x, &context, NID_subject_key_identifier, "hash"));
  REEL_RETURN_IF_ERROR(AddExtension(x, &context, NID_authority_key_identifier, "keyid:always"));
  if (X509_sign(x, ca.key.get(), EVP_sha256()) == 0) return OpensslError("X509_sign");
  return CertToPem(x);
}

Result<ReqPtr> ParseRequest(std::string_view pem) {
  if (pem.size() > limits::tls_pem_file_bytes_max) {
    return Status::InvalidArgument("certificate request PEM too large");
  }
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) return OpensslError("BIO_new_mem_buf");
  ReqPtr request(PEM_read_bio_X509_REQ(bio.get(), nullptr, nullptr, nullptr));
  if (!request) {
    ERR_clear_error();
    return Status::InvalidArgument("not a PEM certificate request (BEGIN CERTIFICATE REQUEST)");
  }
  return request;
}

// The request's subject CN, once its self-signature holds (whoever made it holds the key).
Result<std::string> CheckedRequestName(X509_REQ* request) {
  EVP_PKEY* key = X509_REQ_get0_pubkey(request);
  if (key == nullptr || X509_REQ_verify(request, key) != 1) {
    ERR_clear_error();
    return Status::InvalidArgument(
        "the request's signature does not hold (altered, or not "
        "signed by its own key)");
  }
  char buffer[256];
  const int size = X509_NAME_get_text_by_NID(X509_REQ_get_subject_name(request), NID_commonName,
                                             buffer, sizeof(buffer));
  if (size < 0) {
    ERR_clear_error();
    return Status::InvalidArgument("the request has no subject CN (the node's DNS name)");
  }
  std::string name(buffer, static_cast<size_t>(size));
  REEL_RETURN_IF_ERROR(CheckNodeName(name));
  return name;
}

}  // namespace

Result<CertAndKey> MakeNodeCert(const CertAndKey& ca, std::string_view name,
                                const std::vector<std::string>& hosts, uint32_t valid_days) {
  return MakeNodeCert(ca, name, hosts, ValidForDays(valid_days));
}

Result<CertAndKey> MakeNodeCert(const CertAndKey& ca, std::string_view name,
                                const std::vector<std::string>& hosts, const Validity& validity) {
  REEL_RETURN_IF_ERROR(CheckNodeName(name));
  std::string alt_names = "DNS:" + std::string(name);
  for (const std::string& host : hosts) {
    if (IsIpAddress(host)) {
      alt_names += ",IP:" + host;
    } else if (IsDnsName(host)) {
      alt_names += ",DNS:" + host;
    } else {
      return Status::InvalidArgument("host is neither an IP address nor a DNS name: " + host);
    }
  }
  auto parsed = ParseCa(ca);
  if (!parsed.ok()) return parsed.status();
  auto key = NewP256Key();
  if (!key.ok()) return key.status();
  auto cert_pem = IssueNodeCert(*parsed, name, alt_names, key->get(), validity);
  if (!cert_pem.ok()) return cert_pem.status();
  auto key_pem = KeyToPem(key->get());
  if (!key_pem.ok()) return key_pem.status();
  return CertAndKey{std::move(cert_pem).value(), std::move(key_pem).value()};
}

Result<std::string> NewKeyPem() {
  auto key = NewP256Key();
  if (!key.ok()) return key.status();
  return KeyToPem(key->get());
}

Result<std::string> MakeCertRequest(std::string_view name, std::string_view key_pem) {
  REEL_RETURN_IF_ERROR(CheckNodeName(name));
  auto key = ParseKey(key_pem);
  if (!key.ok()) return key.status();
  ReqPtr request(X509_REQ_new());
  if (!request || X509_REQ_set_version(request.get(), X509_REQ_VERSION_1) != 1) {
    return OpensslError("X509_REQ_new");
  }
  X509_NAME* subject = X509_REQ_get_subject_name(request.get());
  if (X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_UTF8,
                                 reinterpret_cast<const unsigned char*>(name.data()),
                                 static_cast<int>(name.size()), -1, 0) != 1 ||
      X509_REQ_set_pubkey(request.get(), key->get()) != 1) {
    return OpensslError("certificate request subject");
  }
  // The DNS name as a requested subjectAltName too, so that the request reads as what it
  // asks for in any tool; the CA writes its own extensions (SignCertRequest).
  STACK_OF(X509_EXTENSION)* extensions = sk_X509_EXTENSION_new_null();
  X509_EXTENSION* alt_name = X509V3_EXT_conf_nid(nullptr, nullptr, NID_subject_alt_name,
                                                 ("DNS:" + std::string(name)).c_str());
  const bool added = extensions != nullptr && alt_name != nullptr &&
                     sk_X509_EXTENSION_push(extensions, alt_name) > 0 &&
                     X509_REQ_add_extensions(request.get(), extensions) == 1;
  if (extensions != nullptr) sk_X509_EXTENSION_pop_free(extensions, X509_EXTENSION_free);
  if (!added) return OpensslError("certificate request subjectAltName");
  if (X509_REQ_sign(request.get(), key->get(), EVP_sha256()) == 0) {
    return OpensslError("X509_REQ_sign");
  }
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_X509_REQ(bio.get(), request.get()) != 1) {
    return OpensslError("PEM_write_bio_X509_REQ");
  }
  return BioContents(bio.get());
}

Result<std::string> CertRequestName(std::string_view request_pem) {
  auto request = ParseRequest(request_pem);
  if (!request.ok()) return request.status();
  return CheckedRequestName(request->get());
}

Result<std::string> SignCertRequest(const CertAndKey& ca, std::string_view request_pem,
                                    const Validity& validity) {
  auto request = ParseRequest(request_pem);
  if (!request.ok()) return request.status();
  auto name = CheckedRequestName(request->get());
  if (!name.ok()) return name.status();
  auto parsed = ParseCa(ca);
  if (!parsed.ok()) return parsed.status();
  return IssueNodeCert(*parsed, *name, "DNS:" + *name, X509_REQ_get0_pubkey(request->get()),
                       validity);
}

namespace {

// Every peer call checks the other side's certificate by its fingerprint, and a
// node meets the same few certificates again and again: parsing the PEM each time
// cost about a tenth of a node's CPU under load. Remembered by the PEM text, which
// is what the fingerprint is a pure function of; bounded, cleared when full.
class FingerprintCache {
 public:
  std::optional<std::string> Find(std::string_view pem) {
    MutexLock lock(&mu_);
    auto it = entries_.find(pem);
    if (it == entries_.end()) return std::nullopt;
    return it->second;
  }
  void Add(std::string_view pem, const std::string& sha256) {
    MutexLock lock(&mu_);
    if (entries_.size() >= limits::tls_fingerprint_cache_entries_max) entries_.clear();
    entries_.emplace(std::string(pem), sha256);
  }

 private:
  Mutex mu_;
  std::map<std::string, std::string, std::less<>> entries_ REEL_GUARDED_BY(mu_);
};

FingerprintCache& Fingerprints() {
  static FingerprintCache* cache = new FingerprintCache();  // never destroyed: used at exit
  return *cache;
}

}  // namespace

Result<std::string> CertSha256(std::string_view cert_pem) {
  if (std::optional<std::string> known = Fingerprints().Find(cert_pem)) return *known;
  auto cert = ParseCert(cert_pem);
  if (!cert.ok()) return cert.status();
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  if (X509_digest(cert->get(), EVP_sha256(), digest, &size) != 1 || size != 32) {
    return OpensslError("X509_digest");
  }
  std::string sha256(reinterpret_cast<const char*>(digest), size);
  Fingerprints().Add(cert_pem, sha256);
  return sha256;
}

Status CheckCertAndKey(const CertAndKey& material) {
  auto cert = ParseCert(material.cert_pem);
  if (!cert.ok()) return cert.status();
  auto key = ParseKey(material.key_pem);
  if (!key.ok()) return key.status();
  if (X509_check_private_key(cert->get(), key->get()) != 1) {
    ERR_clear_error();
    return Status::InvalidArgument("private key does not match the certificate");
  }
  return Status::Ok();
}

Result<std::string> CertCommonName(std::string_view cert_pem) {
  auto cert = ParseCert(cert_pem);
  if (!cert.ok()) return cert.status();
  char buffer[256];
  const int size = X509_NAME_get_text_by_NID(X509_get_subject_name(cert->get()), NID_commonName,
                                             buffer, sizeof(buffer));
  if (size < 0) {
    ERR_clear_error();
    return Status::NotFound("certificate has no subject CN");
  }
  return std::string(buffer, static_cast<size_t>(size));
}

Status CheckCaCert(std::string_view ca_pem) {
  auto cert = ParseCert(ca_pem);
  if (!cert.ok()) return cert.status();
  if (X509_check_ca(cert->get()) < 1) {
    return Status::InvalidArgument("not a CA certificate (it lacks basicConstraints CA:TRUE)");
  }
  return Status::Ok();
}

Status CheckIssuedBy(std::string_view cert_pem, std::string_view ca_pem) {
  auto cert = ParseCert(cert_pem);
  if (!cert.ok()) return cert.status();
  auto ca = ParseCert(ca_pem);
  if (!ca.ok()) return Status::InvalidArgument("CA: " + ca.status().message());
  StorePtr store(X509_STORE_new());
  StoreContextPtr context(X509_STORE_CTX_new());
  if (!store || !context || X509_STORE_add_cert(store.get(), ca->get()) != 1 ||
      X509_STORE_CTX_init(context.get(), store.get(), cert->get(), nullptr) != 1) {
    return OpensslError("certificate store");
  }
  // A peer certificate is used both ways (mutual TLS); checking one purpose checks the
  // chain, the validity period and the CA's constraints.
  X509_STORE_CTX_set_purpose(context.get(), X509_PURPOSE_SSL_SERVER);
  if (X509_verify_cert(context.get()) != 1) {
    const int error = X509_STORE_CTX_get_error(context.get());
    ERR_clear_error();
    return Status::InvalidArgument(std::string("does not chain to the CA: ") +
                                   X509_verify_cert_error_string(error));
  }
  return Status::Ok();
}

Result<std::vector<std::string>> CertDnsNames(std::string_view cert_pem) {
  auto cert = ParseCert(cert_pem);
  if (!cert.ok()) return cert.status();
  NamesPtr names(static_cast<GENERAL_NAMES*>(
      X509_get_ext_d2i(cert->get(), NID_subject_alt_name, nullptr, nullptr)));
  std::vector<std::string> dns;
  for (int i = 0; names && i < sk_GENERAL_NAME_num(names.get()); ++i) {
    const GENERAL_NAME* name = sk_GENERAL_NAME_value(names.get(), i);
    if (name->type != GEN_DNS) continue;
    const ASN1_STRING* text = name->d.dNSName;
    dns.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(text)),
                     static_cast<size_t>(ASN1_STRING_length(text)));
  }
  ERR_clear_error();
  return dns;
}

Status WriteCertPemFile(const std::string& path, std::string_view cert_pem) {
  return WriteFileWithMode(path, cert_pem, 0644);
}

Status WriteKeyPemFile(const std::string& path, std::string_view key_pem) {
  return WriteFileWithMode(path, key_pem, 0600);
}

Result<std::string> ReadCertPemFile(const std::string& path) {
  return ReadBoundedFile(path, /*private_key=*/false);
}

Result<std::string> ReadKeyPemFile(const std::string& path) {
  return ReadBoundedFile(path, /*private_key=*/true);
}

Status WriteCertAndKey(const std::string& directory, std::string_view base,
                       const CertAndKey& material) {
  const std::string stem = directory + "/" + std::string(base);
  REEL_RETURN_IF_ERROR(WriteKeyPemFile(stem + ".key", material.key_pem));
  return WriteCertPemFile(stem + ".crt", material.cert_pem);
}

Result<CertAndKey> ReadCertAndKey(const std::string& directory, std::string_view base) {
  const std::string stem = directory + "/" + std::string(base);
  auto cert = ReadCertPemFile(stem + ".crt");
  if (!cert.ok()) return cert.status();
  auto key = ReadKeyPemFile(stem + ".key");
  if (!key.ok()) return key.status();
  return CertAndKey{std::move(cert).value(), std::move(key).value()};
}

}  // namespace reel::net
