// Throughput of the consensus core alone (consensus/core.h, sans I/O): how
// many blocks of 1,000 transactions the protocol state machine can certify
// and commit per second, with every signature really made and checked
// (Ed25519 proposals, votes and QCs) and every tx_root recomputed. No
// network, disk or real application: what is left is the core's own cost,
// an upper bound on what a node can reach. Not run by CTest.
//
// Four validators run in one process on the consensus tests' synchronous
// network (TestNet), as the core tests do: the leader of each round proposes
// a signed block whose QC holds the real votes of the round before, replicas
// verify and vote, and the next leader aggregates. One benchmark iteration is
// one block committed by replica 1 (the replica under test); everything the
// four cores do meanwhile is timed, so blocks_per_second is the rate of the
// whole network on one thread. Each core's own thread-CPU time is measured
// around its calls too, which gives what one replica would sustain on its own
// core (replica_blocks_per_cpu_second).
#include <benchmark/benchmark.h>
#include <time.h>

#include <array>
#include <cstdint>
#include <cstring>
#include <string>
#include <variant>
#include <vector>

#include "base/overloaded.h"
#include "consensus/core.h"
#include "tests/consensus/consensus_test_util.h"

namespace reel::consensus {
namespace {

using testing::TestApp;
using testing::TestConfig;
using testing::TestKey;
using testing::TestNet;

constexpr uint32_t kValidators = 4;
constexpr uint32_t kUnderTest = 1;
constexpr size_t kTxsPerBlock = 1000;
constexpr size_t kTxBytes = 200;
// Blocks replica 1 commits before timing starts: past the first rounds, where
// the chain is shorter than the two-chain commit rule needs.
constexpr uint64_t kWarmupBlocks = 4;

// TestApp (state root = H(prev root || block id), PayloadLeaf = Blake2b of
// the bytes) with full blocks: 1,000 opaque 200-byte transactions. Each is
// stamped with a counter so that no two transactions (and tx ids) repeat.
// Executed blocks are dropped: TestApp keeps them for the tests' chain
// comparisons, which would hold ~1 MB per committed block across four apps.
class BenchApp : public TestApp {
 public:
  Hash32 ExecuteCommitted(const Block& block, const QuorumCert& qc) override {
    Hash32 root = TestApp::ExecuteCommitted(block, qc);
    executed.clear();
    return root;
  }
  std::vector<std::string> PayloadForProposal(const std::vector<const Block*>&,
                                              const PayloadLimits&) override {
    std::vector<std::string> txs(kTxsPerBlock, std::string(kTxBytes, 't'));
    for (std::string& tx : txs) {
      const uint64_t n = next_tx_++;
      std::memcpy(tx.data(), &n, sizeof(n));
    }
    return txs;
  }

 private:
  uint64_t next_tx_ = 0;
};

uint64_t ThreadCpuNs() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000u + static_cast<uint64_t>(ts.tv_nsec);
}

// TestNet with BenchApps, a per-core CPU meter, and a count of the blocks
// replica 1 reports in its Commit actions (TestNet::Absorb drops them).
class BenchNet {
 public:
  BenchNet() : net_(0) {
    for (uint32_t i = 0; i < kValidators; ++i) {
      net_.apps.push_back(std::make_unique<BenchApp>());
      net_.cores.push_back(
          std::make_unique<Core>(TestConfig(kValidators, i), TestKey(i), net_.apps.back().get()));
    }
  }

  // Not TestNet::Start: its Run() to quiescence would never end, since with
  // pacing off and full payloads a leader always has a block to propose.
  void Start() {
    for (uint32_t i = 0; i < kValidators; ++i) {
      Core& core = *net_.cores[i];
      Handle(i, Timed(i, [&] { return core.OnStart(testing::FreshStart(), net_.now); }));
    }
  }

  // Delivers messages in order until replica 1 has committed `blocks` more.
  void CommitBlocks(uint64_t blocks) {
    const uint64_t target = committed_ + blocks;
    while (committed_ < target) {
      if (net_.queue.empty()) {
        stalled_ = true;  // cannot happen on a loss-free network; reported, not hung on
        return;
      }
      DeliverOne();
    }
  }

  // One simulated millisecond per block: block timestamps advance by at
  // least 1 ms each, and without a moving clock they would run past
  // block_timestamp_drift_ms_max and be refused. The 1 s round timer never fires.
  void Tick() {
    net_.now += 1;
    for (uint32_t i = 0; i < kValidators; ++i) {
      Core& core = *net_.cores[i];
      Handle(i, Timed(i, [&] { return core.OnTick(net_.now); }));
    }
  }

  uint64_t committed() const { return committed_; }
  uint64_t timeouts() const { return timeouts_; }
  bool stalled() const { return stalled_; }
  double CpuSeconds(uint32_t i) const { return static_cast<double>(cpu_ns_[i]) * 1e-9; }

 private:
  template <typename F>
  Step Timed(uint32_t i, F&& call) {
    const uint64_t start = ThreadCpuNs();
    Step step = call();
    cpu_ns_[i] += ThreadCpuNs() - start;
    return step;
  }

  void DeliverOne() {
    TestNet::Envelope e = std::move(net_.queue.front());
    net_.queue.pop_front();
    Core& core = *net_.cores[e.to];
    Step step = Timed(e.to, [&] {
      return std::visit(Overloaded{
                            [&](const Proposal& p) { return core.OnProposal(e.from, p); },
                            [&](const Vote& v) { return core.OnVote(e.from, v); },
                            [&](const Timeout& t) {
                              // A failed round: the figures would not be the happy path.
                              ++timeouts_;
                              return core.OnTimeout(e.from, t);
                            },
                        },
                        e.message);
    });
    Handle(e.to, std::move(step));
  }

  void Handle(uint32_t from, Step step) {
    if (from == kUnderTest) {
      for (const Action& a : step.actions) {
        if (auto* c = std::get_if<Commit>(&a)) committed_ += c->blocks.size();
      }
    }
    net_.Absorb(from, std::move(step));
  }

  TestNet net_;
  std::array<uint64_t, kValidators> cpu_ns_{};
  uint64_t committed_ = 0;
  uint64_t timeouts_ = 0;
  bool stalled_ = false;
};

void BM_CommitBlocks1000Txs(benchmark::State& state) {
  BenchNet net;
  net.Start();
  net.CommitBlocks(kWarmupBlocks);
  net.Tick();
  const uint64_t committed_before = net.committed();
  std::array<double, kValidators> cpu_before{};
  for (uint32_t i = 0; i < kValidators; ++i) cpu_before[i] = net.CpuSeconds(i);

  for (auto _ : state) {
    net.CommitBlocks(1);
    net.Tick();
  }

  if (net.stalled()) state.SkipWithError("network went quiet before committing");
  const double blocks = static_cast<double>(net.committed() - committed_before);
  state.counters["blocks_per_second"] = benchmark::Counter(blocks, benchmark::Counter::kIsRate);
  state.SetItemsProcessed(static_cast<int64_t>(blocks * kTxsPerBlock));  // tx/s
  double cpu_sum = 0;
  for (uint32_t i = 0; i < kValidators; ++i) {
    const double cpu = net.CpuSeconds(i) - cpu_before[i];
    cpu_sum += cpu;
    // ms of one core's CPU per committed block: leaders and next leaders
    // rotate, so over many blocks each replica does the same share of work.
    state.counters["r" + std::to_string(i) + "_cpu_ms_per_block"] = cpu * 1e3 / blocks;
  }
  // One replica on its own core: the average replica's CPU per block.
  const double replica_cpu = cpu_sum / kValidators;
  state.counters["replica_blocks_per_cpu_second"] = blocks / replica_cpu;
  state.counters["replica_tx_per_cpu_second"] = blocks * kTxsPerBlock / replica_cpu;
  state.counters["timeouts"] = static_cast<double>(net.timeouts());
}
BENCHMARK(BM_CommitBlocks1000Txs)->UseRealTime()->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace reel::consensus
