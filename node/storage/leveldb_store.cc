#include "node/storage/leveldb_store.h"

#include <leveldb/cache.h>
#include <leveldb/db.h>
#include <leveldb/filter_policy.h>
#include <leveldb/iterator.h>
#include <leveldb/write_batch.h>

#include <atomic>
#include <filesystem>
#include <system_error>

#include "base/assert.h"

namespace reel::storage {
namespace {

leveldb::Slice ToSlice(std::string_view s) {
  return leveldb::Slice(s.data(), s.size());
}
std::string_view ToView(const leveldb::Slice& s) {
  return std::string_view(s.data(), s.size());
}

// What an operator should do with a damaged store: the same advice whether the
// damage shows when the store is opened or when a record is read later.
std::string DamagedAdvice(const std::string& dir) {
  return "the store at " + dir + " is damaged; stop reeld, move the folder away (for example: mv " +
         dir + " " + dir +
         ".damaged) and start reeld again to resync the chain from its peers, or restore the "
         "folder from a backup";
}

// Maps a LevelDB status from a read or write; `what` says what we were doing.
// A checksum failure (verify_checksums, paranoid_checks) names the folder and says
// what to do, as the open error does.
Status FromLevelDb(const leveldb::Status& s, std::string_view what, const std::string& dir) {
  if (s.ok()) return Status::Ok();
  std::string message = std::string(what) + " at " + dir + ": " + s.ToString();
  if (s.IsCorruption()) return Status::Corruption(message + "; " + DamagedAdvice(dir));
  if (s.IsNotFound()) return Status::NotFound(std::move(message));
  if (s.IsInvalidArgument()) return Status::InvalidArgument(std::move(message));
  return Status::IoError(std::move(message));
}

// LevelDB reports a held lock as an IOError whose text names the LOCK file: "lock
// <dir>/LOCK: already held by process" (this process) or "... Resource temporarily
// unavailable" (another process). There is no status code for it, so read the text.
bool IsLockError(const leveldb::Status& s) {
  std::string text = s.ToString();
  return s.IsIOError() && text.find("/LOCK") != std::string::npos &&
         text.find("lock ") != std::string::npos;
}

Status OpenError(const leveldb::Status& s, const std::string& dir) {
  if (IsLockError(s)) {
    return Status::FailedPrecondition("the store at " + dir +
                                      " is locked by another open store: another reeld may be "
                                      "running with this data directory (" +
                                      s.ToString() + ")");
  }
  if (s.IsCorruption()) {
    return Status::Corruption("cannot open the store at " + dir + ": " + s.ToString() + "; " +
                              DamagedAdvice(dir));
  }
  if (s.IsInvalidArgument()) {
    // create_if_missing off and no database, or error_if_exists and one is there.
    return Status::FailedPrecondition("cannot open the store at " + dir + ": " + s.ToString());
  }
  return Status::IoError("cannot open the store at " + dir + ": " + s.ToString());
}

// Counts the snapshots and iterators alive, so that destroying the store while one
// is still in use stops the process instead of reading freed memory.
using ReaderCount = std::atomic<int>;

class LevelDbIterator final : public Iterator {
 public:
  LevelDbIterator(leveldb::Iterator* it, const std::string* dir, ReaderCount* readers)
      : it_(it), dir_(dir), readers_(readers) {
    readers_->fetch_add(1);
  }
  ~LevelDbIterator() override {
    it_.reset();
    readers_->fetch_sub(1);
  }

  bool Valid() const override { return it_->Valid(); }
  void SeekToFirst() override { it_->SeekToFirst(); }
  void SeekToLast() override { it_->SeekToLast(); }
  void Seek(std::string_view target) override { it_->Seek(ToSlice(target)); }
  void Next() override {
    REEL_ASSERT(Valid());
    it_->Next();
  }
  void Prev() override {
    REEL_ASSERT(Valid());
    it_->Prev();
  }
  std::string_view key() const override {
    REEL_ASSERT(Valid());
    return ToView(it_->key());
  }
  std::string_view value() const override {
    REEL_ASSERT(Valid());
    return ToView(it_->value());
  }
  Status status() const override { return FromLevelDb(it_->status(), "iterate the store", *dir_); }

 private:
  std::unique_ptr<leveldb::Iterator> it_;
  const std::string* dir_;
  ReaderCount* readers_;
};

// Reads through `db` with `snapshot` (nullptr: the live store); `dir` names the
// store in errors and outlives the reader.
class LevelDbReader {
 public:
  LevelDbReader(leveldb::DB* db, const leveldb::Snapshot* snapshot, bool verify_checksums,
                const std::string* dir, ReaderCount* readers)
      : db_(db), dir_(dir), readers_(readers) {
    options_.snapshot = snapshot;
    options_.verify_checksums = verify_checksums;
  }

  Result<std::optional<std::string>> Get(std::string_view key) const {
    std::string value;
    leveldb::Status s = db_->Get(options_, ToSlice(key), &value);
    if (s.IsNotFound()) return std::optional<std::string>();
    if (!s.ok()) return FromLevelDb(s, "read the store", *dir_);
    return std::optional<std::string>(std::move(value));
  }

  std::unique_ptr<Iterator> NewIterator() const {
    return std::make_unique<LevelDbIterator>(db_->NewIterator(options_), dir_, readers_);
  }

 private:
  leveldb::DB* db_;
  const std::string* dir_;
  leveldb::ReadOptions options_;
  ReaderCount* readers_;
};

class LevelDbSnapshot final : public Snapshot {
 public:
  LevelDbSnapshot(leveldb::DB* db, bool verify_checksums, const std::string* dir,
                  ReaderCount* readers)
      : db_(db),
        snapshot_(db->GetSnapshot()),
        reader_(db, snapshot_, verify_checksums, dir, readers),
        readers_(readers) {
    readers_->fetch_add(1);
  }
  ~LevelDbSnapshot() override {
    db_->ReleaseSnapshot(snapshot_);
    readers_->fetch_sub(1);
  }

  Result<std::optional<std::string>> Get(std::string_view key) const override {
    return reader_.Get(key);
  }
  std::unique_ptr<Iterator> NewIterator() const override { return reader_.NewIterator(); }

 private:
  leveldb::DB* db_;
  const leveldb::Snapshot* snapshot_;
  LevelDbReader reader_;
  ReaderCount* readers_;
};

class LevelDbStore final : public KvStore {
 public:
  // Takes ownership of all three; `cache` and `filter` may be null. `dir` names the
  // store in errors.
  LevelDbStore(leveldb::DB* db, leveldb::Cache* cache, const leveldb::FilterPolicy* filter,
               bool verify_checksums, std::string dir)
      : db_(db),
        cache_(cache),
        filter_(filter),
        verify_checksums_(verify_checksums),
        dir_(std::move(dir)),
        live_(db, nullptr, verify_checksums, &dir_, &readers_) {}

  ~LevelDbStore() override {
    REEL_ASSERT(readers_.load() == 0);
    // The database uses the cache and the filter policy until it is closed.
    db_.reset();
    cache_.reset();
    filter_.reset();
  }

  Result<std::optional<std::string>> Get(std::string_view key) const override {
    return live_.Get(key);
  }
  std::unique_ptr<Iterator> NewIterator() const override { return live_.NewIterator(); }
  std::unique_ptr<Snapshot> GetSnapshot() const override {
    return std::make_unique<LevelDbSnapshot>(db_.get(), verify_checksums_, &dir_, &readers_);
  }

  Status Write(const WriteBatch& batch, bool sync) override {
    leveldb::WriteBatch leveldb_batch;
    for (const WriteBatch::Op& op : batch.ops()) {
      if (op.kind == WriteBatch::OpKind::kPut) {
        leveldb_batch.Put(op.key, op.value);
      } else {
        leveldb_batch.Delete(op.key);
      }
    }
    leveldb::WriteOptions options;
    options.sync = sync;
    return FromLevelDb(db_->Write(options, &leveldb_batch), "write to the store", dir_);
  }

 private:
  std::unique_ptr<leveldb::DB> db_;
  std::unique_ptr<leveldb::Cache> cache_;
  std::unique_ptr<const leveldb::FilterPolicy> filter_;
  bool verify_checksums_;
  std::string dir_;
  mutable ReaderCount readers_{0};
  LevelDbReader live_;
};

}  // namespace

Result<std::unique_ptr<KvStore>> OpenLevelDb(const std::string& dir,
                                             const LevelDbOptions& options) {
  if (dir.empty()) return Status::InvalidArgument("the store directory is empty");
  if (options.create_if_missing) {
    // LevelDB creates the last component only; a fresh home needs its parents too.
    std::error_code error;
    std::filesystem::create_directories(dir, error);
    if (error) {
      return Status::IoError("cannot create the store directory " + dir + ": " + error.message());
    }
  }

  std::unique_ptr<leveldb::Cache> cache(
      options.block_cache_bytes > 0 ? leveldb::NewLRUCache(options.block_cache_bytes) : nullptr);
  std::unique_ptr<const leveldb::FilterPolicy> filter(
      options.bloom_bits_per_key > 0 ? leveldb::NewBloomFilterPolicy(options.bloom_bits_per_key)
                                     : nullptr);
  leveldb::Options leveldb_options;
  leveldb_options.create_if_missing = options.create_if_missing;
  leveldb_options.error_if_exists = options.error_if_exists;
  leveldb_options.paranoid_checks = true;
  leveldb_options.write_buffer_size = options.write_buffer_bytes;
  leveldb_options.max_file_size = options.max_file_bytes;
  leveldb_options.compression =
      options.compress ? leveldb::kSnappyCompression : leveldb::kNoCompression;
  leveldb_options.max_open_files = options.max_open_files;
  leveldb_options.block_cache = cache.get();
  leveldb_options.filter_policy = filter.get();

  leveldb::DB* db = nullptr;
  leveldb::Status s = leveldb::DB::Open(leveldb_options, dir, &db);
  if (!s.ok()) return OpenError(s, dir);
  REEL_ASSERT(db != nullptr);
  return std::unique_ptr<KvStore>(std::make_unique<LevelDbStore>(
      db, cache.release(), filter.release(), options.verify_checksums, dir));
}

}  // namespace reel::storage
