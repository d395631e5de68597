// node.toml parsing, flag overrides, the home folder and LoadHome. Every error
// message is checked for the file (or flag) and the key it must name.
#include "node/config/config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <string>

#include "crypto/keyfile.h"
#include "node/config/home.h"
#include "tests/daemon/daemon_test_util.h"

namespace reel::daemon {
namespace {

using ::testing::HasSubstr;
using ::testing::MatchesRegex;
using ::testing::StartsWith;
using testing::TempDir;

constexpr std::string_view kFile = "/h/config/node.toml";

Status ParseError(std::string_view toml) {
  Result<config::NodeConfig> config = config::ParseNodeConfig(toml, kFile);
  EXPECT_FALSE(config.ok()) << "parsed: " << toml;
  return config.ok() ? Status::Ok() : config.status();
}

TEST(ConfigTest, DefaultFileParsesToTheDefaults) {
  std::string text = config::DefaultNodeConfigToml("n1");
  Result<config::NodeConfig> config = config::ParseNodeConfig(text, kFile);
  ASSERT_OK(config.status());
  config::NodeConfig defaults;
  for (const config::ConfigKey& key : config::ConfigKeys()) {
    if (key.name == "moniker") continue;
    EXPECT_EQ(config::GetConfigValue(*config, key.name), config::GetConfigValue(defaults, key.name))
        << key.name;
    // Every key is written, with its doc, so the file documents itself.
    size_t dot = key.name.find('.');
    std::string leaf(dot == std::string_view::npos ? key.name : key.name.substr(dot + 1));
    EXPECT_THAT(text, HasSubstr("\n" + leaf + " = ")) << key.name;
    EXPECT_THAT(text, HasSubstr("# " + std::string(key.doc))) << key.name;
  }
  EXPECT_EQ(config->moniker, "n1");
}

TEST(ConfigTest, EmptyFileKeepsDefaults) {
  Result<config::NodeConfig> config = config::ParseNodeConfig("", kFile);
  ASSERT_OK(config.status());
  EXPECT_EQ(config->api.listen, config::NodeConfig().api.listen);
  EXPECT_EQ(config->log.format, config::LogFormat::kText);
}

TEST(ConfigTest, ReadsEveryKind) {
  Result<config::NodeConfig> config = config::ParseNodeConfig(R"(
moniker = "miit-1"
[p2p]
listen = "[::1]:7000"
validator_key_file = ""
[api]
listen = "localhost:9090"
max_message_bytes = 1000000
[metrics]
listen = "127.0.0.1:0"
[mempool]
size_max = 5000
[log]
level = "debug"
format = "json"
[storage]
data_dir = "/var/lib/reel"
)",
                                                              kFile);
  ASSERT_OK(config.status());
  EXPECT_EQ(config->moniker, "miit-1");
  EXPECT_EQ(config->p2p.listen, "[::1]:7000");
  EXPECT_EQ(config->p2p.validator_key_file, "");
  EXPECT_EQ(config->api.max_message_bytes, 1000000u);
  EXPECT_EQ(config->mempool.size_max, 5000u);
  EXPECT_EQ(config->log.level, "debug");
  EXPECT_EQ(config->log.format, config::LogFormat::kJson);
  EXPECT_EQ(config->storage.data_dir, "/var/lib/reel");
}

TEST(ConfigTest, SyntaxErrorGivesFileLineColumn) {
  Status status = ParseError("moniker = \"n1\"\n[api]\nlisten = \"unterminated\n");
  EXPECT_EQ(status.code(), Code::kInvalidArgument);
  EXPECT_THAT(status.message(), StartsWith(std::string(kFile) + ":3:"));
  EXPECT_THAT(status.message(), MatchesRegex(".*node\\.toml:3:[0-9]+: TOML syntax error: .*"));
}

TEST(ConfigTest, DuplicateKeyIsASyntaxError) {
  Status status = ParseError("[log]\nlevel = \"info\"\nlevel = \"debug\"\n");
  EXPECT_THAT(status.message(), StartsWith(std::string(kFile) + ":3:"));
}

TEST(ConfigTest, BadHostPortNamesFileAndKey) {
  Status status = ParseError("[api]\nlisten = \"8080\"\n");
  EXPECT_EQ(status.message(),
            std::string(kFile) + ": [api] listen: expected \"host:port\", got \"8080\" (line 2)");
  EXPECT_THAT(ParseError("[p2p]\nlisten = \"host:99999\"\n").message(),
              HasSubstr("node.toml: [p2p] listen: expected \"host:port\" with a port 0..65535"));
  EXPECT_THAT(ParseError("[metrics]\nlisten = \":80\"\n").message(),
              HasSubstr("node.toml: [metrics] listen: expected \"host:port\""));
}

TEST(ConfigTest, UnknownKeysAreRefused) {
  Status in_section = ParseError("[api]\nlisen = \"127.0.0.1:1\"\n");
  EXPECT_THAT(in_section.message(), HasSubstr("node.toml: [api] lisen: unknown key (line 2)"));
  EXPECT_THAT(in_section.message(), HasSubstr("known keys in [api]: listen, max_message_bytes"));

  Status top = ParseError("monikr = \"x\"\n");
  EXPECT_THAT(top.message(), HasSubstr("node.toml: monikr: unknown key (line 1)"));

  Status section = ParseError("[consensus]\ntimeout = 3\n");
  EXPECT_THAT(section.message(), HasSubstr("node.toml: [consensus]: unknown section"));

  Status nested = ParseError("[log.file]\npath = \"x\"\n");
  EXPECT_THAT(nested.message(), HasSubstr("node.toml: [log] file: unknown key"));
}

TEST(ConfigTest, WrongTypesNameTheKey) {
  EXPECT_THAT(ParseError("[mempool]\nsize_max = \"big\"\n").message(),
              HasSubstr("node.toml: [mempool] size_max: expected an integer, got \"big\""));
  EXPECT_THAT(ParseError("[mempool]\nsize_max = 1.5\n").message(),
              HasSubstr("node.toml: [mempool] size_max: expected an integer, got a float"));
  EXPECT_THAT(ParseError("[api]\nlisten = 8080\n").message(),
              HasSubstr("node.toml: [api] listen: expected a string, got the number 8080"));
  EXPECT_THAT(ParseError("moniker = true\n").message(),
              HasSubstr("node.toml: moniker: expected a string, got a boolean"));
  EXPECT_THAT(ParseError("api = 3\n").message(),
              HasSubstr("node.toml: api: expected a [api] table, got an integer"));
}

TEST(ConfigTest, RangesAndEnumsNameTheKey) {
  EXPECT_THAT(ParseError("[mempool]\nsize_max = 0\n").message(),
              HasSubstr("node.toml: [mempool] size_max: must be between 2000 and 50000, got 0"));
  EXPECT_THAT(ParseError("[mempool]\nsize_max = -5\n").message(),
              HasSubstr("[mempool] size_max: must be between 2000 and 50000, got -5"));
  EXPECT_THAT(ParseError("[api]\nmax_message_bytes = 10\n").message(),
              HasSubstr("node.toml: [api] max_message_bytes: must be between"));
  EXPECT_THAT(ParseError("[log]\nlevel = \"loud\"\n").message(),
              HasSubstr("node.toml: [log] level: expected one of trace, debug, info, warn, "
                        "error, off; got \"loud\""));
  EXPECT_THAT(ParseError("[log]\nformat = \"xml\"\n").message(),
              HasSubstr("node.toml: [log] format: expected \"text\" or \"json\", got \"xml\""));
  EXPECT_THAT(ParseError("moniker = \"has space\"\n").message(),
              HasSubstr("node.toml: moniker: expected 1 to 64 letters"));
  EXPECT_THAT(ParseError("[storage]\ndata_dir = \"\"\n").message(),
              HasSubstr("node.toml: [storage] data_dir: expected a path"));
}

TEST(ConfigTest, FlagsOverrideAndNameTheFlag) {
  config::NodeConfig config;
  ASSERT_OK(SetConfigValue(config, "api.listen", "10.0.0.1:9000", "--api.listen"));
  EXPECT_EQ(config.api.listen, "10.0.0.1:9000");
  ASSERT_OK(SetConfigValue(config, "mempool.size_max", "7700", "--mempool.size_max"));
  EXPECT_EQ(config.mempool.size_max, 7700u);
  ASSERT_OK(SetConfigValue(config, "log.format", "json", "--log.format"));
  EXPECT_EQ(config.log.format, config::LogFormat::kJson);

  Status bad = SetConfigValue(config, "api.listen", "8080", "--api.listen");
  EXPECT_EQ(bad.message(), "--api.listen: expected \"host:port\", got \"8080\"");
  EXPECT_EQ(config.api.listen, "10.0.0.1:9000");  // unchanged by a refused value
  EXPECT_THAT(SetConfigValue(config, "mempool.size_max", "12x", "--mempool.size_max").message(),
              HasSubstr("--mempool.size_max: expected an integer, got \"12x\""));

  ASSERT_OK(config::ApplySetFlag(config, "p2p.listen=0.0.0.0:1234"));
  EXPECT_EQ(config.p2p.listen, "0.0.0.0:1234");
  ASSERT_OK(config::ApplySetFlag(config, "p2p.validator_key_file="));  // empty = observer
  EXPECT_EQ(config.p2p.validator_key_file, "");
  EXPECT_THAT(config::ApplySetFlag(config, "p2p.listen").message(),
              HasSubstr("expected key=value"));
  EXPECT_THAT(config::ApplySetFlag(config, "api.lisen=x:1").message(),
              HasSubstr("--set api.lisen: unknown config key \"api.lisen\""));
  EXPECT_THAT(config::ApplySetFlag(config, "log.level=loud").message(),
              HasSubstr("--set log.level: expected one of"));
}

TEST(ConfigTest, HostPortForms) {
  Result<config::HostPort> v4 = config::ParseHostPort("127.0.0.1:80");
  ASSERT_OK(v4.status());
  EXPECT_EQ(v4->host, "127.0.0.1");
  EXPECT_EQ(v4->port, 80);
  Result<config::HostPort> v6 = config::ParseHostPort("[::1]:0");
  ASSERT_OK(v6.status());
  EXPECT_EQ(v6->host, "::1");
  for (std::string_view bad :
       {"", "8080", ":80", "host:", "::1:80", "h:-1", "h:65536", "a b:1", "[::1:80", "h:80x"}) {
    EXPECT_FALSE(config::ParseHostPort(bad).ok()) << bad;
  }
}

TEST(ConfigTest, LoadNodeConfigNamesTheFile) {
  TempDir dir;
  Result<config::NodeConfig> missing = config::LoadNodeConfig(dir.Sub("node.toml"));
  EXPECT_EQ(missing.status().code(), Code::kNotFound);
  EXPECT_THAT(missing.status().message(), HasSubstr(dir.Sub("node.toml")));

  testing::WriteFile(dir.Sub("big.toml"), "# " + std::string(70 * 1024, 'x') + "\n");
  Result<config::NodeConfig> big = config::LoadNodeConfig(dir.Sub("big.toml"));
  EXPECT_THAT(big.status().message(), HasSubstr("big.toml: larger than"));

  testing::WriteFile(dir.Sub("bad.toml"), "[api]\nlisten = \"x\"\n");
  EXPECT_THAT(config::LoadNodeConfig(dir.Sub("bad.toml")).status().message(),
              HasSubstr(dir.Sub("bad.toml") + ": [api] listen:"));
}

TEST(HomeTest, InitCreatesTheLayoutAndNeverOverwrites) {
  TempDir dir;
  std::string home = dir.Sub("node");
  ASSERT_OK(config::InitHome(home, "n1"));
  config::HomePaths paths(home);
  struct stat st {};
  ASSERT_EQ(::stat(paths.keys_dir.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  ASSERT_EQ(::stat(paths.default_data_dir.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  ASSERT_EQ(::stat(paths.tls_dir.c_str(), &st), 0);
  ASSERT_OK(config::LoadNodeConfig(paths.config_file).status());
  EXPECT_EQ(config::LoadNodeConfig(paths.config_file)->moniker, "n1");

  testing::WriteFile(paths.config_file, "moniker = \"edited\"\n");
  Status again = config::InitHome(home, "n2");
  EXPECT_EQ(again.code(), Code::kAlreadyExists);
  EXPECT_THAT(again.message(), HasSubstr("node.toml"));
  EXPECT_EQ(testing::ReadFile(paths.config_file), "moniker = \"edited\"\n");

  EXPECT_THAT(config::InitHome(dir.Sub("other"), "bad name").message(), HasSubstr("--moniker"));
}

// A home with genesis and a validator key file, ready for LoadHome.
class LoadHomeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK(config::InitHome(home_, "n1"));
    ASSERT_OK(crypto::WriteKeyFile(paths_.keys_dir + "/validator_key.json", key_, std::nullopt));
    crypto::KeyPair other = crypto::KeyPair::Generate();
    testing::WriteFile(
        paths_.genesis_file,
        testing::GenesisJson(testing::ValidGenesis({other.public_key(), key_.public_key()})));
  }

  TempDir dir_;
  std::string home_ = dir_.Sub("home");
  config::HomePaths paths_{home_};
  crypto::KeyPair key_ = crypto::KeyPair::Generate();
};

TEST_F(LoadHomeTest, LoadsConfigGenesisAndKey) {
  Result<config::LoadedHome> loaded = config::LoadHome(paths_, {});
  ASSERT_OK(loaded.status());
  EXPECT_EQ(loaded->genesis.chain_id(), "reel-test");
  ASSERT_TRUE(loaded->validator_index.has_value());
  EXPECT_EQ(*loaded->validator_index, 1u);
  EXPECT_EQ(loaded->validator_key->public_key(), key_.public_key());
  EXPECT_EQ(loaded->data_dir, home_ + "/data");
}

TEST_F(LoadHomeTest, NamedFlagsWinOverSetWhichWinsOverTheFile) {
  testing::WriteFile(paths_.config_file,
                     "[api]\nlisten = \"127.0.0.1:1\"\n[mempool]\nsize_max = 9000\n");
  config::ConfigOverrides overrides;
  overrides.set_assignments = {"api.listen=127.0.0.1:2", "mempool.size_max=8000"};
  overrides.flags = {{"api.listen", "127.0.0.1:3"}};
  Result<config::LoadedHome> loaded = config::LoadHome(paths_, overrides);
  ASSERT_OK(loaded.status());
  EXPECT_EQ(loaded->config.api.listen, "127.0.0.1:3");
  EXPECT_EQ(loaded->config.mempool.size_max, 8000u);
}

TEST_F(LoadHomeTest, BadOverrideNamesTheFlag) {
  config::ConfigOverrides overrides;
  overrides.flags = {{"metrics.listen", "9100"}};
  EXPECT_EQ(config::LoadHome(paths_, overrides).status().message(),
            "--metrics.listen: expected \"host:port\", got \"9100\"");
}

TEST_F(LoadHomeTest, KeyFileReadableByOthersIsRefused) {
  std::string key_file = paths_.keys_dir + "/validator_key.json";
  ASSERT_EQ(::chmod(key_file.c_str(), 0644), 0);
  Status status = config::LoadHome(paths_, {}).status();
  EXPECT_EQ(status.code(), Code::kPermissionDenied);
  EXPECT_THAT(status.message(), HasSubstr("[p2p] validator_key_file"));
  EXPECT_THAT(status.message(), HasSubstr(key_file));
}

TEST_F(LoadHomeTest, MissingKeyFileIsRefusedUnlessObserver) {
  ASSERT_EQ(::unlink((paths_.keys_dir + "/validator_key.json").c_str()), 0);
  Status status = config::LoadHome(paths_, {}).status();
  EXPECT_EQ(status.code(), Code::kNotFound);
  EXPECT_THAT(status.message(), HasSubstr("validator_key.json"));

  config::ConfigOverrides observer;
  observer.set_assignments = {"p2p.validator_key_file="};
  Result<config::LoadedHome> loaded = config::LoadHome(paths_, observer);
  ASSERT_OK(loaded.status());
  EXPECT_FALSE(loaded->validator_index.has_value());
}

// The node of a validator added after genesis (or whose key was replaced) starts with a
// key genesis does not name: it is loaded, without a genesis index, and the node votes
// from the epoch whose set names it.
TEST_F(LoadHomeTest, KeyNotInGenesisIsLoadedWithoutAGenesisIndex) {
  crypto::KeyPair stranger = crypto::KeyPair::Generate();
  ASSERT_OK(crypto::WriteKeyFile(paths_.keys_dir + "/stranger.json", stranger, std::nullopt));
  config::ConfigOverrides overrides;
  overrides.flags = {{"p2p.validator_key_file", "keys/stranger.json"}};
  Result<config::LoadedHome> loaded = config::LoadHome(paths_, overrides);
  ASSERT_OK(loaded.status());
  ASSERT_TRUE(loaded->validator_key.has_value());
  EXPECT_EQ(loaded->validator_key->public_key(), stranger.public_key());
  EXPECT_FALSE(loaded->validator_index.has_value());
}

TEST_F(LoadHomeTest, BadGenesisNamesTheFile) {
  testing::WriteFile(paths_.genesis_file, "{\"chain_id\": \"x\", \"chain_idd\": 1}");
  Status status = config::LoadHome(paths_, {}).status();
  EXPECT_THAT(status.message(), HasSubstr(paths_.genesis_file + ": not a valid reel.v1.Genesis"));
  EXPECT_THAT(status.message(), HasSubstr("chain_idd"));
}

}  // namespace
}  // namespace reel::daemon
