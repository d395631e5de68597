// Behaviour tests that both KvStore implementations must pass, so that logic
// tested on the memory store behaves the same on LevelDB; and the fault-injecting
// decorator of the tests, with no fault armed, must pass them too.
#include "node/storage/kv.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <thread>
#include <vector>

#include "node/storage/leveldb_store.h"
#include "node/storage/memory_store.h"
#include "tests/storage/faulty_store.h"
#include "tests/storage/storage_test_util.h"
#include "tests/test_util.h"

namespace reel::storage {
namespace {

using testing::TempDir;

enum class Kind { kMemory, kLevelDb, kFaultyLevelDb };
// Names the parameter in test names and CTest names.
std::string NameOf(Kind kind) {
  static constexpr const char* kNames[] = {"Memory", "LevelDb", "FaultyLevelDb"};
  return kNames[static_cast<int>(kind)];
}
void PrintTo(Kind kind, std::ostream* os) {
  *os << NameOf(kind);
}

std::string Get(const ReadView& view, std::string_view key) {
  Result<std::optional<std::string>> got = view.Get(key);
  EXPECT_OK(got);
  if (!got.ok() || !got->has_value()) return "<none>";
  return **got;
}

std::vector<std::string> Keys(const ReadView& view) {
  std::vector<std::string> keys;
  std::unique_ptr<Iterator> it = view.NewIterator();
  for (it->SeekToFirst(); it->Valid(); it->Next()) keys.emplace_back(it->key());
  EXPECT_OK(it->status());
  return keys;
}

std::vector<std::string> KeysBackwards(const ReadView& view) {
  std::vector<std::string> keys;
  std::unique_ptr<Iterator> it = view.NewIterator();
  for (it->SeekToLast(); it->Valid(); it->Prev()) keys.emplace_back(it->key());
  EXPECT_OK(it->status());
  return keys;
}

std::vector<std::string> ScannedKeys(const ReadView& view, std::string_view prefix) {
  std::vector<std::string> keys;
  Status s = ScanPrefix(view, prefix, [&](std::string_view key, std::string_view) {
    keys.emplace_back(key);
    return true;
  });
  EXPECT_OK(s);
  return keys;
}

class StorageKvTest : public ::testing::TestWithParam<Kind> {
 protected:
  void SetUp() override { Open(); }

  void Open() {
    store_.reset();
    if (GetParam() == Kind::kMemory) {
      store_ = NewMemoryStore();
      return;
    }
    Result<std::unique_ptr<KvStore>> opened = OpenLevelDb(dir_.Sub("db"));
    ASSERT_OK(opened);
    store_ = std::move(opened).value();
    if (GetParam() == Kind::kFaultyLevelDb) {
      store_ = std::make_unique<testing::FaultyStore>(std::move(store_));
    }
  }

  void Put(std::string_view key, std::string_view value) {
    WriteBatch batch;
    batch.Put(key, value);
    ASSERT_OK(store_->Write(batch, /*sync=*/false));
  }

  void Delete(std::string_view key) {
    WriteBatch batch;
    batch.Delete(key);
    ASSERT_OK(store_->Write(batch, /*sync=*/false));
  }

  TempDir dir_;
  std::unique_ptr<KvStore> store_;
};

TEST_P(StorageKvTest, PutGetDelete) {
  EXPECT_EQ(Get(*store_, "a"), "<none>");
  Put("a", "1");
  EXPECT_EQ(Get(*store_, "a"), "1");
  Put("a", "2");
  EXPECT_EQ(Get(*store_, "a"), "2");
  Delete("a");
  EXPECT_EQ(Get(*store_, "a"), "<none>");
  Delete("never-there");  // deleting a missing key is not an error
}

TEST_P(StorageKvTest, BinaryKeysAndValuesRoundTrip) {
  const std::string key("\x00k\xff\x00", 4);
  const std::string value("\x00\x01\xfe\xff\x00", 5);
  Put(key, value);
  Put("empty", "");
  EXPECT_EQ(Get(*store_, key), value);
  Result<std::optional<std::string>> empty = store_->Get("empty");
  ASSERT_OK(empty);
  ASSERT_TRUE(empty->has_value());  // present, with an empty value: not the same as absent
  EXPECT_EQ(**empty, "");
}

TEST_P(StorageKvTest, BatchAppliesItsOpsInOrder) {
  WriteBatch batch;
  batch.Put("x", "first");
  batch.Delete("x");
  batch.Delete("y");
  batch.Put("y", "second");
  batch.Put("z", "1");
  batch.Put("z", "2");
  EXPECT_EQ(batch.count(), 6u);
  EXPECT_EQ(batch.payload_bytes(), 1u + 5 + 1 + 1 + 1 + 6 + 1 + 1 + 1 + 1);
  ASSERT_OK(store_->Write(batch, /*sync=*/true));
  EXPECT_EQ(Get(*store_, "x"), "<none>");
  EXPECT_EQ(Get(*store_, "y"), "second");
  EXPECT_EQ(Get(*store_, "z"), "2");

  WriteBatch empty;
  ASSERT_OK(store_->Write(empty, /*sync=*/true));
  batch.Clear();
  EXPECT_TRUE(batch.empty());
  EXPECT_EQ(batch.payload_bytes(), 0u);
}

// Readers on other threads never see half a batch: each batch sets both keys to
// the same value, and every snapshot and live iterator must find them equal.
TEST_P(StorageKvTest, ReadersNeverSeeHalfABatch) {
  constexpr int kBatches = 2000;
  std::atomic<bool> done{false};
  std::atomic<int> torn{0};
  std::atomic<int> checks{0};
  auto reader = [&] {
    while (!done.load()) {
      std::unique_ptr<Snapshot> snapshot = store_->GetSnapshot();
      if (Get(*snapshot, "a") != Get(*snapshot, "b")) ++torn;
      std::vector<std::string> values;
      std::unique_ptr<Iterator> it = store_->NewIterator();
      for (it->SeekToFirst(); it->Valid(); it->Next()) values.emplace_back(it->value());
      if (values.size() == 2 && values[0] != values[1]) ++torn;
      if (values.size() == 1) ++torn;
      ++checks;
    }
  };
  std::thread reader1(reader);
  std::thread reader2(reader);
  // Keep writing until the readers have looked many times while writes went on,
  // however the threads are scheduled.
  for (int i = 0; i < kBatches || checks.load() < 200; ++i) {
    WriteBatch batch;
    batch.Put("a", std::to_string(i));
    batch.Put("b", std::to_string(i));
    ASSERT_OK(store_->Write(batch, /*sync=*/false));
  }
  done = true;
  reader1.join();
  reader2.join();
  EXPECT_EQ(torn.load(), 0);
  EXPECT_GE(checks.load(), 200);
}

TEST_P(StorageKvTest, IterationIsBytewiseOrderedBothWays) {
  std::vector<std::string> keys = {std::string("\x00", 1),
                                   std::string("\x00\x00", 2),
                                   "A",
                                   "a",
                                   "ab",
                                   "b",
                                   "\x7f",
                                   "\x80",
                                   "\xfe",
                                   "\xff",
                                   "\xff\xff"};
  std::vector<std::string> shuffled = keys;
  std::reverse(shuffled.begin(), shuffled.end());
  WriteBatch batch;
  for (const std::string& key : shuffled) batch.Put(key, "v" + key);
  ASSERT_OK(store_->Write(batch, false));

  // Bytewise means unsigned: 0x80 and above sort after 0x7f.
  EXPECT_EQ(Keys(*store_), keys);
  std::vector<std::string> backwards(keys.rbegin(), keys.rend());
  EXPECT_EQ(KeysBackwards(*store_), backwards);
}

TEST_P(StorageKvTest, SeekLandsOnTheFirstKeyAtOrAfterTarget) {
  for (const char* key : {"b", "d", "f"}) Put(key, key);
  std::unique_ptr<Iterator> it = store_->NewIterator();
  EXPECT_FALSE(it->Valid());  // not positioned until a seek

  it->Seek("d");
  ASSERT_TRUE(it->Valid());
  EXPECT_EQ(it->key(), "d");
  EXPECT_EQ(it->value(), "d");
  it->Seek("c");
  ASSERT_TRUE(it->Valid());
  EXPECT_EQ(it->key(), "d");
  it->Seek("");
  ASSERT_TRUE(it->Valid());
  EXPECT_EQ(it->key(), "b");
  it->Seek("g");
  EXPECT_FALSE(it->Valid());

  it->Seek("e");
  it->Prev();
  ASSERT_TRUE(it->Valid());
  EXPECT_EQ(it->key(), "d");
  it->SeekToFirst();
  it->Prev();  // before the first key
  EXPECT_FALSE(it->Valid());
  it->SeekToLast();
  ASSERT_TRUE(it->Valid());
  EXPECT_EQ(it->key(), "f");
  it->Next();
  EXPECT_FALSE(it->Valid());
  EXPECT_OK(it->status());
}

TEST_P(StorageKvTest, EmptyStoreHasNothingToIterate) {
  EXPECT_TRUE(Keys(*store_).empty());
  EXPECT_TRUE(KeysBackwards(*store_).empty());
  std::unique_ptr<Iterator> it = store_->NewIterator();
  it->Seek("a");
  EXPECT_FALSE(it->Valid());
}

TEST_P(StorageKvTest, PrefixScanSeesExactlyThePrefix) {
  const std::string p1("\x01", 1);
  const std::string p2("\x02", 1);
  const std::string pff("\x02\xff", 2);
  for (const std::string& key : {p1 + "z", p2, p2 + "a", p2 + "b", pff, pff + "x",
                                 std::string("\x03", 1), std::string("\x02\xff\xff", 3)}) {
    Put(key, "v");
  }
  EXPECT_EQ(ScannedKeys(*store_, p2),
            (std::vector<std::string>{p2, p2 + "a", p2 + "b", pff, pff + "x",
                                      std::string("\x02\xff\xff", 3)}));
  // A prefix ending in 0xff: its end is computed past the 0xff bytes.
  EXPECT_EQ(ScannedKeys(*store_, pff),
            (std::vector<std::string>{pff, pff + "x", std::string("\x02\xff\xff", 3)}));
  EXPECT_TRUE(ScannedKeys(*store_, "\x04").empty());
  EXPECT_EQ(ScannedKeys(*store_, "").size(), 8u);

  // [begin, end) with an early stop.
  std::vector<std::string> seen;
  ASSERT_OK(ScanRange(*store_, p2 + "a", pff, [&](std::string_view key, std::string_view) {
    seen.emplace_back(key);
    return true;
  }));
  EXPECT_EQ(seen, (std::vector<std::string>{p2 + "a", p2 + "b"}));
  seen.clear();
  ASSERT_OK(ScanRange(*store_, p2, "", [&](std::string_view key, std::string_view) {
    seen.emplace_back(key);
    return seen.size() < 2;
  }));
  EXPECT_EQ(seen, (std::vector<std::string>{p2, p2 + "a"}));
}

TEST_P(StorageKvTest, SnapshotDoesNotSeeLaterWrites) {
  Put("keep", "old");
  Put("change", "old");
  Put("remove", "old");
  std::unique_ptr<Snapshot> before = store_->GetSnapshot();

  Put("change", "new");
  Delete("remove");
  Put("add", "new");
  std::unique_ptr<Snapshot> after = store_->GetSnapshot();
  Put("change", "newer");

  EXPECT_EQ(Get(*before, "change"), "old");
  EXPECT_EQ(Get(*before, "remove"), "old");
  EXPECT_EQ(Get(*before, "add"), "<none>");
  EXPECT_EQ(Keys(*before), (std::vector<std::string>{"change", "keep", "remove"}));
  EXPECT_EQ(Get(*after, "change"), "new");
  EXPECT_EQ(Keys(*after), (std::vector<std::string>{"add", "change", "keep"}));
  EXPECT_EQ(Get(*store_, "change"), "newer");

  // An iterator made from a snapshot reads the snapshot, even after more writes.
  std::unique_ptr<Iterator> it = before->NewIterator();
  Put("zzz", "new");
  it->Seek("change");
  ASSERT_TRUE(it->Valid());
  EXPECT_EQ(it->value(), "old");
  it.reset();
  EXPECT_EQ(Keys(*before), (std::vector<std::string>{"change", "keep", "remove"}));
}

TEST_P(StorageKvTest, LiveIteratorReadsTheMomentItWasMade) {
  Put("a", "1");
  std::unique_ptr<Iterator> it = store_->NewIterator();
  Put("a", "2");
  Put("b", "2");
  it->SeekToFirst();
  ASSERT_TRUE(it->Valid());
  EXPECT_EQ(it->value(), "1");
  it->Next();
  EXPECT_FALSE(it->Valid());
}

TEST_P(StorageKvTest, ReopenKeepsWhatWasWritten) {
  if (GetParam() == Kind::kMemory) GTEST_SKIP() << "the memory store keeps nothing";
  WriteBatch batch;
  batch.Put("synced", "1");
  ASSERT_OK(store_->Write(batch, /*sync=*/true));
  Put("unsynced", "2");  // a clean close keeps unsynced writes too
  Delete("synced");
  Put("synced", "3");
  Open();
  ASSERT_NE(store_, nullptr);
  EXPECT_EQ(Get(*store_, "synced"), "3");
  EXPECT_EQ(Get(*store_, "unsynced"), "2");
}

INSTANTIATE_TEST_SUITE_P(EveryStore, StorageKvTest,
                         ::testing::Values(Kind::kMemory, Kind::kLevelDb, Kind::kFaultyLevelDb),
                         [](const ::testing::TestParamInfo<Kind>& param) {
                           return NameOf(param.param);
                         });

// --- LevelDB only: opening ------------------------------------------------------

TEST(StorageLevelDbOpenTest, SecondOpenOfALockedDirectoryFailsAndSaysWhy) {
  TempDir dir;
  const std::string path = dir.Sub("data");
  Result<std::unique_ptr<KvStore>> first = OpenLevelDb(path);
  ASSERT_OK(first);

  Result<std::unique_ptr<KvStore>> second = OpenLevelDb(path);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), Code::kFailedPrecondition);
  EXPECT_NE(second.status().message().find(path), std::string::npos) << second.status().message();
  EXPECT_NE(second.status().message().find("another reeld may be running"), std::string::npos)
      << second.status().message();

  first.value().reset();  // closing releases the lock
  EXPECT_OK(OpenLevelDb(path));
}

TEST(StorageLevelDbOpenTest, CreatesMissingParents) {
  TempDir dir;
  Result<std::unique_ptr<KvStore>> store = OpenLevelDb(dir.Sub("home/data/db"));
  EXPECT_OK(store);
}

TEST(StorageLevelDbOpenTest, MissingDirectoryWithoutCreateFails) {
  TempDir dir;
  LevelDbOptions options;
  options.create_if_missing = false;
  Result<std::unique_ptr<KvStore>> store = OpenLevelDb(dir.Sub("absent"), options);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), Code::kFailedPrecondition);
  EXPECT_NE(store.status().message().find(dir.Sub("absent")), std::string::npos);
}

TEST(StorageLevelDbOpenTest, APathThatIsAFileFailsWithItsName) {
  TempDir dir;
  const std::string file = dir.Sub("file");
  FILE* f = fopen(file.c_str(), "w");
  ASSERT_NE(f, nullptr);
  fclose(f);
  Result<std::unique_ptr<KvStore>> store = OpenLevelDb(file);
  ASSERT_FALSE(store.ok());
  EXPECT_NE(store.status().message().find(file), std::string::npos) << store.status().message();
}

TEST(StorageLevelDbOpenTest, EmptyPathIsRefused) {
  EXPECT_EQ(OpenLevelDb("").status().code(), Code::kInvalidArgument);
}

// --- Lifetimes --------------------------------------------------------------------

TEST(StorageKvDeathTest, DestroyingAStoreWithALiveSnapshotStops) {
  EXPECT_DEATH(
      {
        std::unique_ptr<KvStore> store = NewMemoryStore();
        std::unique_ptr<Snapshot> snapshot = store->GetSnapshot();
        store.reset();
      },
      "readers_alive");
}

TEST(StoragePrefixEndTest, IsTheSmallestKeyAfterThePrefix) {
  EXPECT_EQ(PrefixEnd("a"), "b");
  EXPECT_EQ(PrefixEnd(std::string("\x01\x02", 2)), std::string("\x01\x03", 2));
  EXPECT_EQ(PrefixEnd(std::string("\x01\xff", 2)), std::string("\x02", 1));
  EXPECT_EQ(PrefixEnd(std::string("\xff\xff", 2)), "");
  EXPECT_EQ(PrefixEnd(""), "");
}

}  // namespace
}  // namespace reel::storage
