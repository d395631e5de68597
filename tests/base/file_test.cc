#include "base/file.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "tests/test_util.h"

namespace reel {
namespace {

mode_t ModeOf(const std::string& path) {
  struct stat info {};
  EXPECT_EQ(::stat(path.c_str(), &info), 0) << path;
  return info.st_mode & 0777;
}

std::string Contents(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

class FileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = "/tmp/reel-file-test-XXXXXX";
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string dir_;
};

// The mode is what the caller asks for, whatever the umask and whatever mode the file
// had: a key written over a world-readable file must not stay readable.
TEST_F(FileTest, ModeIsTheOneAskedForEvenOverAnExistingFile) {
  const mode_t old_umask = ::umask(0077);
  const std::string cert = dir_ + "/node.crt";
  EXPECT_OK(WriteFileWithMode(cert, "cert", 0644));
  EXPECT_EQ(ModeOf(cert), 0644u);
  ::umask(0);
  const std::string key = dir_ + "/node.key";
  EXPECT_OK(WriteFileWithMode(key, "old", 0666));
  EXPECT_OK(WriteFileWithMode(key, "new", 0600));
  EXPECT_EQ(ModeOf(key), 0600u);
  EXPECT_EQ(Contents(key), "new");
  ::umask(old_umask);
}

TEST_F(FileTest, ReplaceLeavesNoTemporaryAndNamesTheFileOnFailure) {
  const std::string genesis = dir_ + "/genesis.json";
  EXPECT_OK(ReplaceFileWithMode(genesis, "{}", 0644));
  EXPECT_OK(ReplaceFileWithMode(genesis, "{\"chain_id\":\"x\"}", 0644));
  EXPECT_EQ(Contents(genesis), "{\"chain_id\":\"x\"}");
  EXPECT_EQ(ModeOf(genesis), 0644u);
  EXPECT_FALSE(std::filesystem::exists(genesis + ".tmp"));
  const Status missing = ReplaceFileWithMode(dir_ + "/no/such/genesis.json", "{}", 0644);
  EXPECT_FALSE(missing.ok());
  EXPECT_NE(missing.message().find("no/such/genesis.json"), std::string::npos);
}

}  // namespace
}  // namespace reel
