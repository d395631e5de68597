// A damaged LevelDB store is noticed (TESTING.md row 6): a torn tail of the log is
// dropped as a crash would leave it; a flipped byte anywhere else in the log, or in
// a table, is refused with kCorruption and a message that names the folder and says
// what to do, never read as if it were data. tests/integration/damaged_disk_test.sh
// does the same to a running validator.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>

#include "node/storage/kv.h"
#include "node/storage/leveldb_store.h"
#include "tests/storage/storage_test_util.h"

namespace reel::storage {
namespace {

namespace fs = std::filesystem;
using testing::TempDir;

// Bytes that do not compress, so that offsets in a file land where we aim.
std::string Noise(size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>(rng() & 0xff);
  return s;
}

// The one file in `dir` whose name ends with `suffix` ("log", "ldb"), newest number.
std::string NewestFile(const std::string& dir, const std::string& suffix) {
  std::string found;
  for (const fs::directory_entry& e : fs::directory_iterator(dir)) {
    std::string name = e.path().filename().string();
    if (name.size() > suffix.size() + 1 && name.ends_with("." + suffix) &&
        (found.empty() || name > fs::path(found).filename().string())) {
      found = e.path().string();
    }
  }
  return found;
}

void FlipByte(const std::string& file, uintmax_t offset) {
  std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
  ASSERT_TRUE(f.good()) << file;
  f.seekg(static_cast<std::streamoff>(offset));
  char c = 0;
  f.read(&c, 1);
  c = static_cast<char>(c ^ 0xff);
  f.seekp(static_cast<std::streamoff>(offset));
  f.write(&c, 1);
}

// Writes keys k0..k{n-1}, one synced batch each, of 1000 bytes of noise each; the
// store is closed again, so the records are in the log only.
void WriteRecords(const std::string& path, int n) {
  Result<std::unique_ptr<KvStore>> store = OpenLevelDb(path);
  ASSERT_OK(store);
  for (int i = 0; i < n; ++i) {
    WriteBatch batch;
    batch.Put("k" + std::to_string(i), Noise(1000, static_cast<unsigned>(i)));
    ASSERT_OK((*store)->Write(batch, /*sync=*/true));
  }
}

bool Has(const KvStore& store, const std::string& key) {
  Result<std::optional<std::string>> got = store.Get(key);
  EXPECT_OK(got);
  return got.ok() && got->has_value();
}

void ExpectDamagedMessage(const Status& status, const std::string& path) {
  EXPECT_EQ(status.code(), Code::kCorruption) << status.ToString();
  EXPECT_NE(status.message().find(path), std::string::npos) << status.message();
  EXPECT_NE(status.message().find("resync"), std::string::npos) << status.message();
}

TEST(StorageLevelDbDamageTest, ATornLogTailIsDroppedAndTheRestKept) {
  TempDir dir;
  const std::string path = dir.Sub("data");
  WriteRecords(path, 3);
  const std::string log = NewestFile(path, "log");
  ASSERT_FALSE(log.empty());
  fs::resize_file(log, fs::file_size(log) - 100);  // inside the last record

  Result<std::unique_ptr<KvStore>> store = OpenLevelDb(path);
  ASSERT_OK(store);
  EXPECT_TRUE(Has(**store, "k0"));
  EXPECT_TRUE(Has(**store, "k1"));
  EXPECT_FALSE(Has(**store, "k2"));
}

// Three records in the log, a byte of it flipped at `offset` (negative: from the
// end): the store must not open.
void ExpectAFlipInTheLogRefused(std::intmax_t offset) {
  TempDir dir;
  const std::string path = dir.Sub("data");
  WriteRecords(path, 3);
  const std::string log = NewestFile(path, "log");
  ASSERT_FALSE(log.empty());
  const auto size = static_cast<std::intmax_t>(fs::file_size(log));
  FlipByte(log, static_cast<uintmax_t>(offset >= 0 ? offset : size + offset));

  Result<std::unique_ptr<KvStore>> store = OpenLevelDb(path);
  ASSERT_FALSE(store.ok());
  ExpectDamagedMessage(store.status(), path);
}

// Inside the first record's value: without paranoid checks LevelDB would skip that
// record and replay the later ones, a store with a hole in it.
TEST(StorageLevelDbDamageTest, AFlippedByteInsideTheLogIsRefusedAtOpen) {
  ExpectAFlipInTheLogRefused(500);
}

// Inside the last record, whole but damaged: not a torn write.
TEST(StorageLevelDbDamageTest, AFlippedByteInsideTheLastLogRecordIsRefusedAtOpen) {
  ExpectAFlipInTheLogRefused(-100);
}

TEST(StorageLevelDbDamageTest, AFlippedByteInATableFailsTheReadThatMeetsIt) {
  TempDir dir;
  const std::string path = dir.Sub("data");
  WriteRecords(path, 1);
  { ASSERT_OK(OpenLevelDb(path)); }  // reopening writes the log into a table
  const std::string table = NewestFile(path, "ldb");
  ASSERT_FALSE(table.empty());
  FlipByte(table, 500);  // inside k0's value, in the table's only data block

  Result<std::unique_ptr<KvStore>> store = OpenLevelDb(path);
  ASSERT_OK(store);  // tables are read when used
  Result<std::optional<std::string>> got = (*store)->Get("k0");
  ASSERT_FALSE(got.ok());
  ExpectDamagedMessage(got.status(), path);

  std::unique_ptr<Iterator> it = (*store)->NewIterator();
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
  }
  ExpectDamagedMessage(it->status(), path);
}

TEST(StorageLevelDbDamageTest, AFlippedByteInTheManifestIsRefusedAtOpen) {
  TempDir dir;
  const std::string path = dir.Sub("data");
  WriteRecords(path, 1);
  std::string manifest;
  for (const fs::directory_entry& e : fs::directory_iterator(path)) {
    if (e.path().filename().string().starts_with("MANIFEST-")) manifest = e.path().string();
  }
  ASSERT_FALSE(manifest.empty());
  FlipByte(manifest, fs::file_size(manifest) - 3);

  Result<std::unique_ptr<KvStore>> store = OpenLevelDb(path);
  ASSERT_FALSE(store.ok());
  ExpectDamagedMessage(store.status(), path);
}

}  // namespace
}  // namespace reel::storage
