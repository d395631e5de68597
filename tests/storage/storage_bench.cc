// Synced batch writes of 1,000 puts on the LevelDB store: about what one committed
// block with a full state change costs. Not a test: nothing asserts a time.
#include <benchmark/benchmark.h>
#include <stdlib.h>

#include <filesystem>
#include <string>

#include "node/storage/keys.h"
#include "node/storage/leveldb_store.h"

namespace reel::storage {
namespace {

void BM_SyncedBatchOf1000Puts(benchmark::State& state) {
  std::string dir = "/tmp/reel-storage-bench-XXXXXX";
  if (mkdtemp(dir.data()) == nullptr) {
    state.SkipWithError("mkdtemp failed");
    return;
  }
  {
    Result<std::unique_ptr<KvStore>> store = OpenLevelDb(dir + "/db");
    if (!store.ok()) {
      state.SkipWithError(store.status().ToString().c_str());
      return;
    }
    const std::string value(static_cast<size_t>(state.range(0)), 'v');
    uint64_t height = 0;
    for (auto _ : state) {
      ++height;
      WriteBatch batch;
      for (uint32_t i = 0; i < 1000; ++i) {
        batch.Put(keys::StateKey(keys::EncodeHeight(height) + std::to_string(i)), value);
      }
      batch.Put(keys::CommitHeightKey(), keys::EncodeHeight(height));
      Status s = (*store)->Write(batch, /*sync=*/true);
      if (!s.ok()) state.SkipWithError(s.ToString().c_str());
    }
    state.SetItemsProcessed(state.iterations() * 1000);
  }
  std::filesystem::remove_all(dir);
}
BENCHMARK(BM_SyncedBatchOf1000Puts)->Arg(100)->Arg(1000)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace reel::storage
