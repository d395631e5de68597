// Throughput of the hot crypto paths: signature checks of incoming
// transactions and votes, and the digests they cover. Not run by CTest.
#include <benchmark/benchmark.h>

#include <string>

#include "crypto/keys.h"
#include "crypto/merkle.h"
#include "crypto/signing.h"

namespace reel::crypto {
namespace {

void BM_Verify(benchmark::State& state) {
  KeyPair kp = KeyPair::Generate();
  Hash32 digest = TransactionId("reel-bench", std::string(512, 'b'));
  Signature sig = kp.SignDigest(digest);
  for (auto _ : state) benchmark::DoNotOptimize(Verify(kp.public_key(), digest, sig));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Verify);

void BM_SignDigest(benchmark::State& state) {
  KeyPair kp = KeyPair::Generate();
  Hash32 digest = TransactionId("reel-bench", "body");
  for (auto _ : state) benchmark::DoNotOptimize(kp.SignDigest(digest));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_SignDigest);

// Argument: size of the fields in bytes (a vote is 40; a body up to 64 KiB).
void BM_SigningDigest(benchmark::State& state) {
  std::string fields(static_cast<size_t>(state.range(0)), 'f');
  for (auto _ : state) {
    benchmark::DoNotOptimize(SigningDigest(Domain::kTransaction, "reel-bench", 0, fields));
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_SigningDigest)->Arg(40)->Arg(1024)->Arg(64 * 1024);

void BM_MerkleRoot(benchmark::State& state) {
  std::vector<Hash32> ids;
  for (int64_t i = 0; i < state.range(0); ++i) ids.push_back(Blake2b256(std::to_string(i)));
  for (auto _ : state) benchmark::DoNotOptimize(MerkleRoot(ids));
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_MerkleRoot)->Arg(2000);

}  // namespace
}  // namespace reel::crypto
