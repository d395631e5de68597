// Helpers shared by the daemon tests (beside tests/test_util.h's ASSERT_OK and
// TempDir): a valid genesis to mutate, and files written the way the tools write them.
#pragma once

#include <google/protobuf/util/json_util.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "base/status.h"
#include "crypto/keyfile.h"
#include "crypto/keys.h"
#include "node/net/tls.h"
#include "reel/v1/genesis.pb.h"
#include "reel/v1/types.pb.h"
#include "tests/test_util.h"

namespace reel::daemon::testing {

using ::reel::testing::TempDir;

inline std::string KeyBytes(const crypto::PublicKey& key) {
  return std::string(reinterpret_cast<const char*>(key.data()), key.size());
}

// A genesis that ValidateGenesis accepts: `validator_keys.size()` validators, one
// regulator org holding the first key, one mine and one quota.
inline reel::v1::Genesis ValidGenesis(const std::vector<crypto::PublicKey>& validator_keys,
                                      const std::string& chain_id = "reel-test") {
  reel::v1::Genesis genesis;
  genesis.set_chain_id(chain_id);
  genesis.set_genesis_time_ms(1735660800000);
  for (size_t i = 0; i < validator_keys.size(); ++i) {
    reel::v1::Validator* v = genesis.add_validators();
    v->set_name("miit-" + std::to_string(i + 1));
    v->set_org_id("miit");
    v->set_public_key(KeyBytes(validator_keys[i]));
    v->set_address("127.0.0.1:" + std::to_string(26656 + i));
    v->set_tls_cert_sha256(std::string(32, static_cast<char>(i + 1)));
  }
  reel::v1::RegisterOrg* org = genesis.add_orgs();
  org->set_org_id("miit");
  org->set_name("Ministry of Industry and Information Technology");
  org->set_kind(reel::v1::ORG_KIND_MINISTRY);
  org->add_roles(reel::v1::ROLE_REGULATOR);
  org->add_signatory_keys(KeyBytes(validator_keys.at(0)));
  org->set_quorum(1);
  reel::v1::RegisterOrg* miner = genesis.add_orgs();
  miner->set_org_id("northern-re");
  miner->set_name("Northern Rare Earth Group");
  miner->set_kind(reel::v1::ORG_KIND_STATE_ENTERPRISE);
  miner->add_roles(reel::v1::ROLE_MINER);
  miner->add_signatory_keys(std::string(32, 'm'));
  miner->set_quorum(1);
  reel::v1::RegisterSite* site = genesis.add_sites();
  site->set_site_id("bayan-obo");
  site->set_org_id("northern-re");
  site->set_name("Bayan Obo mine");
  site->set_kind(reel::v1::SITE_KIND_MINE);
  site->set_deposit_type(reel::v1::DEPOSIT_TYPE_ROCK);
  site->set_province("Inner Mongolia");
  reel::v1::SetQuota* quota = genesis.add_quotas();
  quota->set_org_id("northern-re");
  quota->set_year(2025);
  quota->set_category(reel::v1::QUOTA_CATEGORY_MINING_LIGHT);
  quota->set_amount_g(100000000000);
  return genesis;
}

// Gives validator 0 of `genesis` a certificate from a fresh testnet CA, written as
// `tls_dir`/node.crt and node.key, as `reel testnet init` does, so that the node can
// start its peer service.
inline void AddTls(reel::v1::Genesis& genesis, const std::string& tls_dir) {
  auto ca = net::MakeCa("test-ca", 30);
  ASSERT_OK(ca);
  auto cert = net::MakeNodeCert(*ca, genesis.validators(0).name(), {"127.0.0.1"}, 30);
  ASSERT_OK(cert);
  std::filesystem::create_directories(tls_dir);
  ASSERT_OK(net::WriteCertAndKey(tls_dir, "node", *cert));
  genesis.set_tls_ca_pem(ca->cert_pem);
  genesis.mutable_validators(0)->set_tls_cert_pem(cert->cert_pem);
  genesis.mutable_validators(0)->clear_tls_cert_sha256();
}

// The proto3 JSON that `reel testnet init` writes (proto field names).
inline std::string GenesisJson(const reel::v1::Genesis& genesis) {
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  options.add_whitespace = true;
  std::string json;
  auto status = google::protobuf::util::MessageToJsonString(genesis, &json, options);
  EXPECT_OK(status);
  return json;
}

inline void WriteFile(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  ASSERT_TRUE(out.good()) << path;
  out << text;
  ASSERT_TRUE(out.good()) << path;
}

inline std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

}  // namespace reel::daemon::testing
