// Node, the composition root, in process: Post runs work on the loop thread in order,
// RequestStop shuts down cleanly, health follows the node's state, and the store is
// released on shutdown. Also LoadHome with an encrypted key file.
#include "node/daemon/node.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <stdlib.h>

#include <future>
#include <thread>
#include <vector>

#include "crypto/keyfile.h"
#include "node/config/home.h"
#include "node/storage/leveldb_store.h"
#include "tests/daemon/daemon_test_util.h"

namespace reel::daemon {
namespace {

using ::testing::HasSubstr;

class NodeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK(config::InitHome(home_, "node-test"));
    ASSERT_OK(crypto::WriteKeyFile(paths_.keys_dir + "/validator_key.json", key_, std::nullopt));
    reel::v1::Genesis genesis = testing::ValidGenesis({key_.public_key()});
    testing::AddTls(genesis, paths_.tls_dir);
    testing::WriteFile(paths_.genesis_file, testing::GenesisJson(genesis));
  }

  Result<std::unique_ptr<Node>> OpenNode() {
    config::ConfigOverrides overrides;
    overrides.flags = {{"metrics.listen", "127.0.0.1:0"},
                       {"p2p.listen", "127.0.0.1:0"},
                       {"api.listen", "127.0.0.1:0"},
                       {"log.level", "warn"}};
    Result<config::LoadedHome> loaded = config::LoadHome(paths_, overrides);
    if (!loaded.ok()) return loaded.status();
    return Node::Open(std::move(*loaded));
  }

  testing::TempDir dir_;
  std::string home_ = dir_.Sub("home");
  config::HomePaths paths_{home_};
  crypto::KeyPair key_ = crypto::KeyPair::Generate();
};

TEST_F(NodeTest, PostRunsOnTheLoopThreadInOrderAndStopIsClean) {
  Result<std::unique_ptr<Node>> node = OpenNode();
  ASSERT_OK(node.status());
  Node& n = **node;
  httplib::Client client("127.0.0.1", n.status_port());
  EXPECT_EQ(client.Get("/healthz")->status, 503);  // opened, not yet running

  std::promise<std::thread::id> run_thread;
  std::thread runner([&] {
    run_thread.set_value(std::this_thread::get_id());
    EXPECT_OK(n.Run());
  });
  std::thread::id loop_id = run_thread.get_future().get();

  std::vector<int> order;  // touched only on the loop thread
  std::promise<void> done;
  for (int i = 0; i < 100; ++i) {
    n.Post([&, i] {
      EXPECT_EQ(std::this_thread::get_id(), loop_id);
      order.push_back(i);
      if (i == 99) done.set_value();
    });
  }
  done.get_future().wait();
  // Serving once the loop has started the node's parts; the height is the replica's
  // (a one-validator chain commits on its own).
  auto health = client.Get("/healthz");
  for (int tries = 0; tries < 100 && !(health && health->status == 200); ++tries) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    health = client.Get("/healthz");
  }
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
  EXPECT_THAT(health->body, HasSubstr("\"height\":"));

  n.RequestStop();
  runner.join();
  ASSERT_EQ(order.size(), 100u);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(order[static_cast<size_t>(i)], i);
  EXPECT_FALSE(client.Get("/healthz"));  // the status server is gone

  // The store was closed: it opens again while the Node object still exists.
  EXPECT_OK(storage::OpenLevelDb(home_ + "/data").status());
}

TEST_F(NodeTest, SecondNodeOnTheSameStoreIsRefused) {
  Result<std::unique_ptr<Node>> first = OpenNode();
  ASSERT_OK(first.status());
  Result<std::unique_ptr<Node>> second = OpenNode();
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), Code::kFailedPrecondition);
  EXPECT_THAT(second.status().message(), HasSubstr("[storage] data_dir: "));
  EXPECT_THAT(second.status().message(), HasSubstr("locked"));
}

TEST_F(NodeTest, EncryptedKeyNeedsThePassphraseFromTheEnvironment) {
  std::string key_file = paths_.keys_dir + "/sealed.json";
  ASSERT_OK(crypto::WriteKeyFile(key_file, key_, std::string_view("correct horse"),
                                 crypto::KdfLimits::MinimumForTests()));
  config::ConfigOverrides overrides;
  overrides.flags = {{"p2p.validator_key_file", "keys/sealed.json"}};

  ::unsetenv("REEL_VALIDATOR_KEY_PASSPHRASE");
  Status missing = config::LoadHome(paths_, overrides).status();
  EXPECT_EQ(missing.code(), Code::kFailedPrecondition);
  EXPECT_THAT(missing.message(), HasSubstr("REEL_VALIDATOR_KEY_PASSPHRASE"));

  ::setenv("REEL_VALIDATOR_KEY_PASSPHRASE", "wrong", 1);
  Status wrong = config::LoadHome(paths_, overrides).status();
  EXPECT_EQ(wrong.code(), Code::kUnauthenticated);
  EXPECT_THAT(wrong.message(), HasSubstr("sealed.json"));

  ::setenv("REEL_VALIDATOR_KEY_PASSPHRASE", "correct horse", 1);
  Result<config::LoadedHome> loaded = config::LoadHome(paths_, overrides);
  ::unsetenv("REEL_VALIDATOR_KEY_PASSPHRASE");
  ASSERT_OK(loaded.status());
  EXPECT_EQ(loaded->validator_index, std::optional<size_t>(0));
}

}  // namespace
}  // namespace reel::daemon
