// storage_crash_writer: the process the crash test kills. Opens the LevelDB store
// at --dir, reads the committed height H (0 if none), and writes batches H+1,
// H+2, ... as crash_layout.h describes, each with sync, until killed (or until
// --max-batches batches are written, then exits 0).
//
// With --progress it prints "open H" after opening and "committed k" after batch k
// is acknowledged, one line each, flushed: the test uses them to know what was
// acknowledged before the kill.
//
// --split-batches is a planted bug for the test of the test: each batch is written
// as two batches (the first half of the keys, then the rest with the height
// pointer), with --split-pause-ms between them and "half k" printed after the
// first. A kill in the pause must be caught by the checker.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>

#include "node/storage/keys.h"
#include "node/storage/leveldb_store.h"
#include "tests/storage/crash_layout.h"

namespace reel::storage::crash {
namespace {

struct Flags {
  std::string dir;
  uint32_t keys_per_batch = 16;
  uint64_t max_batches = 0;  // 0: until killed
  bool progress = false;
  bool split_batches = false;
  int split_pause_ms = 0;
};

[[noreturn]] void Fail(const std::string& message) {
  std::fprintf(stderr, "storage_crash_writer: %s\n", message.c_str());
  std::exit(1);
}

Flags ParseFlags(int argc, char** argv) {
  Flags flags;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) Fail(arg + " needs a value");
      return argv[++i];
    };
    if (arg == "--dir") {
      flags.dir = value();
    } else if (arg == "--keys") {
      flags.keys_per_batch = static_cast<uint32_t>(std::stoul(value()));
    } else if (arg == "--max-batches") {
      flags.max_batches = std::stoull(value());
    } else if (arg == "--progress") {
      flags.progress = true;
    } else if (arg == "--split-batches") {
      flags.split_batches = true;
    } else if (arg == "--split-pause-ms") {
      flags.split_pause_ms = std::stoi(value());
    } else {
      Fail("unknown flag " + arg);
    }
  }
  if (flags.dir.empty()) Fail("--dir is required");
  if (flags.keys_per_batch < 2) Fail("--keys must be at least 2");
  return flags;
}

void Report(const Flags& flags, const char* what, uint64_t height) {
  if (!flags.progress) return;
  std::printf("%s %llu\n", what, static_cast<unsigned long long>(height));
  std::fflush(stdout);
}

void WriteOrDie(KvStore& store, const WriteBatch& batch) {
  Status s = store.Write(batch, /*sync=*/true);
  if (!s.ok()) Fail(s.ToString());
}

int Run(const Flags& flags) {
  Result<std::unique_ptr<KvStore>> opened = OpenLevelDb(flags.dir);
  if (!opened.ok()) Fail(opened.status().ToString());
  KvStore& store = **opened;

  Result<std::optional<std::string>> pointer = store.Get(keys::CommitHeightKey());
  if (!pointer.ok()) Fail(pointer.status().ToString());
  uint64_t height = 0;
  if (pointer->has_value()) {
    Result<uint64_t> decoded = keys::DecodeHeight(**pointer);
    if (!decoded.ok()) Fail(decoded.status().ToString());
    height = *decoded;
  }
  Report(flags, "open", height);

  const uint32_t half = flags.keys_per_batch / 2;
  for (uint64_t written = 0; flags.max_batches == 0 || written < flags.max_batches; ++written) {
    const uint64_t k = ++height;
    WriteBatch batch;
    for (uint32_t i = 0; i < flags.keys_per_batch; ++i) {
      if (flags.split_batches && i == half) {
        WriteOrDie(store, batch);
        batch.Clear();
        Report(flags, "half", k);
        std::this_thread::sleep_for(std::chrono::milliseconds(flags.split_pause_ms));
      }
      batch.Put(BatchKey(k, i), BatchValue(k, i));
    }
    batch.Put(keys::CommitHeightKey(), keys::EncodeHeight(k));
    WriteOrDie(store, batch);
    Report(flags, "committed", k);
  }
  return 0;
}

}  // namespace
}  // namespace reel::storage::crash

int main(int argc, char** argv) {
  return reel::storage::crash::Run(reel::storage::crash::ParseFlags(argc, argv));
}
