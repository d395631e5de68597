// genesis.json: strict proto3 JSON parsing and semantic validation. Each broken
// genesis must be refused with a message naming the file and the field path.
#include "node/config/genesis.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "tests/daemon/daemon_test_util.h"

namespace reel::daemon {
namespace {

using reel::v1::Genesis;
using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr std::string_view kFile = "/h/config/genesis.json";

crypto::PublicKey Key(uint8_t fill) {
  crypto::PublicKey key;
  key.fill(fill);
  return key;
}

Genesis Valid() {
  return testing::ValidGenesis({Key(1), Key(2), Key(3), Key(4)});
}

TEST(GenesisTest, ValidGenesisRoundTripsThroughJson) {
  Genesis genesis = Valid();
  ASSERT_OK(config::ValidateGenesis(genesis, kFile));
  Result<Genesis> parsed = config::ParseGenesisJson(testing::GenesisJson(genesis), kFile);
  ASSERT_OK(parsed.status());
  EXPECT_EQ(parsed->SerializeAsString(), genesis.SerializeAsString());
  ASSERT_OK(config::ValidateGenesis(*parsed, kFile));
}

TEST(GenesisTest, AcceptsCamelCaseNamesAndStringNumbers) {
  Result<Genesis> parsed = config::ParseGenesisJson(
      R"({"chainId": "c", "genesisTimeMs": "1735660800000", "consensus": {"blockTxsMax": 10}})",
      kFile);
  ASSERT_OK(parsed.status());
  EXPECT_EQ(parsed->chain_id(), "c");
  EXPECT_EQ(parsed->genesis_time_ms(), 1735660800000u);
}

TEST(GenesisTest, UnknownFieldsAndBadJsonAreRefusedNamingTheFile) {
  for (std::string_view json : {R"({"chain_id": "c", "chain_idd": "c"})",
                                R"({"chain_id": "c", "validators": [{"nam": "x"}]})",
                                R"({"chain_id": )", R"({"orgs": [{"kind": "ORG_KIND_BANK"}]})",
                                R"({"validators": [{"public_key": "not base64!"}]})"}) {
    Result<Genesis> parsed = config::ParseGenesisJson(json, kFile);
    ASSERT_FALSE(parsed.ok()) << json;
    EXPECT_EQ(parsed.status().code(), Code::kInvalidArgument);
    EXPECT_THAT(parsed.status().message(),
                StartsWith(std::string(kFile) + ": not a valid reel.v1.Genesis: "))
        << json;
  }
  EXPECT_THAT(config::ParseGenesisJson(R"({"chain_idd": "c"})", kFile).status().message(),
              HasSubstr("chain_idd"));
}

struct BrokenCase {
  std::string name;
  std::function<void(Genesis&)> breaks;
  std::string message;  // after "<file>: "
};

TEST(GenesisTest, EachBrokenRuleNamesTheFieldPath) {
  std::vector<BrokenCase> cases = {
      {"empty chain id", [](Genesis& g) { g.clear_chain_id(); },
       "chain_id: must be 1 to 64 bytes, got 0"},
      {"long chain id", [](Genesis& g) { g.set_chain_id(std::string(65, 'c')); },
       "chain_id: must be 1 to 64 bytes, got 65"},
      {"control char in chain id", [](Genesis& g) { g.set_chain_id("a\nb"); },
       "chain_id: must not contain control characters"},
      {"no time", [](Genesis& g) { g.clear_genesis_time_ms(); }, "genesis_time_ms: must be set"},
      {"ca not a pem", [](Genesis& g) { g.set_tls_ca_pem("MIIB..."); },
       "tls_ca_pem: expected a PEM certificate"},
      {"no validators", [](Genesis& g) { g.clear_validators(); },
       "validators: at least one validator is needed"},
      {"short key",
       [](Genesis& g) { g.mutable_validators(2)->set_public_key(std::string(31, 'k')); },
       "validators[2].public_key: expected 32 bytes, got 31"},
      {"duplicate key",
       [](Genesis& g) { g.mutable_validators(3)->set_public_key(g.validators(0).public_key()); },
       "validators[3].public_key: the same key as an earlier validator"},
      {"duplicate name", [](Genesis& g) { g.mutable_validators(1)->set_name("miit-1"); },
       "validators[1].name: \"miit-1\" is already the name of an earlier validator"},
      {"empty name", [](Genesis& g) { g.mutable_validators(0)->clear_name(); },
       "validators[0].name: expected 1 to 64 printable bytes"},
      {"bad address", [](Genesis& g) { g.mutable_validators(1)->set_address("10.0.0.2"); },
       "validators[1].address: expected \"host:port\", got \"10.0.0.2\""},
      {"no org of validator", [](Genesis& g) { g.mutable_validators(1)->clear_org_id(); },
       "validators[1].org_id: must name the organisation"},
      {"no certificate", [](Genesis& g) { g.mutable_validators(2)->clear_tls_cert_sha256(); },
       "validators[2]: needs tls_cert_pem or tls_cert_sha256"},
      {"short fingerprint",
       [](Genesis& g) { g.mutable_validators(2)->set_tls_cert_sha256(std::string(20, 'f')); },
       "validators[2].tls_cert_sha256: expected 32 bytes, got 20"},
      {"not a pem", [](Genesis& g) { g.mutable_validators(0)->set_tls_cert_pem("hello"); },
       "validators[0].tls_cert_pem: expected a PEM certificate"},
      {"no orgs", [](Genesis& g) { g.clear_orgs(); }, "orgs: at least one organisation is needed"},
      {"no regulator", [](Genesis& g) { g.mutable_orgs(0)->set_roles(0, reel::v1::ROLE_CUSTOMS); },
       "orgs: no organisation holds ROLE_REGULATOR"},
      {"bad org id", [](Genesis& g) { g.mutable_orgs(1)->set_org_id("Northern RE"); },
       "orgs[1].org_id: expected [a-z0-9][a-z0-9._-]{1,62}, got \"Northern RE\""},
      {"duplicate org", [](Genesis& g) { g.mutable_orgs(1)->set_org_id("miit"); },
       "orgs[1].org_id: \"miit\" is registered twice"},
      {"org kind", [](Genesis& g) { g.mutable_orgs(0)->set_kind(reel::v1::ORG_KIND_UNSPECIFIED); },
       "orgs[0].kind: must be a known ORG_KIND_*"},
      {"unspecified role",
       [](Genesis& g) { g.mutable_orgs(1)->add_roles(reel::v1::ROLE_UNSPECIFIED); },
       "orgs[1].roles[1]: must be a known ROLE_*"},
      {"role twice", [](Genesis& g) { g.mutable_orgs(1)->add_roles(reel::v1::ROLE_MINER); },
       "orgs[1].roles[1]: listed twice"},
      {"short signatory key",
       [](Genesis& g) { g.mutable_orgs(1)->add_signatory_keys(std::string(33, 's')); },
       "orgs[1].signatory_keys[1]: expected 32 bytes, got 33"},
      {"no signatory keys", [](Genesis& g) { g.mutable_orgs(1)->clear_signatory_keys(); },
       "orgs[1].signatory_keys: expected 1 to 16 keys"},
      {"quorum too high", [](Genesis& g) { g.mutable_orgs(0)->set_quorum(2); },
       "orgs[0].quorum: must be between 1 and the number of signatory keys (1), got 2"},
      {"site of unknown org", [](Genesis& g) { g.mutable_sites(0)->set_org_id("nobody"); },
       "sites[0].org_id: \"nobody\" is not one of the genesis orgs"},
      {"bad site id", [](Genesis& g) { g.mutable_sites(0)->set_site_id("bayan obo"); },
       "sites[0].site_id: expected [A-Za-z0-9._:-]{1,64}"},
      {"site kind", [](Genesis& g) { g.mutable_sites(0)->clear_kind(); },
       "sites[0].kind: must be a known SITE_KIND_*"},
      {"quota of unknown org", [](Genesis& g) { g.mutable_quotas(0)->set_org_id("nobody"); },
       "quotas[0].org_id: \"nobody\" is not one of the genesis orgs"},
      {"quota year", [](Genesis& g) { g.mutable_quotas(0)->set_year(1999); },
       "quotas[0].year: must be between 2000 and 2200"},
      {"negative quota", [](Genesis& g) { g.mutable_quotas(0)->set_amount_g(-1); },
       "quotas[0].amount_g: must not be negative"},
      {"timeout above max",
       [](Genesis& g) {
         g.mutable_consensus()->set_round_timeout_ms(5000);
         g.mutable_consensus()->set_round_timeout_max_ms(1000);
       },
       "consensus.round_timeout_ms: must not exceed consensus.round_timeout_max_ms"},
      // Checked on the values the node runs with: a zero field is its default.
      {"timeout above the default max",
       [](Genesis& g) { g.mutable_consensus()->set_round_timeout_ms(40'000); },
       "consensus.round_timeout_ms: must not exceed consensus.round_timeout_max_ms (40000 ms "
       "above 30000 ms)"},
      {"max below the default timeout",
       [](Genesis& g) { g.mutable_consensus()->set_round_timeout_max_ms(500); },
       "consensus.round_timeout_ms: must not exceed consensus.round_timeout_max_ms (1000 ms "
       "above 500 ms)"},
      {"shrinking backoff",
       [](Genesis& g) { g.mutable_consensus()->set_round_timeout_backoff_percent(90); },
       "consensus.round_timeout_backoff_percent: must be above 100"},
      {"too many txs", [](Genesis& g) { g.mutable_consensus()->set_block_txs_max(2001); },
       "consensus.block_txs_max: must not exceed 2000"},
      {"too many bytes",
       [](Genesis& g) { g.mutable_consensus()->set_block_bytes_max(9 * 1024 * 1024); },
       "consensus.block_bytes_max: must be between 262144 and 8388608, or 0 for the default"},
      {"too few bytes for the largest transaction",
       [](Genesis& g) { g.mutable_consensus()->set_block_bytes_max(100 * 1024); },
       "consensus.block_bytes_max: must be between 262144 and 8388608"},
      {"clocks held too close",
       [](Genesis& g) { g.mutable_consensus()->set_clock_drift_max_ms(200); },
       "consensus.clock_drift_max_ms: must be between 1000 and 3600000 ms"},
      // Ceilings: a cap or drift near 2^64 would wrap the timer arithmetic and stop the
      // chain with no block left to change it back in.
      {"cap that would wrap the deadline",
       [](Genesis& g) {
         g.mutable_consensus()->set_round_timeout_max_ms(std::numeric_limits<uint64_t>::max());
       },
       "consensus.round_timeout_max_ms: must not exceed 600000 ms"},
      {"cap over ten minutes",
       [](Genesis& g) { g.mutable_consensus()->set_round_timeout_max_ms(600'001); },
       "consensus.round_timeout_max_ms: must not exceed 600000 ms"},
      {"backoff over x10",
       [](Genesis& g) { g.mutable_consensus()->set_round_timeout_backoff_percent(1001); },
       "consensus.round_timeout_backoff_percent: must be above 100 (the timer must grow) and "
       "at most 1000"},
      {"drift that would wrap the clock check",
       [](Genesis& g) {
         g.mutable_consensus()->set_clock_drift_max_ms(std::numeric_limits<uint64_t>::max());
       },
       "consensus.clock_drift_max_ms: must be between 1000 and 3600000 ms"},
      {"first timer below the default idle interval",
       [](Genesis& g) { g.mutable_consensus()->set_round_timeout_ms(400); },
       "consensus.idle_block_interval_ms: must be below the first round timer (500 ms, timer "
       "400 ms)"},
      {"block interval above the default idle interval",
       [](Genesis& g) { g.mutable_consensus()->set_block_interval_min_ms(800); },
       "consensus.idle_block_interval_ms: must not be below consensus.block_interval_min_ms "
       "(500 ms below 800 ms)"},
      {"governance without orgs", [](Genesis& g) { g.mutable_governance(); },
       "governance.governing_org_ids: at least one organisation must govern"},
      {"governance of unknown org",
       [](Genesis& g) { g.mutable_governance()->add_governing_org_ids("nobody"); },
       "governance.governing_org_ids[0]: \"nobody\" is not one of the genesis orgs"},
      {"governing org twice",
       [](Genesis& g) {
         g.mutable_governance()->add_governing_org_ids("miit");
         g.mutable_governance()->add_governing_org_ids("miit");
       },
       "governance.governing_org_ids[1]: \"miit\" is listed twice"},
      {"more approvals than governors",
       [](Genesis& g) {
         g.mutable_governance()->add_governing_org_ids("miit");
         g.mutable_governance()->set_approvals_required(2);
       },
       "governance.approvals_required: must be between 1 and the number of governing "
       "organisations (1)"},
  };
  for (const BrokenCase& c : cases) {
    Genesis genesis = Valid();
    c.breaks(genesis);
    Status status = config::ValidateGenesis(genesis, kFile);
    EXPECT_EQ(status.code(), Code::kInvalidArgument) << c.name;
    EXPECT_THAT(status.message(), StartsWith(std::string(kFile) + ": " + c.message)) << c.name;
  }
}

TEST(GenesisTest, TooManyValidatorsIsRefused) {
  std::vector<crypto::PublicKey> keys;
  for (int i = 0; i < 101; ++i) keys.push_back(Key(static_cast<uint8_t>(i)));
  EXPECT_THAT(config::ValidateGenesis(testing::ValidGenesis(keys), kFile).message(),
              HasSubstr("validators: at most 100 validators, got 101"));
}

// A genesis being assembled (reel genesis new, add-validator, add-org) may lack
// validators, organisations and a regulator, but not be wrong in what it has.
TEST(GenesisTest, DraftMayBeIncompleteButNotWrong) {
  Genesis draft = Valid();
  draft.clear_validators();
  draft.clear_orgs();
  draft.clear_sites();
  draft.clear_quotas();
  EXPECT_OK(config::ValidateGenesisDraft(draft, kFile));
  EXPECT_FALSE(config::ValidateGenesis(draft, kFile).ok());

  Genesis without_regulator = Valid();
  for (reel::v1::RegisterOrg& org : *without_regulator.mutable_orgs()) org.clear_roles();
  EXPECT_OK(config::ValidateGenesisDraft(without_regulator, kFile));
  EXPECT_THAT(config::ValidateGenesis(without_regulator, kFile).message(),
              HasSubstr("ROLE_REGULATOR"));

  Genesis wrong = Valid();
  wrong.mutable_validators(1)->set_address("no-port");
  EXPECT_THAT(config::ValidateGenesisDraft(wrong, kFile).message(),
              StartsWith(std::string(kFile) + ": validators[1].address: "));
}

TEST(GenesisTest, LoadGenesisReadsValidatesAndNamesTheFile) {
  testing::TempDir dir;
  std::string path = dir.Sub("genesis.json");
  EXPECT_EQ(config::LoadGenesis(path).status().code(), Code::kNotFound);
  EXPECT_THAT(config::LoadGenesis(path).status().message(), HasSubstr(path));

  testing::WriteFile(path, testing::GenesisJson(Valid()));
  Result<Genesis> loaded = config::LoadGenesis(path);
  ASSERT_OK(loaded.status());
  EXPECT_EQ(config::FindValidator(*loaded, Key(3)), std::optional<size_t>(2));
  EXPECT_EQ(config::FindValidator(*loaded, Key(9)), std::nullopt);

  Genesis broken = Valid();
  broken.mutable_validators(0)->set_public_key("short");
  testing::WriteFile(path, testing::GenesisJson(broken));
  EXPECT_EQ(config::LoadGenesis(path).status().message(),
            path + ": validators[0].public_key: expected 32 bytes, got 5");
}

}  // namespace
}  // namespace reel::daemon
