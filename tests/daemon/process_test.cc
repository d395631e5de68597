// reeld as a real process: a good home starts and answers /healthz and /metrics;
// SIGTERM and SIGINT stop it with exit code 0; an exposed key file, a bad node.toml,
// a bad genesis, a store of another chain, a busy metrics port and a second reeld on
// the same home are each refused with a message naming what is wrong.
//
// Each test makes its own home (mkdtemp), runs `reeld init` on it, adds a genesis
// and a validator key file, and picks free ports (FreePort) below the ephemeral range.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "base/bytes.h"
#include "crypto/keyfile.h"
#include "node/storage/keys.h"
#include "node/storage/leveldb_store.h"
#include "tests/daemon/daemon_test_util.h"

#ifndef REEL_REELD_PATH
#error "REEL_REELD_PATH must name the reeld binary"
#endif

namespace reel::daemon {
namespace {

using ::testing::HasSubstr;
using namespace std::chrono_literals;

// How long reeld may take to start serving or to exit. Generous: the test machine is
// shared, and only a hang (not slowness) should fail a test.
constexpr auto kStartTimeout = 30s;
constexpr auto kExitTimeout = 10s;

// A free TCP port on 127.0.0.1, for reeld to listen on a moment later. Not one the
// kernel hands out (bind to port 0): that range is also where every outgoing connection
// of the tests running beside this one takes its local port, and one of them took a
// port between our check and reeld's bind ("port is taken"). So a random port below the
// ephemeral range (32768 up) and below the integration tests' 29000-29800, checked free
// by binding it.
uint16_t FreePort() {
  static std::mt19937 random(std::random_device{}());
  std::uniform_int_distribution<int> in_range(20000, 28999);
  for (int attempt = 0; attempt < 200; ++attempt) {
    const auto port = static_cast<uint16_t>(in_range(random));
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    EXPECT_GE(fd, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(port);
    const bool free = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    ::close(fd);
    if (free) return port;
  }
  ADD_FAILURE() << "no free port in 20000-28999";
  return 0;
}

// A reeld child process whose stdout and stderr go to `log_path`. Killed on
// destruction if still running, so a failed test leaves nothing behind.
class Reeld {
 public:
  Reeld(const std::vector<std::string>& args, const std::string& log_path) : log_path_(log_path) {
    std::vector<std::string> argv_strings = {REEL_REELD_PATH};
    argv_strings.insert(argv_strings.end(), args.begin(), args.end());
    pid_ = ::fork();
    if (pid_ == 0) {
      int fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      if (fd < 0) _exit(127);
      ::dup2(fd, 1);
      ::dup2(fd, 2);
      std::vector<char*> argv;
      for (std::string& s : argv_strings) argv.push_back(s.data());
      argv.push_back(nullptr);
      ::execv(argv[0], argv.data());
      _exit(127);
    }
    EXPECT_GT(pid_, 0);
  }
  ~Reeld() {
    if (pid_ > 0 && !exit_status_.has_value()) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }

  // The exit code once it exited within `timeout`; -1 if it died of a signal; nullopt
  // if it is still running.
  std::optional<int> WaitExit(std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!exit_status_.has_value()) {
      int status = 0;
      pid_t done = ::waitpid(pid_, &status, WNOHANG);
      if (done == pid_) {
        exit_status_ = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
        break;
      }
      if (std::chrono::steady_clock::now() > deadline) return std::nullopt;
      std::this_thread::sleep_for(20ms);
    }
    return exit_status_;
  }

  void Signal(int sig) { ASSERT_EQ(::kill(pid_, sig), 0); }
  std::string Output() const { return testing::ReadFile(log_path_); }

 private:
  std::string log_path_;
  pid_t pid_ = -1;
  std::optional<int> exit_status_;
};

class ReeldProcessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Reeld init({"init", "--home", home_, "--moniker", "proc-1"}, dir_.Sub("init.log"));
    ASSERT_EQ(init.WaitExit(kExitTimeout), 0) << init.Output();
    ASSERT_OK(crypto::WriteKeyFile(key_file_, key_, std::nullopt));
    reel::v1::Genesis genesis = testing::ValidGenesis({key_.public_key()});
    testing::AddTls(genesis, home_ + "/tls");
    testing::WriteFile(home_ + "/config/genesis.json", testing::GenesisJson(genesis));
    metrics_port_ = FreePort();
  }

  std::vector<std::string> StartArgs(uint16_t metrics_port) const {
    return {"start",
            "--home",
            home_,
            "--metrics.listen",
            "127.0.0.1:" + std::to_string(metrics_port),
            "--set",
            "api.listen=127.0.0.1:" + std::to_string(FreePort()),
            "--p2p.listen",
            "127.0.0.1:" + std::to_string(FreePort())};
  }

  // Polls /healthz until it answers 200; fails if reeld exits or the time runs out.
  void WaitHealthy(Reeld& reeld, uint16_t port) {
    httplib::Client client("127.0.0.1", port);
    client.set_connection_timeout(1, 0);
    client.set_read_timeout(2, 0);
    auto deadline = std::chrono::steady_clock::now() + kStartTimeout;
    while (std::chrono::steady_clock::now() < deadline) {
      std::optional<int> exited = reeld.WaitExit(0ms);
      ASSERT_FALSE(exited.has_value()) << "reeld exited with " << *exited << ":\n"
                                       << reeld.Output();
      auto response = client.Get("/healthz");
      if (response && response->status == 200) return;
      std::this_thread::sleep_for(50ms);
    }
    FAIL() << "reeld did not become healthy:\n" << reeld.Output();
  }

  // Runs reeld expecting it to refuse to start: exit code 1 and the output.
  std::string ExpectRefused(const std::vector<std::string>& args) {
    Reeld reeld(args, dir_.Sub("refused.log"));
    std::optional<int> code = reeld.WaitExit(kStartTimeout);
    EXPECT_EQ(code, std::optional<int>(1)) << reeld.Output();
    return reeld.Output();
  }

  testing::TempDir dir_;
  std::string home_ = dir_.Sub("home");
  std::string key_file_ = home_ + "/keys/validator_key.json";
  crypto::KeyPair key_ = crypto::KeyPair::Generate();
  uint16_t metrics_port_ = 0;
};

TEST_F(ReeldProcessTest, GoodHomeServesHealthAndMetricsAndStopsOnSigterm) {
  Reeld reeld(StartArgs(metrics_port_), dir_.Sub("reeld.log"));
  ASSERT_NO_FATAL_FAILURE(WaitHealthy(reeld, metrics_port_));

  httplib::Client client("127.0.0.1", metrics_port_);
  auto health = client.Get("/healthz");
  ASSERT_TRUE(health);
  nlohmann::json body = nlohmann::json::parse(health->body);
  EXPECT_EQ(body["status"], "serving");
  EXPECT_EQ(body["moniker"], "proc-1");
  EXPECT_EQ(body["height"], 0);
  auto metrics = client.Get("/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_EQ(metrics->status, 200);
  EXPECT_THAT(metrics->body, HasSubstr("\nreel_height 0\n"));
  EXPECT_THAT(metrics->body, HasSubstr("# TYPE reel_commit_latency_ms histogram"));

  auto sent = std::chrono::steady_clock::now();
  reeld.Signal(SIGTERM);
  EXPECT_EQ(reeld.WaitExit(kExitTimeout), std::optional<int>(0)) << reeld.Output();
  auto took = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - sent);
  std::cout << "reeld exited " << took.count() << " ms after SIGTERM\n";
  std::string output = reeld.Output();
  std::cout << "reeld's log:\n" << output;
  EXPECT_THAT(output, HasSubstr("started"));
  EXPECT_THAT(output, HasSubstr("shutting down reason=SIGTERM"));
  EXPECT_THAT(output, HasSubstr("stopped cleanly"));
  EXPECT_FALSE(client.Get("/healthz"));  // the port is closed
}

TEST_F(ReeldProcessTest, SigintAlsoStopsCleanlyAndTheStoreReopens) {
  {
    Reeld reeld(StartArgs(metrics_port_), dir_.Sub("first.log"));
    ASSERT_NO_FATAL_FAILURE(WaitHealthy(reeld, metrics_port_));
    reeld.Signal(SIGINT);
    ASSERT_EQ(reeld.WaitExit(kExitTimeout), std::optional<int>(0)) << reeld.Output();
  }
  // The store was closed and unlocked: a new reeld on the same home starts.
  Reeld again(StartArgs(metrics_port_), dir_.Sub("second.log"));
  ASSERT_NO_FATAL_FAILURE(WaitHealthy(again, metrics_port_));
  again.Signal(SIGTERM);
  EXPECT_EQ(again.WaitExit(kExitTimeout), std::optional<int>(0)) << again.Output();
}

// A stop requested while reeld is still starting (store not yet open, loop not yet
// running) is held and handled once the loop runs: still a clean exit 0.
TEST_F(ReeldProcessTest, SigtermDuringStartUpStillStopsCleanly) {
  Reeld reeld(StartArgs(metrics_port_), dir_.Sub("early.log"));
  auto deadline = std::chrono::steady_clock::now() + kStartTimeout;
  while (reeld.Output().find("starting") == std::string::npos) {
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << reeld.Output();
    ASSERT_FALSE(reeld.WaitExit(0ms).has_value()) << reeld.Output();
    std::this_thread::sleep_for(1ms);
  }
  reeld.Signal(SIGTERM);
  EXPECT_EQ(reeld.WaitExit(kExitTimeout), std::optional<int>(0)) << reeld.Output();
  EXPECT_THAT(reeld.Output(), HasSubstr("stopped cleanly"));
}

TEST_F(ReeldProcessTest, JsonLogsAreOneObjectPerLine) {
  std::vector<std::string> args = StartArgs(metrics_port_);
  args.insert(args.end(), {"--log.format", "json", "--log.level", "debug"});
  Reeld reeld(args, dir_.Sub("json.log"));
  ASSERT_NO_FATAL_FAILURE(WaitHealthy(reeld, metrics_port_));
  reeld.Signal(SIGTERM);
  ASSERT_EQ(reeld.WaitExit(kExitTimeout), std::optional<int>(0)) << reeld.Output();
  std::istringstream lines(reeld.Output());
  std::string line;
  int count = 0;
  while (std::getline(lines, line)) {
    nlohmann::json entry = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    ASSERT_FALSE(entry.is_discarded()) << "not JSON: " << line;
    for (const char* key : {"time", "level", "component", "msg"}) {
      EXPECT_TRUE(entry.contains(key)) << key << " missing in " << line;
    }
    ++count;
  }
  EXPECT_GE(count, 4);
}

TEST_F(ReeldProcessTest, KeyFileReadableByOthersIsRefused) {
  ASSERT_EQ(::chmod(key_file_.c_str(), 0644), 0);
  std::string output = ExpectRefused(StartArgs(metrics_port_));
  EXPECT_THAT(output, HasSubstr("start-up refused"));
  EXPECT_THAT(output, HasSubstr(key_file_));
  EXPECT_THAT(output, HasSubstr("chmod 600"));
}

TEST_F(ReeldProcessTest, BadNodeTomlIsRefusedNamingFileAndKey) {
  testing::WriteFile(home_ + "/config/node.toml", "[api]\nlisten = \"8080\"\n");
  std::string output = ExpectRefused({"start", "--home", home_});
  EXPECT_THAT(output, HasSubstr(home_ + "/config/node.toml: [api] listen: expected "
                                        "\"host:port\", got \"8080\""));

  testing::WriteFile(home_ + "/config/node.toml", "[mempool]\nsize_maxx = 3\n");
  EXPECT_THAT(ExpectRefused({"start", "--home", home_}),
              HasSubstr("node.toml: [mempool] size_maxx: unknown key"));
}

TEST_F(ReeldProcessTest, BadFlagIsRefusedNamingTheFlag) {
  std::vector<std::string> args = StartArgs(metrics_port_);
  args.insert(args.end(), {"--log.level", "loud"});
  EXPECT_THAT(ExpectRefused(args), HasSubstr("--log.level: expected one of"));
}

TEST_F(ReeldProcessTest, BadGenesisIsRefusedNamingFileAndField) {
  reel::v1::Genesis genesis = testing::ValidGenesis({key_.public_key()});
  genesis.mutable_orgs(0)->set_quorum(5);
  testing::WriteFile(home_ + "/config/genesis.json", testing::GenesisJson(genesis));
  EXPECT_THAT(ExpectRefused(StartArgs(metrics_port_)),
              HasSubstr(home_ + "/config/genesis.json: orgs[0].quorum: must be between 1"));
}

TEST_F(ReeldProcessTest, StoreOfAnotherChainIsRefused) {
  {
    Result<std::unique_ptr<storage::KvStore>> store = storage::OpenLevelDb(home_ + "/data");
    ASSERT_OK(store.status());
    storage::WriteBatch batch;
    batch.Put(storage::keys::ChainIdKey(), "other-chain");
    std::string schema;
    AppendU32BE(schema, storage::keys::kSchemaVersion);
    batch.Put(storage::keys::SchemaVersionKey(), schema);
    ASSERT_OK((*store)->Write(batch, true));
  }
  std::string output = ExpectRefused(StartArgs(metrics_port_));
  EXPECT_THAT(output, HasSubstr("belongs to chain \"other-chain\""));
  EXPECT_THAT(output, HasSubstr(home_ + "/data"));
}

TEST_F(ReeldProcessTest, SecondReeldOnTheSameHomeIsRefused) {
  Reeld first(StartArgs(metrics_port_), dir_.Sub("first.log"));
  ASSERT_NO_FATAL_FAILURE(WaitHealthy(first, metrics_port_));
  std::string output = ExpectRefused(StartArgs(FreePort()));
  EXPECT_THAT(output, HasSubstr("[storage] data_dir"));
  EXPECT_THAT(output, HasSubstr("locked"));
  // The first one is unaffected.
  httplib::Client client("127.0.0.1", metrics_port_);
  auto health = client.Get("/healthz");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
  first.Signal(SIGTERM);
  EXPECT_EQ(first.WaitExit(kExitTimeout), std::optional<int>(0)) << first.Output();
}

TEST_F(ReeldProcessTest, BusyMetricsPortIsRefused) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(fd, 1), 0);
  socklen_t len = sizeof addr;
  ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  std::string output = ExpectRefused(StartArgs(ntohs(addr.sin_port)));
  ::close(fd);
  EXPECT_THAT(output, HasSubstr("[metrics] listen: cannot listen on 127.0.0.1:" +
                                std::to_string(ntohs(addr.sin_port))));
}

TEST_F(ReeldProcessTest, VersionAndHelpSayWhatRuns) {
  Reeld version({"version"}, dir_.Sub("version.log"));
  EXPECT_EQ(version.WaitExit(kExitTimeout), std::optional<int>(0));
  EXPECT_THAT(version.Output(), HasSubstr("serves the reel.v1 client API"));
  Reeld help({"--help"}, dir_.Sub("help.log"));
  EXPECT_EQ(help.WaitExit(kExitTimeout), std::optional<int>(0));
  EXPECT_THAT(help.Output(), HasSubstr("serves the reel.v1 client API"));
}

}  // namespace
}  // namespace reel::daemon
