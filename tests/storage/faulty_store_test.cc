// The fault-injecting store of the tests (faulty_store.h) over a real LevelDB store:
// it fails what it is told to, as kIoError, and nothing else; a refused write leaves
// nothing behind, a failed sync leaves the batch for a reopen to find.
#include "tests/storage/faulty_store.h"

#include <gtest/gtest.h>

#include "node/storage/leveldb_store.h"
#include "tests/storage/storage_test_util.h"
#include "tests/test_util.h"

namespace reel::storage::testing {
namespace {

using Fault = FaultyStore::Fault;
using Op = FaultyStore::Op;

class FaultyStoreTest : public ::testing::Test {
 protected:
  void SetUp() override { Open(); }

  void Open() {
    store_.reset();
    Result<std::unique_ptr<KvStore>> opened = OpenLevelDb(dir_.Sub("db"));
    ASSERT_OK(opened);
    store_ = std::make_unique<FaultyStore>(std::move(opened).value());
  }

  Status Put(std::string_view key, std::string_view value, bool sync = false) {
    WriteBatch batch;
    batch.Put(key, value);
    return store_->Write(batch, sync);
  }

  // The value under `key`, "<none>" if there is none, "<error>" on a read error.
  std::string Get(const ReadView& view, std::string_view key) {
    Result<std::optional<std::string>> got = view.Get(key);
    if (!got.ok()) return "<error>";
    return got->has_value() ? **got : "<none>";
  }

  TempDir dir_{"faulty"};
  std::unique_ptr<FaultyStore> store_;
};

TEST_F(FaultyStoreTest, FailsTheNthWriteWithNothingWrittenThenRefusesLaterWrites) {
  store_->Arm(Fault(Op::kWrite).After(2));
  ASSERT_OK(Put("a", "1"));
  ASSERT_OK(Put("b", "2", /*sync=*/true));
  const Status third = Put("c", "3");
  EXPECT_EQ(third.code(), Code::kIoError) << third.ToString();
  EXPECT_EQ(Get(*store_, "c"), "<none>") << "a refused write left something behind";
  // As LevelDB after a log error: every later write fails, until healed.
  EXPECT_EQ(Put("d", "4").code(), Code::kIoError);
  EXPECT_EQ(store_->failures(), 2u);
  store_->Heal();
  ASSERT_OK(Put("d", "4"));
  EXPECT_EQ(Get(*store_, "a"), "1");
  EXPECT_EQ(Get(*store_, "d"), "4");
}

TEST_F(FaultyStoreTest, WithoutStickyErrorsOnlyTheArmedWritesFail) {
  Result<std::unique_ptr<KvStore>> opened = OpenLevelDb(dir_.Sub("other"));
  ASSERT_OK(opened);
  FaultyStore store(std::move(opened).value(), {.sticky_write_errors = false});
  store.Arm(Fault(Op::kWrite).Times(2));
  WriteBatch batch;
  batch.Put("k", "v");
  EXPECT_FALSE(store.Write(batch, false).ok());
  EXPECT_FALSE(store.Write(batch, false).ok());
  EXPECT_OK(store.Write(batch, false));
  EXPECT_EQ(Get(store, "k"), "v");
}

TEST_F(FaultyStoreTest, AKeyPrefixPicksTheBatchesThatTouchIt) {
  store_->Arm(Fault(Op::kWrite).Prefix("height/").Forever());
  ASSERT_OK(Put("state/x", "1"));
  WriteBatch commit;
  commit.Put("state/y", "2");
  commit.Put("height/", "7");
  EXPECT_EQ(store_->Write(commit, true).code(), Code::kIoError);
  EXPECT_EQ(Get(*store_, "state/y"), "<none>") << "part of a refused batch was written";
}

TEST_F(FaultyStoreTest, AFailedSyncReportsAnErrorButTheBatchReachesTheLog) {
  store_->Arm(Fault(Op::kSync));
  ASSERT_OK(Put("unsynced", "1"));  // an unsynced write is no sync: it passes
  EXPECT_EQ(Put("synced", "2", /*sync=*/true).code(), Code::kIoError);
  EXPECT_EQ(Put("later", "3").code(), Code::kIoError) << "writes go on after a failed sync";
  // LevelDB appended the batch to its log before the sync failed: a reopen (without a
  // machine crash) finds it, whole.
  Open();
  EXPECT_EQ(Get(*store_, "unsynced"), "1");
  EXPECT_EQ(Get(*store_, "synced"), "2");
  EXPECT_EQ(Get(*store_, "later"), "<none>");
}

TEST_F(FaultyStoreTest, ReadsFailOnTheStoreAndItsSnapshots) {
  ASSERT_OK(Put("a", "1"));
  ASSERT_OK(Put("b", "2"));
  std::unique_ptr<Snapshot> snapshot = store_->GetSnapshot();
  store_->Arm(Fault(Op::kRead).Prefix("b").Times(2));
  EXPECT_EQ(Get(*store_, "a"), "1");
  EXPECT_EQ(Get(*store_, "b"), "<error>");
  EXPECT_EQ(Get(*snapshot, "b"), "<error>");
  EXPECT_EQ(Get(*snapshot, "b"), "2") << "the fault was for two reads";
  EXPECT_OK(Put("c", "3"));  // a read error does not stop writes
}

TEST_F(FaultyStoreTest, AScanThatHitsAReadFaultStopsWithTheError) {
  for (const char* key : {"p/1", "p/2", "p/3", "q/1"}) ASSERT_OK(Put(key, "v"));
  std::unique_ptr<Snapshot> snapshot = store_->GetSnapshot();
  store_->Arm(Fault(Op::kRead).Prefix("p/3"));
  std::vector<std::string> seen;
  const Status scan = ScanPrefix(*snapshot, "p/", [&](std::string_view key, std::string_view) {
    seen.emplace_back(key);
    return true;
  });
  EXPECT_EQ(scan.code(), Code::kIoError) << scan.ToString();
  EXPECT_EQ(seen, (std::vector<std::string>{"p/1", "p/2"}));
  // The fault is spent: a new scan sees everything.
  seen.clear();
  EXPECT_OK(ScanPrefix(*store_, "p/", [&](std::string_view key, std::string_view) {
    seen.emplace_back(key);
    return true;
  }));
  EXPECT_EQ(seen.size(), 3u);
}

}  // namespace
}  // namespace reel::storage::testing
