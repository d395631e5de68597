// CrashStore (crash_store.h): a machine crash loses exactly the writes made without a
// sync since the last synced one, whole batches at a time.
#include "tests/sim/crash_store.h"

#include <gtest/gtest.h>

#include "tests/test_util.h"

namespace reel::sim {
namespace {

std::optional<std::string> Get(const CrashStore& store, std::string_view key) {
  Result<std::optional<std::string>> got = store.Get(key);
  EXPECT_OK(got);
  return got.ok() ? *got : std::nullopt;
}

Status Put(CrashStore& store, std::string_view key, std::string_view value, bool sync) {
  storage::WriteBatch batch;
  batch.Put(key, value);
  return store.Write(batch, sync);
}

TEST(CrashStoreTest, ACrashLosesTheUnsyncedWritesAndKeepsTheSyncedOnes) {
  CrashStore store;
  ASSERT_OK(Put(store, "a", "1", /*sync=*/true));
  ASSERT_OK(Put(store, "a", "2", /*sync=*/false));
  ASSERT_OK(Put(store, "b", "1", /*sync=*/false));
  EXPECT_EQ(Get(store, "a"), "2");  // a process sees its own writes until the crash
  EXPECT_EQ(store.LoseUnsyncedWrites(), 2u);
  EXPECT_EQ(Get(store, "a"), "1");
  EXPECT_EQ(Get(store, "b"), std::nullopt);
  EXPECT_EQ(store.LoseUnsyncedWrites(), 0u);
}

TEST(CrashStoreTest, ASyncedWriteMakesTheEarlierOnesDurable) {
  CrashStore store;
  ASSERT_OK(Put(store, "a", "1", /*sync=*/false));
  ASSERT_OK(Put(store, "b", "1", /*sync=*/true));
  ASSERT_OK(Put(store, "c", "1", /*sync=*/false));
  EXPECT_EQ(store.LoseUnsyncedWrites(), 1u);
  EXPECT_EQ(Get(store, "a"), "1");
  EXPECT_EQ(Get(store, "b"), "1");
  EXPECT_EQ(Get(store, "c"), std::nullopt);
}

TEST(CrashStoreTest, ABatchIsLostWholeEvenWhenItWritesAKeyTwiceOrDeletes) {
  CrashStore store;
  storage::WriteBatch first;
  first.Put("a", "1");
  first.Put("gone", "x");
  ASSERT_OK(store.Write(first, /*sync=*/true));
  storage::WriteBatch batch;
  batch.Put("a", "2");
  batch.Put("a", "3");
  batch.Delete("gone");
  batch.Put("new", "y");
  ASSERT_OK(store.Write(batch, /*sync=*/false));
  EXPECT_EQ(Get(store, "a"), "3");
  EXPECT_EQ(Get(store, "gone"), std::nullopt);
  store.LoseUnsyncedWrites();
  EXPECT_EQ(Get(store, "a"), "1");
  EXPECT_EQ(Get(store, "gone"), "x");
  EXPECT_EQ(Get(store, "new"), std::nullopt);
}

}  // namespace
}  // namespace reel::sim
