// Test material for tests/net: a temporary directory, TLS identities and genesis.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <string>
#include <vector>

#include "node/net/peer_set.h"
#include "node/net/tls.h"
#include "reel/v1/genesis.pb.h"
#include "tests/test_util.h"

namespace reel::net::testing {

// A directory made with mkdtemp, removed with its contents at the end of the test.
class TempDir {
 public:
  TempDir() {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "reel-net-test-XXXXXX").string();
    const char* made = ::mkdtemp(pattern.data());
    EXPECT_NE(made, nullptr);
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

template <typename T>
T Unwrap(Result<T> result) {
  EXPECT_OK(result);
  if (!result.ok()) std::abort();  // a broken fixture makes every later line meaningless
  return std::move(result).value();
}

// Genesis with validators (name, certificate) and the CA; addresses filled later.
inline reel::v1::Genesis MakeGenesis(const std::string& ca_pem,
                                     const std::vector<std::pair<std::string, CertAndKey>>& vals) {
  reel::v1::Genesis genesis;
  genesis.set_chain_id("reel-net-test");
  genesis.set_tls_ca_pem(ca_pem);
  for (const auto& [name, material] : vals) {
    reel::v1::Validator* validator = genesis.add_validators();
    validator->set_name(name);
    validator->set_tls_cert_pem(material.cert_pem);
  }
  return genesis;
}

}  // namespace reel::net::testing
