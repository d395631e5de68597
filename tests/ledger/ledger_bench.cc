// Ledger throughput and latency (Google Benchmark; not run by CTest):
//   - BM_ExecuteBlock: blocks of 1,000 mixed custody transactions (extract, offer,
//     accept, process) executed on LevelDB on disk and written with the block's synced
//     batch, as the node does. Signing and signature checks are outside the timing.
//     Goal: 50,000 tx/s.
//   - BM_TraceMagnet: the upstream trace of a magnet with 6 levels and about 1,000
//     ancestors on LevelDB, one page of 1,000 nodes. Goal: < 20 ms.
#include <benchmark/benchmark.h>

#include "node/ledger/queries.h"
#include "node/storage/leveldb_store.h"
#include "tests/ledger/ledger_test_util.h"

namespace reel::ledger::testing {
namespace {

std::unique_ptr<storage::KvStore> OpenIn(const ::reel::testing::TempDir& dir) {
  return std::move(storage::OpenLevelDb(dir.Sub("db")).value());
}

void BigQuotas(CustodyWorld& w) {
  w.SetupCast();
  for (auto [org, c] : {std::pair{"mineco", v1::QUOTA_CATEGORY_MINING_LIGHT},
                        {"smelter", v1::QUOTA_CATEGORY_SMELTING_SEPARATION}}) {
    w.Ok(w.Quota(org, 2025, c, 1'000'000'000'000'000));
  }
}

std::vector<VerifiedTx> Prepare(CustodyWorld& w, const std::vector<v1::TxBody>& bodies) {
  std::vector<VerifiedTx> txs;
  txs.reserve(bodies.size());
  for (const v1::TxBody& b : bodies) txs.push_back(w.Verified(w.Sign(b)));
  return txs;
}

void BM_ExecuteBlock(benchmark::State& state) {
  ::reel::testing::TempDir dir("ledger-bench");
  CustodyWorld w(OpenIn(dir));
  BigQuotas(w);
  int round = 0;
  std::vector<std::string> extracted, received;
  std::vector<std::pair<std::string, std::string>> offered;  // offer, lot
  int64_t txs = 0, failed = 0;
  for (auto _ : state) {
    state.PauseTiming();
    // 300 offers of the last round's ore, 300 accepts of the last round's offers,
    // 100 separations of received ore, 300 extractions.
    std::vector<v1::TxBody> bodies;
    std::vector<std::pair<std::string, std::string>> offers;
    for (const std::string& lot : extracted) {
      const std::string offer = "OF-" + lot;
      bodies.push_back(w.Offer("mineco", offer, {lot}, "smelter"));
      offers.emplace_back(offer, lot);
    }
    std::vector<std::string> accepted;
    for (const auto& [offer, lot] : offered) {
      bodies.push_back(w.AcceptOffer("smelter", offer));
      accepted.push_back(lot);
    }
    for (size_t i = 0; i < received.size() && i < 100; ++i) {
      bodies.push_back(w.Process("smelter", {received[i]},
                                 {{"OX-" + received[i], v1::PRODUCT_FORM_SEPARATED_OXIDE, 80,
                                   Comp({{v1::ELEMENT_ND, 70}})}}));
    }
    extracted.clear();
    while (bodies.size() < 1000) {
      const std::string lot = "E" + std::to_string(round) + "-" + std::to_string(bodies.size());
      bodies.push_back(
          w.Extract(lot, "mine-a", 1000, Comp({{v1::ELEMENT_PR, 20}, {v1::ELEMENT_ND, 80}})));
      if (extracted.size() < 300) extracted.push_back(lot);
    }
    std::vector<VerifiedTx> prepared = Prepare(w, bodies);
    offered = std::move(offers);
    received = std::move(accepted);
    ++round;
    w.set_time_ms(w.time_ms());  // Execute advances the block time by a second
    state.ResumeTiming();
    for (const v1::TxResult& r : w.Execute(prepared)) failed += r.code() != v1::OK;
    txs += static_cast<int64_t>(prepared.size());
  }
  state.SetItemsProcessed(txs);
  state.counters["failed"] = static_cast<double>(failed);
  w.ReplaceStore(nullptr);
}
BENCHMARK(BM_ExecuteBlock)->Unit(benchmark::kMillisecond)->UseRealTime();

// Level by level, each step merging `fan` lots into one, up to one magnet.
void BuildMagnet(CustodyWorld& w) {
  BigQuotas(w);
  auto level = [&](const std::string& signer, std::vector<std::string> in, int fan,
                   v1::ProductForm form, const std::string& prefix) {
    std::vector<v1::TxBody> bodies;
    std::vector<std::string> out;
    for (size_t i = 0; i < in.size(); i += fan) {
      std::vector<std::string> group(in.begin() + i, in.begin() + std::min(in.size(), i + fan));
      const std::string id = prefix + std::to_string(i / fan);
      bodies.push_back(w.Process(signer, group, {{id, form, 1000, Comp({{v1::ELEMENT_ND, 1}})}}));
      out.push_back(id);
    }
    for (size_t i = 0; i < bodies.size(); i += 500) {
      w.Block(std::vector<v1::TxBody>(bodies.begin() + i,
                                      bodies.begin() + std::min(bodies.size(), i + 500)));
    }
    return out;
  };
  std::vector<v1::TxBody> extracts;
  std::vector<std::string> ores;
  for (int i = 0; i < 600; ++i) {
    ores.push_back("ORE" + std::to_string(i));
    extracts.push_back(
        w.Extract(ores.back(), i % 2 ? "mine-a" : "mine-b", 1000, Comp({{v1::ELEMENT_ND, 10}})));
  }
  w.Ok(w.Quota("mineco", 2025, v1::QUOTA_CATEGORY_MINING_MEDIUM_HEAVY, 1'000'000'000));
  w.Block(extracts);
  std::vector<std::string> conc = level("mineco", ores, 3, v1::PRODUCT_FORM_CONCENTRATE, "CON");
  w.Transfer("mineco", "OF-CON", conc, "smelter");
  std::vector<std::string> mixed = level("smelter", conc, 2, v1::PRODUCT_FORM_MIXED_OXIDE, "MIX");
  std::vector<std::string> sep =
      level("smelter", mixed, 2, v1::PRODUCT_FORM_SEPARATED_OXIDE, "SEP");
  w.Transfer("smelter", "OF-SEP", sep, "magnets");
  std::vector<std::string> metal = level("magnets", sep, 2, v1::PRODUCT_FORM_METAL, "MET");
  level("magnets", metal, 25, v1::PRODUCT_FORM_MAGNET, "MAG");
}

void BM_TraceMagnet(benchmark::State& state) {
  ::reel::testing::TempDir dir("ledger-trace");
  CustodyWorld w(OpenIn(dir));
  BuildMagnet(w);
  std::unique_ptr<storage::Snapshot> snap = w.store().GetSnapshot();
  Queries q(*snap);
  v1::TraceLotRequest req;
  req.set_lot_id("MAG0");
  req.set_direction(v1::TRACE_DIRECTION_UPSTREAM);
  req.set_page_size(1000);
  int nodes = 0;
  for (auto _ : state) {
    Result<v1::TraceLotResponse> r = q.TraceLot(req);
    if (!r.ok()) {
      state.SkipWithError(r.status().ToString().c_str());
      break;
    }
    nodes = r->nodes_size();
  }
  state.counters["nodes"] = nodes;
  snap.reset();
  w.ReplaceStore(nullptr);
}
BENCHMARK(BM_TraceMagnet)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace reel::ledger::testing

BENCHMARK_MAIN();
