// node/net/tls.h and peer_set.h: the certificates they make are what TLS and genesis
// need, files are written with the right modes, and genesis is checked.
#include "node/net/tls.h"

#include <gtest/gtest.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>

#include <memory>

#include "net_test_util.h"
#include "node/net/peer_set.h"
#include "tests/test_util.h"

namespace reel::net {
namespace {

using testing::MakeGenesis;
using testing::TempDir;
using testing::Unwrap;

struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
using X509Ptr = std::unique_ptr<X509, X509Free>;

X509Ptr Parse(const std::string& pem) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  X509Ptr cert(PEM_read_bio_X509(bio, nullptr, nullptr, nullptr));
  BIO_free(bio);
  return cert;
}

// What a TLS peer would conclude: X509_V_OK if `leaf` chains to `ca` and is in date.
int VerifyAgainst(const std::string& ca_pem, const std::string& leaf_pem) {
  X509Ptr ca = Parse(ca_pem);
  X509Ptr leaf = Parse(leaf_pem);
  if (!ca || !leaf) return -1;
  X509_STORE* store = X509_STORE_new();
  X509_STORE_add_cert(store, ca.get());
  X509_STORE_CTX* context = X509_STORE_CTX_new();
  X509_STORE_CTX_init(context, store, leaf.get(), nullptr);
  const int ok = X509_verify_cert(context);
  const int error = ok == 1 ? X509_V_OK : X509_STORE_CTX_get_error(context);
  X509_STORE_CTX_free(context);
  X509_STORE_free(store);
  return error;
}

TEST(Tls, NodeCertChainsToItsCaAndNamesTheValidator) {
  const CertAndKey ca = Unwrap(MakeCa("reel-test-ca", 30));
  const CertAndKey node = Unwrap(MakeNodeCert(ca, "miit-1", {"127.0.0.1", "node1.example"}, 30));
  EXPECT_EQ(VerifyAgainst(ca.cert_pem, node.cert_pem), X509_V_OK);
  EXPECT_EQ(VerifyAgainst(ca.cert_pem, ca.cert_pem), X509_V_OK);
  EXPECT_EQ(Unwrap(CertCommonName(node.cert_pem)), "miit-1");

  X509Ptr cert = Parse(node.cert_pem);
  ASSERT_TRUE(cert);
  EXPECT_EQ(X509_check_host(cert.get(), "miit-1", 0, 0, nullptr), 1);
  EXPECT_EQ(X509_check_host(cert.get(), "node1.example", 0, 0, nullptr), 1);
  EXPECT_EQ(X509_check_ip_asc(cert.get(), "127.0.0.1", 0), 1);
  EXPECT_NE(X509_check_host(cert.get(), "mofcom-1", 0, 0, nullptr), 1);
  EXPECT_EQ(X509_check_ca(cert.get()), 0);  // a node certificate cannot sign others
}

TEST(Tls, CertFromAnotherCaOrExpiredDoesNotVerify) {
  const CertAndKey ca = Unwrap(MakeCa("reel-test-ca", 30));
  const CertAndKey other_ca = Unwrap(MakeCa("reel-test-ca", 30));  // same name, other key
  const CertAndKey foreign = Unwrap(MakeNodeCert(other_ca, "miit-1", {}, 30));
  EXPECT_NE(VerifyAgainst(ca.cert_pem, foreign.cert_pem), X509_V_OK);

  Validity past;
  past.not_before_from_now = std::chrono::hours(-48);
  past.not_after_from_now = std::chrono::hours(-24);
  const CertAndKey expired = Unwrap(MakeNodeCert(ca, "miit-1", {}, past));
  EXPECT_EQ(VerifyAgainst(ca.cert_pem, expired.cert_pem), X509_V_ERR_CERT_HAS_EXPIRED);
}

TEST(Tls, RefusesNamesThatAreNotDnsNames) {
  const CertAndKey ca = Unwrap(MakeCa("reel-test-ca", 30));
  EXPECT_FALSE(MakeNodeCert(ca, "", {}, 30).ok());
  EXPECT_FALSE(MakeNodeCert(ca, "miit 1", {}, 30).ok());
  // A comma would smuggle another subjectAltName into the extension string.
  EXPECT_FALSE(MakeNodeCert(ca, "miit-1,DNS:evil", {}, 30).ok());
  EXPECT_FALSE(MakeNodeCert(ca, "miit-1", {"evil,DNS:x"}, 30).ok());
  EXPECT_FALSE(MakeNodeCert(CertAndKey{ca.cert_pem, "garbage"}, "miit-1", {}, 30).ok());
  Validity backwards;
  backwards.not_before_from_now = std::chrono::hours(1);
  backwards.not_after_from_now = std::chrono::hours(-1);
  EXPECT_FALSE(MakeNodeCert(ca, "miit-1", {}, backwards).ok());
}

// The path of a real chain (reel node request, reel ca sign): the key stays with the
// node, and the certificate from its request is the kind MakeNodeCert makes.
TEST(Tls, SignedRequestChainsToTheCaAndMatchesTheNodeKey) {
  const CertAndKey ca = Unwrap(MakeCa("reel-test-ca", 30));
  const std::string key = Unwrap(NewKeyPem());
  const std::string request = Unwrap(MakeCertRequest("node1.miit.example", key));
  EXPECT_EQ(Unwrap(CertRequestName(request)), "node1.miit.example");
  const std::string cert = Unwrap(SignCertRequest(ca, request, ValidForDays(30)));
  EXPECT_OK(CheckCertAndKey(CertAndKey{cert, key}));
  EXPECT_EQ(VerifyAgainst(ca.cert_pem, cert), X509_V_OK);
  EXPECT_OK(CheckIssuedBy(cert, ca.cert_pem));
  EXPECT_EQ(Unwrap(CertCommonName(cert)), "node1.miit.example");
  EXPECT_EQ(Unwrap(CertDnsNames(cert)), std::vector<std::string>{"node1.miit.example"});
  X509Ptr parsed = Parse(cert);
  ASSERT_TRUE(parsed);
  EXPECT_EQ(X509_check_ca(parsed.get()), 0);
  EXPECT_EQ(X509_check_purpose(parsed.get(), X509_PURPOSE_SSL_CLIENT, 0), 1);
  EXPECT_EQ(X509_check_purpose(parsed.get(), X509_PURPOSE_SSL_SERVER, 0), 1);
}

TEST(Tls, RefusesBadRequestsAndForeignCertificates) {
  const CertAndKey ca = Unwrap(MakeCa("reel-test-ca", 30));
  const std::string key = Unwrap(NewKeyPem());
  EXPECT_FALSE(MakeCertRequest("node 1", key).ok());
  EXPECT_FALSE(MakeCertRequest("node1", "garbage").ok());
  EXPECT_FALSE(CertRequestName("garbage").ok());
  EXPECT_FALSE(SignCertRequest(ca, ca.cert_pem, ValidForDays(30)).ok());

  // An altered request no longer carries its own signature.
  std::string request = Unwrap(MakeCertRequest("node1", key));
  const size_t body = request.find('\n') + 40;
  request[body] = request[body] == 'A' ? 'B' : 'A';
  EXPECT_FALSE(SignCertRequest(ca, request, ValidForDays(30)).ok());

  const CertAndKey other_ca = Unwrap(MakeCa("reel-test-ca", 30));
  const CertAndKey foreign = Unwrap(MakeNodeCert(other_ca, "node1", {}, 30));
  const Status refused = CheckIssuedBy(foreign.cert_pem, ca.cert_pem);
  EXPECT_FALSE(refused.ok());
  EXPECT_NE(refused.message().find("does not chain to the CA"), std::string::npos);
  EXPECT_OK(CheckCaCert(ca.cert_pem));
  EXPECT_FALSE(CheckCaCert(foreign.cert_pem).ok());
}

TEST(Tls, Sha256IsOfTheDerBytes) {
  const CertAndKey ca = Unwrap(MakeCa("reel-test-ca", 30));
  const CertAndKey a = Unwrap(MakeNodeCert(ca, "a", {}, 30));
  const CertAndKey b = Unwrap(MakeNodeCert(ca, "a", {}, 30));
  const std::string sha_a = Unwrap(CertSha256(a.cert_pem));
  EXPECT_EQ(sha_a.size(), 32u);
  EXPECT_NE(sha_a, Unwrap(CertSha256(b.cert_pem)));
  // The same certificate with other surroundings has the same fingerprint.
  EXPECT_EQ(Unwrap(CertSha256("\n" + a.cert_pem + "\n")), sha_a);

  X509Ptr cert = Parse(a.cert_pem);
  unsigned char* der = nullptr;
  const int der_size = i2d_X509(cert.get(), &der);
  ASSERT_GT(der_size, 0);
  unsigned char digest[32];
  EVP_Digest(der, static_cast<size_t>(der_size), digest, nullptr, EVP_sha256(), nullptr);
  OPENSSL_free(der);
  EXPECT_EQ(sha_a, std::string(reinterpret_cast<char*>(digest), 32));
  EXPECT_FALSE(CertSha256("not a certificate").ok());
}

TEST(Tls, KeyFilesAreWrittenPrivateAndRefusedWhenExposed) {
  TempDir dir;
  const CertAndKey ca = Unwrap(MakeCa("reel-test-ca", 30));
  ASSERT_OK(WriteCertAndKey(dir.path(), "ca", ca));
  struct stat info;
  ASSERT_EQ(::stat((dir.path() + "/ca.key").c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600u);
  ASSERT_EQ(::stat((dir.path() + "/ca.crt").c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0644u);

  const CertAndKey read = Unwrap(ReadCertAndKey(dir.path(), "ca"));
  EXPECT_EQ(read.cert_pem, ca.cert_pem);
  EXPECT_EQ(read.key_pem, ca.key_pem);

  ASSERT_EQ(::chmod((dir.path() + "/ca.key").c_str(), 0640), 0);
  const auto exposed = ReadKeyPemFile(dir.path() + "/ca.key");
  ASSERT_FALSE(exposed.ok());
  EXPECT_EQ(exposed.status().code(), Code::kPermissionDenied);
  // Rewriting an existing key file makes it private again.
  ASSERT_OK(WriteKeyPemFile(dir.path() + "/ca.key", ca.key_pem));
  EXPECT_OK(ReadKeyPemFile(dir.path() + "/ca.key"));
}

TEST(PeerSet, MapsCertificatesToValidatorIndexes) {
  const CertAndKey ca = Unwrap(MakeCa("reel-test-ca", 30));
  const CertAndKey v0 = Unwrap(MakeNodeCert(ca, "v0", {}, 30));
  const CertAndKey v1 = Unwrap(MakeNodeCert(ca, "v1", {}, 30));
  const CertAndKey outsider = Unwrap(MakeNodeCert(ca, "v2", {}, 30));
  reel::v1::Genesis genesis = MakeGenesis(ca.cert_pem, {{"v0", v0}, {"v1", v1}});
  // v1 named by fingerprint only.
  genesis.mutable_validators(1)->clear_tls_cert_pem();
  genesis.mutable_validators(1)->set_tls_cert_sha256(Unwrap(CertSha256(v1.cert_pem)));
  const PeerSet peers = Unwrap(PeerSet::FromGenesis(genesis));
  EXPECT_EQ(peers.IndexOfCert(v0.cert_pem), 0u);
  EXPECT_EQ(peers.IndexOfCert(v1.cert_pem), 1u);
  EXPECT_EQ(peers.IndexOfCert(outsider.cert_pem), std::nullopt);
  EXPECT_EQ(peers.IndexOfCert("junk"), std::nullopt);
  EXPECT_EQ(peers.peer(1).name, "v1");
}

TEST(PeerSet, RefusesGenesisTheTransportCannotTrust) {
  const CertAndKey ca = Unwrap(MakeCa("reel-test-ca", 30));
  const CertAndKey v0 = Unwrap(MakeNodeCert(ca, "v0", {}, 30));
  const CertAndKey v1 = Unwrap(MakeNodeCert(ca, "v1", {}, 30));
  const reel::v1::Genesis good = MakeGenesis(ca.cert_pem, {{"v0", v0}, {"v1", v1}});
  ASSERT_OK(PeerSet::FromGenesis(good));

  reel::v1::Genesis no_ca = good;
  no_ca.clear_tls_ca_pem();
  EXPECT_FALSE(PeerSet::FromGenesis(no_ca).ok());

  reel::v1::Genesis same_name = good;
  same_name.mutable_validators(1)->set_name("v0");
  EXPECT_FALSE(PeerSet::FromGenesis(same_name).ok());

  reel::v1::Genesis same_cert = good;
  same_cert.mutable_validators(1)->set_tls_cert_pem(v0.cert_pem);
  EXPECT_FALSE(PeerSet::FromGenesis(same_cert).ok());

  reel::v1::Genesis mismatch = good;
  mismatch.mutable_validators(0)->set_tls_cert_sha256(Unwrap(CertSha256(v1.cert_pem)));
  EXPECT_FALSE(PeerSet::FromGenesis(mismatch).ok());

  reel::v1::Genesis no_cert = good;
  no_cert.mutable_validators(0)->clear_tls_cert_pem();
  EXPECT_FALSE(PeerSet::FromGenesis(no_cert).ok());

  reel::v1::Genesis bad_name = good;
  bad_name.mutable_validators(0)->set_name("v 0");
  EXPECT_FALSE(PeerSet::FromGenesis(bad_name).ok());
}

}  // namespace
}  // namespace reel::net
